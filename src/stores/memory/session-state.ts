/**
 * The state that sessions and refresh tokens share. They live together because sweeping a
 * session also drops its refresh tokens, in the same synchronous step.
 */

import type { RefreshTokenRecord, SessionRecord } from '../../records.js';
import { addToIndex, removeFromIndex, type SecondaryIndex } from './secondary-index.js';

/** Sessions and refresh tokens of one memory store, with the indexes that keep sweeps cheap. */
export interface SessionState {
  readonly sessions: Map<string, SessionRecord>;
  readonly sessionIdsByUser: SecondaryIndex;
  readonly refreshTokens: Map<string, RefreshTokenRecord>;
  readonly refreshTokenIdsBySession: SecondaryIndex;
}

/**
 * Creates empty session state.
 *
 * @example
 * const state = createSessionState();
 */
export function createSessionState(): SessionState {
  return {
    sessions: new Map(),
    sessionIdsByUser: new Map(),
    refreshTokens: new Map(),
    refreshTokenIdsBySession: new Map(),
  };
}

/**
 * Stores a copy of `token` and files it under its session. The caller has checked that the id
 * is free.
 *
 * @example
 * storeRefreshToken(state, successor);
 */
export function storeRefreshToken(state: SessionState, token: RefreshTokenRecord): void {
  state.refreshTokens.set(token.id, { ...token });
  addToIndex(state.refreshTokenIdsBySession, token.sessionId, token.id);
}

/**
 * Removes a session and, through the index, its refresh tokens.
 *
 * @example
 * deleteSessionNow(state, session);
 */
export function deleteSessionNow(state: SessionState, session: SessionRecord): void {
  state.sessions.delete(session.id);
  removeFromIndex(state.sessionIdsByUser, session.userId, session.id);
  const tokenIds = state.refreshTokenIdsBySession.get(session.id);
  if (tokenIds !== undefined) {
    for (const tokenId of tokenIds) state.refreshTokens.delete(tokenId);
    state.refreshTokenIdsBySession.delete(session.id);
  }
}
