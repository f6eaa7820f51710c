/** A signed-in user's sessions: sign out, list, revoke one, revoke all. */

import { LatchkeyError } from '../errors.js';
import type { SessionRecord } from '../records.js';
import type { Principal } from './authenticate.js';
import type { UseCaseContext } from './context.js';

export interface SessionUseCases {
  /** Revokes the caller's session (every token of it). */
  logout(principal: Principal): Promise<void>;
  /** The caller's live sessions, newest first. */
  listSessions(principal: Principal): Promise<SessionRecord[]>;
  /** Revokes one of the caller's sessions; `not_found` for anyone else's, or a dead one. */
  revokeSession(principal: Principal, sessionId: string): Promise<void>;
  /**
   * Revokes every session of the caller (but the current one with `keepCurrent`); without it,
   * also every access token of the user issued until now. Returns how many sessions.
   */
  revokeAllSessions(principal: Principal, options: { keepCurrent: boolean }): Promise<number>;
}

/**
 * @example
 * const { logout } = createSessionUseCases(context);
 * await logout(principal);
 */
export function createSessionUseCases(context: UseCaseContext): SessionUseCases {
  const { store, clock, logger, sessions, revocations } = context;
  return {
    async logout(principal) {
      await context.revokeSession(principal.session.id);
      logger.info(
        {
          event: 'logout',
          userId: principal.user.id,
          sessionId: principal.session.id,
          ip: principal.ip,
          userAgent: principal.session.userAgent,
        },
        'logged out',
      );
    },

    listSessions(principal) {
      return store.listUserSessions(principal.user.id, clock());
    },

    async revokeSession(principal, sessionId) {
      const session = await store.getSession(sessionId);
      // Someone else's session is "not found", never "forbidden": ids of others are not confirmed.
      if (session === null || session.userId !== principal.user.id || !sessions.isLive(session)) {
        throw new LatchkeyError('not_found', 'No such session');
      }
      await context.revokeSession(sessionId);
      logger.info(
        {
          event: 'session.revoke',
          userId: principal.user.id,
          sessionId,
          by: principal.session.id,
          ip: principal.ip,
          userAgent: principal.session.userAgent,
        },
        'session revoked',
      );
    },

    async revokeAllSessions(principal, { keepCurrent }) {
      const userId = principal.user.id;
      const count = await context.revokeUserSessions(userId, keepCurrent ? principal.session.id : undefined);
      if (!keepCurrent) await revocations.userRevoked(userId);
      logger.info(
        {
          event: 'session.revoke_all',
          userId,
          sessionId: principal.session.id,
          count,
          keepCurrent,
          ip: principal.ip,
          userAgent: principal.session.userAgent,
        },
        'sessions revoked',
      );
      return count;
    },
  };
}
