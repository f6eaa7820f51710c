/** Refresh tokens in the memory store, filed under their session (see `session-state.ts`). */

import { LatchkeyError } from '../../errors.js';
import type { RefreshTokenRecord } from '../../records.js';
import type { RefreshTokenStore } from '../../store.js';
import type { RunOperation } from './runner.js';
import { storeRefreshToken, type SessionState } from './session-state.js';

/** Rejects a refresh token id that is taken, like every duplicate id in this store. */
function assertRefreshTokenIdFree(state: SessionState, id: string): void {
  if (state.refreshTokens.has(id)) {
    throw new LatchkeyError('internal_error', 'A refresh token with this id already exists');
  }
}

/**
 * Creates the refresh-token operations of one memory store over `state`, shared with its sessions.
 *
 * @example
 * const tokens = createMemoryRefreshTokens(state, run);
 */
export function createMemoryRefreshTokens(state: SessionState, run: RunOperation): RefreshTokenStore {
  return {
    createRefreshToken(token: RefreshTokenRecord): Promise<void> {
      return run(() => {
        assertRefreshTokenIdFree(state, token.id);
        storeRefreshToken(state, token);
      });
    },

    getRefreshToken(id: string): Promise<RefreshTokenRecord | null> {
      return run(() => {
        const token = state.refreshTokens.get(id);
        return token === undefined ? null : { ...token };
      });
    },

    rotateRefreshToken(oldId: string, successor: RefreshTokenRecord, at: number): Promise<boolean> {
      return run(() => {
        const old = state.refreshTokens.get(oldId);
        if (old === undefined || old.rotatedAt !== null) return false;
        // Checked before anything is written: all or nothing.
        assertRefreshTokenIdFree(state, successor.id);
        old.rotatedAt = at;
        old.successorId = successor.id;
        storeRefreshToken(state, successor);
        return true;
      });
    },
  };
}
