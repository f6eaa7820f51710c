import type { Clock } from '../clock.js';
import { LatchkeyError } from '../errors.js';
import {
  constantTimeEqual,
  hmacSha256,
  parseCredential,
  randomId,
  randomSecret,
  sha256,
} from '../lib/secrets.js';
import type { RefreshTokenStore } from '../stores/types.js';
import type { RefreshTokenRecord, SessionRecord } from '../records.js';

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

export interface RefreshTokenManager {
  issue(session: SessionRecord): Promise<{ token: string; record: RefreshTokenRecord }>;
  /**
   * Rotates `token` (RFC 9700 §4.14.2). Exactly one successor ever exists for a token: the
   * successor's id and secret are derived from the presented token with a server key, so that
   * concurrent or repeated calls within the grace window all converge on the same successor,
   * whichever call wins the store's compare-and-set.
   */
  rotate(token: string, session: (sessionId: string) => Promise<SessionRecord | null>): Promise<RefreshCheck>;
  /** The session a syntactically valid, correctly-hashed token belongs to, or null. */
  lookup(token: string): Promise<RefreshTokenRecord | null>;
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

  async function lookup(token: string): Promise<{ record: RefreshTokenRecord; secret: string } | null> {
    const credential = parseCredential(token);
    if (credential === null) return null;
    const record = await store.getRefreshToken(credential.id);
    if (record === null || !constantTimeEqual(sha256(credential.secret), record.secretHash)) return null;
    return { record, secret: credential.secret };
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

    async lookup(token) {
      return (await lookup(token))?.record ?? null;
    },

    async rotate(token, getSession) {
      const found = await lookup(token);
      if (found === null) return { kind: 'invalid' };
      const { record, secret } = found;
      const now = clock();
      const session = await getSession(record.sessionId);
      if (
        session === null ||
        session.revokedAt !== null ||
        now >= session.absoluteExpiresAt ||
        now >= session.idleExpiresAt ||
        now >= record.expiresAt
      ) {
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

/** Raised for any refresh failure; the OAuth error is `invalid_grant` (RFC 6749 §5.2). */
export function invalidGrant(): LatchkeyError {
  return new LatchkeyError('invalid_grant');
}
