/**
 * Refresh: a refresh token for a new access token and its successor (rotation with a grace
 * window and reuse detection, RFC 9700 §4.14.2), from the body (token mode) or from the hybrid
 * refresh cookie (which rides along on its own, so it needs the session's CSRF token).
 *
 * Reads each record once: the refresh token, its session, the user. A token is refused before
 * anything changes when it comes through the other channel than its session's mode, or through
 * the cookie without the right CSRF token.
 *
 * Throttled (`credentialThrottle`): every refresh counts against its client and, once the token
 * is found, against its family (the session), each counted alongside a read so that it adds no
 * round trip; past either flood limit the refresh answers `too_many_requests` and nothing
 * changes. A token we never issued also counts as a failed authentication of the client.
 */

import { verifyCSRFToken } from '../csrf/csrf.js';
import { LatchkeyError } from '../errors.js';
import type { SessionRecord, UserRecord } from '../records.js';
import type { UseCaseContext } from './context.js';

export interface RefreshInput {
  /** The presented refresh token (`id.secret`). */
  token: string;
  /** `body` for token-mode clients (JSON body, OAuth token endpoint); `cookie` for hybrid. */
  channel: 'body' | 'cookie';
  /** The `X-CSRF-Token` header; required on the `cookie` channel. */
  csrfToken?: string | undefined;
  /** The client's address, for the flood and guessing limits. */
  ip: string;
}

export interface RefreshResult {
  user: UserRecord;
  session: SessionRecord;
  accessToken: { token: string; expiresIn: number };
  refreshToken: string;
}

const MODE_OF_CHANNEL = { body: 'token', cookie: 'hybrid' } as const;

/**
 * The refresh use case. Every refusal is `invalid_grant` (RFC 6749 §5.2), but a missing or
 * wrong CSRF token on the cookie channel, which is `csrf_failed`, and a throttled one, which is
 * `too_many_requests`. Reuse of a rotated token outside the grace window revokes the session and
 * logs `security.refresh_token_reuse`.
 *
 * @example
 * const refresh = createRefresh(context);
 * const result = await refresh({ token: body.refresh_token, channel: 'body', ip: request.ip });
 */
export function createRefresh(context: UseCaseContext): (input: RefreshInput) => Promise<RefreshResult> {
  const { store, logger, sessions, refreshTokens, accessTokens, csrfKey, credentialThrottle } = context;

  return async function refresh({ token, channel, csrfToken, ip }) {
    const [found] = await Promise.all([refreshTokens.find(token), credentialThrottle.refreshByClient(ip)]);
    if (found === null) {
      await credentialThrottle.failed(ip);
      throw new LatchkeyError('invalid_grant');
    }
    const { sessionId } = found.record;
    if (channel === 'cookie' && !verifyCSRFToken(csrfKey, sessionId, csrfToken)) {
      throw new LatchkeyError('csrf_failed');
    }
    const [session] = await Promise.all([
      store.getSession(sessionId),
      credentialThrottle.refreshOfFamily(sessionId, ip),
    ]);
    // A token presented through the wrong channel is refused before anything changes.
    if (session?.mode !== MODE_OF_CHANNEL[channel]) throw new LatchkeyError('invalid_grant');
    const check = await refreshTokens.rotate(found, session);
    if (check.kind === 'invalid') throw new LatchkeyError('invalid_grant');
    if (check.kind === 'reuse') {
      const revoked = await context.revokeSession(sessionId);
      logger.warn(
        { event: 'security.refresh_token_reuse', userId: session.userId, sessionId, revoked, ip },
        'refresh token reuse detected: session revoked',
      );
      throw new LatchkeyError('invalid_grant');
    }
    const touched = await sessions.touch(session);
    let user: UserRecord;
    try {
      user = await context.activeUser(touched.userId);
    } catch {
      throw new LatchkeyError('invalid_grant');
    }
    return {
      user,
      session: touched,
      accessToken: accessTokens.issue({ user, session: touched }),
      refreshToken: check.outcome.token,
    };
  };
}
