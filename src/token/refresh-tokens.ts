import type { Clock } from '../clock.js';
import {
  constantTimeEqual,
  hmacSha256,
  parseCredential,
  randomId,
  randomSecret,
  sha256,
} from '../lib/secrets.js';
import type { RefreshTokenStore } from '../store.js';
import { isSessionLive, type RefreshTokenRecord, type SessionRecord } from '../records.js';

export interface RefreshOutcome {
  /** The refresh token the client must use next (`id.secret`). */
  token: string;
  record: RefreshTokenRecord;
  /** True when this call replayed a successor another call had already created (grace window). */
  replayed: boolean;
}

export type RefreshCheck =
  | { kind: 'ok'; outcome: RefreshOutcome }
  /** The token was already rotated and is outside the grace window: the family must be revoked. */
  | { kind: 'reuse'; sessionId: string }
  | { kind: 'invalid' };

/** A presented refresh token whose secret matched its stored hash. */
export interface FoundRefreshToken {
  record: RefreshTokenRecord;
  /** The presented secret: successors are derived from it, so it is kept until rotation. */
  secret: string;
}

export interface RefreshTokenManager {
  issue(session: SessionRecord): Promise<{ token: string; record: RefreshTokenRecord }>;
  /**
   * Reads a presented token (one store read): the record when the credential is well formed
   * and its secret matches the stored hash, else null.
   */
  find(token: string): Promise<FoundRefreshToken | null>;
  /**
   * Rotates a found token of `session` (RFC 9700 §4.14.2), which the caller has read and found
   * to be the token's own session. Exactly one successor ever exists for a token: the
   * successor's id and secret are derived from the presented token with a server key, so that
   * concurrent or repeated calls within the grace window all converge on the same successor,
   * whichever call wins the store's compare-and-set. A token of a dead session, or an expired
   * token, is `invalid`.
   */
  rotate(found: FoundRefreshToken, session: SessionRecord): Promise<RefreshCheck>;
}

export function createRefreshTokenManager(options: {
  store: RefreshTokenStore;
  clock: Clock;
  /** Key for deriving successors (from the master secret). */
  key: Uint8Array;
  idleTTL: number;
  grace: number;
}): RefreshTokenManager {
  const { store, clock, key, idleTTL, grace } = options;

  function successorOf(record: RefreshTokenRecord, secret: string): { id: string; secret: string } {
    return {
      id: hmacSha256(key, `refresh-successor-id:${record.id}`).slice(0, 22),
      secret: hmacSha256(key, `refresh-successor-secret:${record.id}:${secret}`),
    };
  }

  return {
    async issue(session) {
      const now = clock();
      const secret = randomSecret();
      const record: RefreshTokenRecord = {
        id: randomId(),
        sessionId: session.id,
        secretHash: sha256(secret),
        createdAt: now,
        expiresAt: Math.min(now + idleTTL, session.absoluteExpiresAt),
        rotatedAt: null,
        successorId: null,
      };
      await store.createRefreshToken(record);
      return { token: `${record.id}.${secret}`, record };
    },

    async find(token) {
      const credential = parseCredential(token);
      if (credential === null) return null;
      const record = await store.getRefreshToken(credential.id);
      if (record === null || !constantTimeEqual(sha256(credential.secret), record.secretHash)) return null;
      return { record, secret: credential.secret };
    },

    async rotate({ record, secret }, session) {
      const now = clock();
      if (session.id !== record.sessionId || !isSessionLive(session, now) || now >= record.expiresAt) {
        return { kind: 'invalid' };
      }
      const next = successorOf(record, secret);
      const successor: RefreshTokenRecord = {
        id: next.id,
        sessionId: record.sessionId,
        secretHash: sha256(next.secret),
        createdAt: now,
        expiresAt: Math.min(now + idleTTL, session.absoluteExpiresAt),
        rotatedAt: null,
        successorId: null,
      };
      let rotatedAt = record.rotatedAt;
      if (rotatedAt === null) {
        if (await store.rotateRefreshToken(record.id, successor, now)) {
          return {
            kind: 'ok',
            outcome: { token: `${next.id}.${next.secret}`, record: successor, replayed: false },
          };
        }
        // Lost the race to a concurrent call: that call stored the same successor.
        rotatedAt = (await store.getRefreshToken(record.id))?.rotatedAt ?? now;
      }
      const current = await store.getRefreshToken(next.id);
      if (now - rotatedAt <= grace && current !== null && current.rotatedAt === null) {
        return {
          kind: 'ok',
          outcome: { token: `${next.id}.${next.secret}`, record: current, replayed: true },
        };
      }
      return { kind: 'reuse', sessionId: record.sessionId };
    },
  };
}
