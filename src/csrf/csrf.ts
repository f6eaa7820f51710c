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

/** The origin (`scheme://host[:port]`, lower case) of a URL, or null when it has none. */
function originOf(url: string): string | null {
  try {
    const { origin } = new URL(url);
    return origin === 'null' ? null : origin.toLowerCase();
  } catch {
    return null;
  }
}

/**
 * Decides whether an unsafe request may proceed given its `Sec-Fetch-Site`, `Origin` and
 * `Referer` headers. Any signal that says cross-site refuses the request, even when another says
 * same-origin (a browser never sends such a mix; a forged or proxied request might):
 * - `Sec-Fetch-Site: cross-site` or `same-site` needs an `Origin` from `allowedOrigins` (the
 *   server's own origin would be `same-origin`);
 * - an `Origin` must be the server's own or an allowed one, exactly (scheme, host and port;
 *   `null`, the other scheme or a look-alike host are refused);
 * - a `Referer`, with or without an `Origin`, must come from one of the same origins.
 * Requests from non-browser clients carry none of these and are allowed: they cannot ride a
 * victim's cookies.
 *
 * @example
 * checkRequestOrigin({ origin: 'https://auth.example', secFetchSite: 'cross-site' }, { ownOrigin: 'https://auth.example', allowedOrigins: [] });
 * // { allowed: false, reason: 'Sec-Fetch-Site cross-site without an allowed Origin' }
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html#fetch-metadata-headers
 */
export function checkRequestOrigin(
  headers: { origin?: string | undefined; secFetchSite?: string | undefined; referer?: string | undefined },
  policy: OriginPolicy,
): OriginVerdict {
  const site = headers.secFetchSite?.toLowerCase();
  const origin = headers.origin?.toLowerCase();
  const own = policy.ownOrigin.toLowerCase();
  const isAllowed = (value: string): boolean =>
    policy.allowedOrigins.some((allowed) => allowed.toLowerCase() === value);
  if (origin === 'null') return { allowed: false, reason: 'Origin null is refused' };
  if (origin !== undefined && origin !== own && !isAllowed(origin)) {
    return { allowed: false, reason: 'Origin is not allowed' };
  }
  if ((site === 'cross-site' || site === 'same-site') && (origin === undefined || !isAllowed(origin))) {
    return { allowed: false, reason: `Sec-Fetch-Site ${site} without an allowed Origin` };
  }
  if (headers.referer !== undefined) {
    const from = originOf(headers.referer);
    if (from === null || (from !== own && !isAllowed(from))) {
      return { allowed: false, reason: 'Referer is not from an allowed origin' };
    }
  }
  return { allowed: true };
}
