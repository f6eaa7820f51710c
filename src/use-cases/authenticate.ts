/**
 * Who is calling: a session credential (`id.secret`, from the session cookie) or an access
 * token (a Bearer header or the hybrid access cookie), each checked against its live session
 * and an active user. One store round trip for both (`readSessionWithUser`), or none when the
 * near cache holds them; a due sliding-expiry write is not waited for.
 *
 * A credential that fails as a guess fails (one we never issued) counts against the client's
 * address (`credentialThrottle.failed`), which past its limit answers 429 instead of 401. Only
 * failures are counted, so a successful request makes no more store calls than before.
 */

import { isLatchkeyError, LatchkeyError } from '../errors.js';
import type { SessionRecord, UserRecord } from '../records.js';
import type { UseCaseContext } from './context.js';

/** An authenticated caller: the user, their session, and how the credential arrived. */
export interface Principal {
  user: UserRecord;
  session: SessionRecord;
  via: 'cookie' | 'bearer' | 'access-cookie';
  /** The client's address, when the caller knows it: security events name it. */
  ip?: string | undefined;
}

export interface Authenticator {
  /**
   * A cookie-mode session credential; slides the session's idle expiry. With `ip`, a credential
   * we never issued counts against that client (and may answer `too_many_requests`).
   */
  sessionToken(token: string, ip?: string): Promise<Principal>;
  /**
   * {@link sessionToken} when the near cache holds the session and its user: the same checks
   * and the same principal, synchronously (no promise on the hot path). Undefined when the
   * answer needs the store, and for every refusal (ask `sessionToken`, which counts a forged
   * credential and says why it refuses). Never throws.
   */
  sessionTokenFromCache(token: string, ip?: string): Principal | undefined;
  /** An access token of a session (`sid`); machine tokens (no `sid`) are refused. `ip` as above. */
  accessToken(token: string, via: 'bearer' | 'access-cookie', ip?: string): Promise<Principal>;
}

/**
 * Failures of the access-token verifier that only a token we signed can reach: the verifier
 * checks the times after the signature (`src/token/jwt-verifier.ts`), so such a token is ours,
 * only too old or too young. Every other `invalid_token` is a token we never issued.
 */
const ISSUED_TOKEN_FAILURES = new Set(['token expired', 'token not yet valid', 'iat in the future']);

/** A session credential that is malformed, unknown, or has a wrong secret or mode. */
const isForgedSession = (error: unknown): boolean => isLatchkeyError(error, 'unauthenticated');

const isForgedToken = (error: unknown): boolean =>
  isLatchkeyError(error, 'invalid_token') && !ISSUED_TOKEN_FAILURES.has(error.message);

/**
 * Authentication of the server's own endpoints.
 *
 * @example
 * const principal = await createAuthenticator(context).sessionToken(cookieValue, request.ip);
 */
export function createAuthenticator(context: UseCaseContext): Authenticator {
  const { sessions, accessTokens, credentialThrottle } = context;

  /** Runs `check`; a forged credential counts against `ip` before its refusal is rethrown. */
  async function counted<T>(
    ip: string | undefined,
    forged: (error: unknown) => boolean,
    check: () => T | Promise<T>,
  ): Promise<T> {
    try {
      return await check();
    } catch (error) {
      if (ip !== undefined && forged(error)) {
        // A count the store could not take never turns the refusal into a 503.
        await credentialThrottle.failed(ip).catch((countError: unknown) => {
          if (isLatchkeyError(countError, 'too_many_requests')) throw countError;
        });
      }
      throw error;
    }
  }

  return {
    async sessionToken(token, ip) {
      const { session, user } = await counted(ip, isForgedSession, () =>
        sessions.validateTokenWithUser(token, { mode: 'cookie' }),
      );
      return { user: await context.authenticatedUser(session.userId, user), session, via: 'cookie', ip };
    },

    sessionTokenFromCache(token, ip) {
      const found = sessions.validateTokenFromCache(token, { mode: 'cookie' });
      if (found === undefined) return undefined;
      const user = context.cachedActiveUser(found.session.userId);
      return user === undefined ? undefined : { user, session: found.session, via: 'cookie', ip };
    },

    async accessToken(token, via, ip) {
      const claims = await counted(ip, isForgedToken, () => accessTokens.verify(token));
      if (claims.sid === undefined) throw new LatchkeyError('invalid_token', 'token has no session');
      const { session, user } = await sessions.validateIdWithUser(claims.sid);
      if (session.userId !== claims.sub) {
        throw new LatchkeyError('invalid_token', 'token does not match its session');
      }
      return { user: await context.authenticatedUser(session.userId, user), session, via, ip };
    },
  };
}
