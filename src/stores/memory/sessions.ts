/** Sessions in the memory store; their refresh tokens are swept with them (see `session-state.ts`). */

import { LatchkeyError } from '../../errors.js';
import { isSessionLive, type SessionRecord } from '../../records.js';
import type { SessionStore } from '../../store.js';
import { compareCodePoints } from '../ordering.js';
import type { RunOperation } from './runner.js';
import { addToIndex } from './secondary-index.js';
import { deleteSessionNow, type SessionState } from './session-state.js';

/** Newest first: `createdAt` desc, then `id` desc (the order every store lists sessions in). */
function newestFirst(a: SessionRecord, b: SessionRecord): number {
  return b.createdAt - a.createdAt || compareCodePoints(b.id, a.id);
}

/**
 * Whether the sweep at `now` removes this session: expired (idle or absolute), or revoked at or
 * before `now`. Not `!isSessionLive`: a session revoked at a time later than `now` is kept.
 */
function isSweepable(session: SessionRecord, now: number): boolean {
  const revoked = session.revokedAt !== null && session.revokedAt <= now;
  return revoked || session.idleExpiresAt <= now || session.absoluteExpiresAt <= now;
}

/**
 * Creates the session operations of one memory store over `state`, shared with its refresh tokens.
 *
 * @example
 * const sessions = createMemorySessions(createSessionState(), createMemoryRunner().run);
 */
export function createMemorySessions(state: SessionState, run: RunOperation): SessionStore {
  const { sessions, sessionIdsByUser } = state;

  return {
    createSession(session: SessionRecord): Promise<void> {
      return run(() => {
        if (sessions.has(session.id)) {
          throw new LatchkeyError('internal_error', 'A session with this id already exists');
        }
        sessions.set(session.id, { ...session, amr: [...session.amr] });
        addToIndex(sessionIdsByUser, session.userId, session.id);
      });
    },

    getSession(id: string): Promise<SessionRecord | null> {
      return run(() => {
        const session = sessions.get(id);
        return session === undefined ? null : { ...session, amr: [...session.amr] };
      });
    },

    touchSession(id: string, update: { lastSeenAt: number; idleExpiresAt: number }): Promise<void> {
      return run(() => {
        const session = sessions.get(id);
        if (session === undefined || session.revokedAt !== null) return;
        session.lastSeenAt = update.lastSeenAt;
        session.idleExpiresAt = update.idleExpiresAt;
      });
    },

    revokeSession(id: string, at: number): Promise<boolean> {
      return run(() => {
        const session = sessions.get(id);
        if (session === undefined || session.revokedAt !== null) return false;
        session.revokedAt = at;
        return true;
      });
    },

    revokeUserSessions(userId: string, at: number, options?: { except?: string }): Promise<string[]> {
      return run(() => {
        const revoked: string[] = [];
        for (const id of sessionIdsByUser.get(userId) ?? []) {
          if (id === options?.except) continue;
          const session = sessions.get(id);
          if (session === undefined || session.revokedAt !== null) continue;
          session.revokedAt = at;
          revoked.push(id);
        }
        return revoked;
      });
    },

    listUserSessions(userId: string, now: number): Promise<SessionRecord[]> {
      return run(() => {
        const live: SessionRecord[] = [];
        for (const id of sessionIdsByUser.get(userId) ?? []) {
          const session = sessions.get(id);
          if (session !== undefined && isSessionLive(session, now)) live.push({ ...session });
        }
        return live.sort(newestFirst);
      });
    },

    deleteExpiredSessions(now: number): Promise<number> {
      return run(() => {
        let removed = 0;
        // Deleting the entry being visited is safe while iterating a Map.
        for (const session of sessions.values()) {
          if (!isSweepable(session, now)) continue;
          deleteSessionNow(state, session);
          removed += 1;
        }
        return removed;
      });
    },
  };
}
