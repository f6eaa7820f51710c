import type { Clock } from '../clock.js';
import type { RevocationStore } from '../store.js';
import type { RevocationRecord } from '../records.js';

export type RevocationListener = (record: RevocationRecord) => void;

/**
 * Records revocations in the store, with an expiry equal to the longest time an access token
 * issued before the revocation can still be presented, and tells listeners (the feed that
 * pushes them to resource services) about each one.
 */
export interface RevocationRecorder {
  sessionRevoked(sessionId: string): Promise<RevocationRecord>;
  /** Every token of the user issued before now is revoked. */
  userRevoked(userId: string): Promise<RevocationRecord>;
  tokenRevoked(jti: string, expiresAt: number): Promise<RevocationRecord>;
  /**
   * The user's record changed (email, verification, password hash, roles, status) and nothing is
   * revoked: a user record whose `issuedBefore` is 0, which refuses no token (every `iat` is
   * later) but tells every node's near cache, over the same channel, to drop the user.
   */
  userChanged(userId: string): Promise<RevocationRecord>;
  onRevocation(listener: RevocationListener): () => void;
}

/** The `issuedBefore` of a user record that revokes nothing: no token was issued at or before 0. */
export const USER_CHANGED = 0;

export function createRevocationRecorder(options: {
  store: RevocationStore;
  clock: Clock;
  /** The longest access-token lifetime plus the clock tolerance. */
  retention: number;
}): RevocationRecorder {
  const listeners = new Set<RevocationListener>();
  async function add(
    kind: RevocationRecord['kind'],
    subject: string,
    issuedBefore: number | null,
    expiresAt?: number,
  ) {
    const now = options.clock();
    const record = await options.store.addRevocation({
      kind,
      subject,
      issuedBefore,
      createdAt: now,
      expiresAt: expiresAt ?? now + options.retention,
    });
    for (const listener of listeners) listener(record);
    return record;
  }
  return {
    sessionRevoked: (sessionId) => add('session', sessionId, null),
    userRevoked: (userId) => add('user', userId, options.clock()),
    tokenRevoked: (jti, expiresAt) => add('token', jti, null, expiresAt),
    userChanged: (userId) => add('user', userId, USER_CHANGED),
    onRevocation(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
