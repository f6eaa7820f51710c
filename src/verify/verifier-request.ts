/**
 * Reading a request: its headers (node's, Express's, Fastify's or fetch's), the RFC 6750
 * syntax of `Authorization: Bearer`, the names of the auth server's cookies, and what a
 * request authenticated by a cookie must also pass (CSRF).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1 Bearer tokens in the Authorization header
 */

import { CSRF_HEADER, isUnsafeMethod, verifyCSRFToken } from '../csrf/csrf.js';
import { LatchkeyError } from '../errors.js';
import type { AuthenticateRequest, Principal } from './verifier-types.js';

/**
 * The name of the cookie-mode session cookie the auth server sets.
 *
 * @example
 * const session = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
 * @see https://www.rfc-editor.org/rfc/rfc6265#section-4.1 the Cookie header
 */
export const SESSION_COOKIE = '__Host-latchkey_session';

/**
 * The name of the hybrid-mode access cookie the auth server sets.
 *
 * @example
 * const token = parseCookies(request.headers.cookie).get(ACCESS_COOKIE);
 * @see https://www.rfc-editor.org/rfc/rfc6265#section-4.1 the Cookie header
 */
export const ACCESS_COOKIE = '__Host-latchkey_access';

/** The syntax of the header: RFC 6750 §2.1 `b64token`, with spaces around it tolerated. */
const BEARER = /^Bearer +[A-Za-z0-9\-._~+/]+=* *$/i;

/**
 * The error for an `Authorization` header that is not a Bearer token.
 *
 * @example
 * if (token === null) throw notBearer();
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 */
export function notBearer(): LatchkeyError {
  return new LatchkeyError('invalid_token', 'The Authorization header is not a Bearer token');
}

/**
 * Throws `notBearer()` unless `header` has the RFC 6750 syntax of a Bearer credential.
 *
 * @example
 * checkBearerSyntax(request.headers.authorization);
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export function checkBearerSyntax(header: string): void {
  if (!BEARER.test(header)) throw notBearer();
}

/**
 * What `BEARER` would capture as the token: after `Bearer` (in any case) and its spaces, up to
 * the trailing spaces; null when there is no such token. The characters are not checked here
 * (see `verifyToken`), so that a cache hit does not scan the token.
 *
 * @example
 * bearerCandidate('Bearer eyJ...  '); // 'eyJ...'
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export function bearerCandidate(header: string): string | null {
  if (
    header.length < 8 ||
    (header.charCodeAt(0) | 0x20) !== 0x62 /* b */ ||
    (header.charCodeAt(1) | 0x20) !== 0x65 /* e */ ||
    (header.charCodeAt(2) | 0x20) !== 0x61 /* a */ ||
    (header.charCodeAt(3) | 0x20) !== 0x72 /* r */ ||
    (header.charCodeAt(4) | 0x20) !== 0x65 /* e */ ||
    (header.charCodeAt(5) | 0x20) !== 0x72 /* r */ ||
    header.charCodeAt(6) !== 0x20
  ) {
    return null;
  }
  let start = 7;
  let end = header.length;
  while (start < end && header.charCodeAt(start) === 0x20) start++;
  while (end > start && header.charCodeAt(end - 1) === 0x20) end--;
  return end > start ? header.slice(start, end) : null;
}

/**
 * The first value of header `name` (lower case) in a fetch `Headers` or a plain object of them.
 *
 * @example
 * readHeader(request.headers, 'authorization');
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-5
 */
export function readHeader(headers: AuthenticateRequest['headers'], name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Readonly<Record<string, string | readonly string[] | undefined>>)[name];
  if (typeof value === 'string') return value;
  return value?.[0];
}

/**
 * What a request that authenticated with a cookie must also pass: CSRF on unsafe methods.
 * `csrfKey` is null when the service was given none: such requests are then refused.
 *
 * @example
 * return checkCookieRequest(request, principal, csrfKey);
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html
 */
export function checkCookieRequest(
  request: AuthenticateRequest,
  principal: Principal,
  csrfKey: Uint8Array | null,
): Principal {
  if (isUnsafeMethod(request.method)) {
    if (readHeader(request.headers, 'sec-fetch-site')?.toLowerCase() === 'cross-site') {
      throw new LatchkeyError('cross_site_request', 'Cross-site requests with a cookie are refused');
    }
    if (csrfKey === null) {
      throw new LatchkeyError(
        'csrf_failed',
        'This service cannot check X-CSRF-Token; send the access token as a Bearer token',
      );
    }
    const csrf = readHeader(request.headers, CSRF_HEADER);
    if (principal.sid === null || !verifyCSRFToken(csrfKey, principal.sid, csrf)) {
      throw new LatchkeyError(
        'csrf_failed',
        csrf === undefined ? 'X-CSRF-Token is missing' : 'X-CSRF-Token is invalid',
      );
    }
  }
  return principal;
}
