/**
 * The answer to a sign-in, whichever flow ended in one (a login, a second factor, a renewed
 * session after a password or factor change): in its session's mode, the session cookie, the
 * token response, or the hybrid cookies; the CSRF token for the cookie modes.
 */

import type { FastifyReply } from 'fastify';
import type { Latchkey } from '../app/latchkey.js';
import { createCSRFToken } from '../csrf/csrf.js';
import { LatchkeyError } from '../errors.js';
import type { SignedIn } from '../use-cases/index.js';
import { sessionCookie, setHybridCookies, type CookieNames } from './auth-cookies.js';
import { publicUser, sessionSummary, tokenResponse } from './documents.js';

export interface SignedInOptions {
  /** More `Set-Cookie` values (the device cookie). */
  cookies?: string[];
  /** More members of the JSON answer (recovery codes); never credentials of another kind. */
  body?: Record<string, unknown>;
}

/** The function that sends a sign-in for one server. */
export type SendSignedIn = (reply: FastifyReply, result: SignedIn, options?: SignedInOptions) => FastifyReply;

/**
 * @example
 * const sendSignedIn = signedInSender(latchkey, names);
 * return sendSignedIn(reply, await auth.login(input), { cookies: [deviceCookie(names, nonce)] });
 */
export function signedInSender(latchkey: Latchkey, names: CookieNames): SendSignedIn {
  const { clock, csrfKey } = latchkey;
  return (reply, result, options = {}) => {
    const extra = options.cookies ?? [];
    const user = publicUser(result.user);
    const session = sessionSummary(result.session);
    const { mode } = result.session;
    const more = options.body ?? {};
    if (mode === 'cookie') {
      void reply.header('set-cookie', [
        sessionCookie(names, result.sessionToken, result.session, clock()),
        ...extra,
      ]);
      return reply.send({ ...more, user, session, csrf_token: createCSRFToken(csrfKey, result.session.id) });
    }
    const { accessToken, refreshToken } = result;
    if (accessToken === null || refreshToken === null) throw new LatchkeyError('internal_error');
    if (mode === 'hybrid') {
      setHybridCookies(reply, names, { accessToken, refreshToken, session: result.session }, clock(), extra);
      return reply.send({
        ...more,
        user,
        session,
        csrf_token: createCSRFToken(csrfKey, result.session.id),
        expires_in: accessToken.expiresIn,
      });
    }
    if (extra.length > 0) void reply.header('set-cookie', extra);
    return reply.send({ ...more, ...tokenResponse({ accessToken, refreshToken }), user, session });
  };
}
