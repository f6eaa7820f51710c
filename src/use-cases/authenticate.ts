/**
 * Who is calling: a session credential (`id.secret`, from the session cookie) or an access
 * token (a Bearer header or the hybrid access cookie), each checked against its live session
 * and an active user. One store read per record: the session, then the user (either may come
 * from the near cache).
 */

import { LatchkeyError } from '../errors.js';
import type { SessionRecord, UserRecord } from '../records.js';
import type { UseCaseContext } from './context.js';

/** An authenticated caller: the user, their session, and how the credential arrived. */
export interface Principal {
  user: UserRecord;
  session: SessionRecord;
  via: 'cookie' | 'bearer' | 'access-cookie';
}

export interface Authenticator {
  /** A cookie-mode session credential; slides the session's idle expiry. */
  sessionToken(token: string): Promise<Principal>;
  /** An access token of a session (`sid`); machine tokens (no `sid`) are refused. */
  accessToken(token: string, via: 'bearer' | 'access-cookie'): Promise<Principal>;
}

/**
 * Authentication of the server's own endpoints.
 *
 * @example
 * const principal = await createAuthenticator(context).sessionToken(cookieValue);
 */
export function createAuthenticator(context: UseCaseContext): Authenticator {
  const { sessions, accessTokens } = context;
  return {
    async sessionToken(token) {
      const session = await sessions.validateToken(token, { mode: 'cookie' });
      return { user: await context.authenticatedUser(session.userId), session, via: 'cookie' };
    },

    async accessToken(token, via) {
      const claims = accessTokens.verify(token);
      if (claims.sid === undefined) throw new LatchkeyError('invalid_token', 'token has no session');
      const session = await sessions.validateId(claims.sid);
      if (session.userId !== claims.sub) {
        throw new LatchkeyError('invalid_token', 'token does not match its session');
      }
      return { user: await context.authenticatedUser(session.userId), session, via };
    },
  };
}
