import { constantTimeEqual, hmacSha256 } from '../lib/secrets.js';

/**
 * CSRF defence for cookie-authenticated requests, in two layers (OWASP CSRF cheat sheet):
 * 1. a synchronizer token bound to the session: HMAC(csrfKey, session id), sent back by the
 *    client in `X-CSRF-Token` on every unsafe method; nothing extra is stored;
 * 2. Fetch Metadata and Origin checks that refuse cross-site requests before any work is done.
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html
 */

export const CSRF_HEADER = 'x-csrf-token';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isUnsafeMethod(method: string): boolean {
  return UNSAFE_METHODS.has(method.toUpperCase());
}

/** The CSRF token of a session. Deterministic, so every node derives the same one. */
export function createCSRFToken(csrfKey: Uint8Array, sessionId: string): string {
  return hmacSha256(csrfKey, `csrf:${sessionId}`);
}

export function verifyCSRFToken(csrfKey: Uint8Array, sessionId: string, token: string | undefined): boolean {
  if (token === undefined || token.length === 0 || token.length > 128) return false;
  return constantTimeEqual(createCSRFToken(csrfKey, sessionId), token);
}

export interface OriginPolicy {
  /** The server's own origin. */
  ownOrigin: string;
  /** Other origins allowed to send credentialed unsafe requests. */
  allowedOrigins: readonly string[];
}

export type OriginVerdict = { allowed: true } | { allowed: false; reason: string };

/**
 * Decides whether an unsafe request may proceed given its `Sec-Fetch-Site` and `Origin`
 * headers. Requests from non-browser clients carry neither and are allowed (they cannot ride a
 * victim's cookies). `Origin: null` (sandboxed frames, redirects, file:) is always refused.
 */
export function checkRequestOrigin(
  headers: { origin?: string | undefined; secFetchSite?: string | undefined },
  policy: OriginPolicy,
): OriginVerdict {
  const origin = headers.origin;
  const site = headers.secFetchSite?.toLowerCase();
  if (origin !== undefined) {
    if (origin === 'null') return { allowed: false, reason: 'Origin null is refused' };
    if (origin !== policy.ownOrigin && !policy.allowedOrigins.includes(origin)) {
      return { allowed: false, reason: 'Origin is not allowed' };
    }
    return { allowed: true };
  }
  // No Origin: trust Fetch Metadata when the browser sent it.
  if (site === 'cross-site' || site === 'same-site') {
    return { allowed: false, reason: `Sec-Fetch-Site ${site} without an allowed Origin` };
  }
  return { allowed: true };
}
