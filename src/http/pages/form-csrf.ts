/**
 * CSRF tokens of the pages' forms, in a hidden `csrf_token` field.
 *
 * - Signed in: the session's synchronizer token (`csrf/`, the same HMAC of the session id the API
 *   takes in `X-CSRF-Token`).
 * - Not signed in yet (sign in, create account: login CSRF): a signed double-submit token. The
 *   browser holds a random nonce in an HttpOnly `SameSite=Strict` `__Host-` cookie; the form holds
 *   `issuedAt.HMAC(csrfKey, nonce, issuedAt)`. A post needs both, matching and younger than
 *   {@link FORM_TOKEN_TTL}. Another site can neither read the cookie nor, without the server's
 *   key, make a token for a nonce it planted; the `__Host-` prefix stops a sibling subdomain
 *   from planting one.
 *
 * The Origin / Fetch-Metadata check of `../server.ts` runs before either.
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html#signed-double-submit-cookie-recommended
 */

import type { FastifyReply, FastifyRequest } from 'fastify';
import { serializeCookie } from '../../cookies/cookies.js';
import { createCSRFToken, verifyCSRFToken } from '../../csrf/csrf.js';
import { constantTimeEqual, hmacSha256, randomSecret } from '../../lib/secrets.js';
import type { CookieNames } from '../auth-cookies.js';

/** How long a sign-in or sign-up form stays good once rendered. */
export const FORM_TOKEN_TTL = 2 * 3_600_000;

/** The name of the pre-session cookie, per cookie mode. */
export function formCookieName(names: CookieNames): string {
  return names.secure ? '__Host-latchkey_form' : 'latchkey_form';
}

const NONCE = /^[A-Za-z0-9_-]{43}$/;

function sign(key: Uint8Array, nonce: string, issuedAt: number): string {
  return hmacSha256(key, `login-csrf:${nonce}:${issuedAt}`);
}

export interface PreSessionCSRF {
  /**
   * A token for a form about to be rendered, over the browser's nonce cookie (made and set on
   * `reply` when the request has none).
   */
  issue(request: FastifyRequest, reply: FastifyReply): string;
  /** True when `token` was made by {@link issue} for this browser's nonce, less than the TTL ago. */
  verify(request: FastifyRequest, token: string | undefined): boolean;
}

/**
 * @example
 * const csrf = createPreSessionCSRF({ key: latchkey.csrfKey, names, clock: latchkey.clock });
 * const token = csrf.issue(request, reply); // into <input type="hidden" name="csrf_token">
 */
export function createPreSessionCSRF(options: {
  key: Uint8Array;
  names: CookieNames;
  clock: () => number;
}): PreSessionCSRF {
  const { key, names, clock } = options;
  const cookieName = formCookieName(names);
  return {
    issue(request, reply) {
      let nonce = request.cookies.get(cookieName);
      if (nonce === undefined || !NONCE.test(nonce)) {
        nonce = randomSecret();
        void reply.header(
          'set-cookie',
          serializeCookie(cookieName, nonce, {
            httpOnly: true,
            secure: names.secure,
            sameSite: 'Strict',
            path: '/',
          }),
        );
      }
      const issuedAt = clock();
      return `${issuedAt}.${sign(key, nonce, issuedAt)}`;
    },

    verify(request, token) {
      const nonce = request.cookies.get(cookieName);
      if (nonce === undefined || !NONCE.test(nonce) || token === undefined) return false;
      const match = /^(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(token);
      if (match?.[1] === undefined || match[2] === undefined) return false;
      const issuedAt = Number(match[1]);
      const age = clock() - issuedAt;
      if (age > FORM_TOKEN_TTL || age < -60_000) return false;
      return constantTimeEqual(sign(key, nonce, issuedAt), match[2]);
    },
  };
}

/** The hidden-field token of a signed-in session's forms. */
export function sessionFormToken(key: Uint8Array, sessionId: string): string {
  return createCSRFToken(key, sessionId);
}

/** True when a signed-in form carries its session's token. */
export function verifySessionFormToken(
  key: Uint8Array,
  sessionId: string,
  token: string | undefined,
): boolean {
  return verifyCSRFToken(key, sessionId, token);
}
