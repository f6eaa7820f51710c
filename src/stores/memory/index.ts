/**
 * The in-memory store: one process, no persistence. For tests, development and single-node demos.
 *
 * Every method does its reads and writes synchronously (no `await` in between), so each call is
 * atomic in single-threaded JavaScript. Records are copied on the way in and on the way out: a
 * caller can never mutate the store's state through a returned object.
 */

import { LatchkeyError } from '../../errors.js';
import { compareCodePoints } from '../ordering.js';
import type { Store } from '../types.js';
import type { ClientRecord, CounterValue, NewRevocation, RefreshTokenRecord, RevocationRecord, SessionRecord, SigningKeyRecord, UserPatch, UserRecord } from '../../records.js';

/** Expired counters are dropped every this many increments, so that the map cannot grow forever. */
const COUNTER_SWEEP_INTERVAL = 1_000;

function copyUser(user: UserRecord): UserRecord {
  return { ...user, roles: [...user.roles] };
}

function copyClient(client: ClientRecord): ClientRecord {
  return { ...client, scopes: [...client.scopes], audiences: [...client.audiences] };
}

function isSessionLive(session: SessionRecord, now: number): boolean {
  return session.revokedAt === null && session.idleExpiresAt > now && session.absoluteExpiresAt > now;
}

function addToIndex(index: Map<string, Set<string>>, key: string, value: string): void {
  let set = index.get(key);
  if (set === undefined) {
    set = new Set();
    index.set(key, set);
  }
  set.add(value);
}

function removeFromIndex(index: Map<string, Set<string>>, key: string, value: string): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}

/**
 * Creates an empty in-memory store (`kind: 'memory'`).
 *
 * Conventions shared with the SQL store: a record is expired at `now` when its expiry is
 * `<= now`; duplicate ids and kids reject with `LatchkeyError('internal_error')`; sessions are
 * listed newest first (`createdAt` desc, then `id` desc); keys by `createdAt`, then `kid`.
 * After `close()` every method rejects with `store_unavailable`.
 *
 * @example
 * const store = createMemoryStore();
 * await store.createUser(user);
 */
export function createMemoryStore(): Store {
  const users = new Map<string, UserRecord>();
  const userIdByEmail = new Map<string, string>();
  const sessions = new Map<string, SessionRecord>();
  const sessionIdsByUser = new Map<string, Set<string>>();
  const refreshTokens = new Map<string, RefreshTokenRecord>();
  const refreshTokenIdsBySession = new Map<string, Set<string>>();
  const keys = new Map<string, SigningKeyRecord>();
  /** Always in `seq` order. */
  let revocations: RevocationRecord[] = [];
  let lastSeq = 0;
  const counters = new Map<string, CounterValue>();
  const clients = new Map<string, ClientRecord>();
  let incrementsSinceSweep = 0;
  let closed = false;

  const ensureOpen = (): void => {
    if (closed) throw new LatchkeyError('store_unavailable', 'The memory store is closed', { retryAfter: 1 });
  };

  /** Runs one operation synchronously (hence atomically) and reports its outcome as a promise. */
  const run = <T>(operation: () => T): Promise<T> => {
    try {
      ensureOpen();
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };

  const storeRefreshToken = (token: RefreshTokenRecord): void => {
    refreshTokens.set(token.id, { ...token });
    addToIndex(refreshTokenIdsBySession, token.sessionId, token.id);
  };

  const deleteSessionNow = (session: SessionRecord): void => {
    sessions.delete(session.id);
    removeFromIndex(sessionIdsByUser, session.userId, session.id);
    const tokenIds = refreshTokenIdsBySession.get(session.id);
    if (tokenIds !== undefined) {
      for (const tokenId of tokenIds) refreshTokens.delete(tokenId);
      refreshTokenIdsBySession.delete(session.id);
    }
  };

  return {
    kind: 'memory',

    ping(): Promise<void> {
      return run(() => undefined);
    },

    close(): Promise<void> {
      closed = true;
      return Promise.resolve();
    },

    // ---- users -------------------------------------------------------------------------------

    createUser(user: UserRecord): Promise<void> {
      return run(() => {
        if (userIdByEmail.has(user.email)) throw new LatchkeyError('email_taken');
        if (users.has(user.id)) {
          throw new LatchkeyError('internal_error', 'A user with this id already exists');
        }
        users.set(user.id, copyUser(user));
        userIdByEmail.set(user.email, user.id);
      });
    },

    getUserById(id: string): Promise<UserRecord | null> {
      return run(() => {
        const user = users.get(id);
        return user === undefined ? null : copyUser(user);
      });
    },

    getUserByEmail(email: string): Promise<UserRecord | null> {
      return run(() => {
        const id = userIdByEmail.get(email);
        const user = id === undefined ? undefined : users.get(id);
        return user === undefined ? null : copyUser(user);
      });
    },

    updateUser(id: string, patch: UserPatch): Promise<boolean> {
      return run(() => {
        const user = users.get(id);
        if (user === undefined) return false;
        if (patch.passwordHash !== undefined) user.passwordHash = patch.passwordHash;
        if (patch.status !== undefined) user.status = patch.status;
        if (patch.roles !== undefined) user.roles = [...patch.roles];
        user.updatedAt = patch.updatedAt;
        return true;
      });
    },

    listUsers(options: { limit: number; after?: string }): Promise<UserRecord[]> {
      return run(() => {
        if (options.limit <= 0) return [];
        const { after } = options;
        const page = [...users.values()]
          .filter((user) => after === undefined || compareCodePoints(user.email, after) > 0)
          .sort((a, b) => compareCodePoints(a.email, b.email))
          .slice(0, options.limit);
        return page.map(copyUser);
      });
    },

    // ---- sessions ----------------------------------------------------------------------------

    createSession(session: SessionRecord): Promise<void> {
      return run(() => {
        if (sessions.has(session.id)) {
          throw new LatchkeyError('internal_error', 'A session with this id already exists');
        }
        sessions.set(session.id, { ...session });
        addToIndex(sessionIdsByUser, session.userId, session.id);
      });
    },

    getSession(id: string): Promise<SessionRecord | null> {
      return run(() => {
        const session = sessions.get(id);
        return session === undefined ? null : { ...session };
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
        return live.sort((a, b) => b.createdAt - a.createdAt || compareCodePoints(b.id, a.id));
      });
    },

    deleteExpiredSessions(now: number): Promise<number> {
      return run(() => {
        let removed = 0;
        for (const session of sessions.values()) {
          const revoked = session.revokedAt !== null && session.revokedAt <= now;
          if (revoked || session.idleExpiresAt <= now || session.absoluteExpiresAt <= now) {
            deleteSessionNow(session);
            removed += 1;
          }
        }
        return removed;
      });
    },

    // ---- refresh tokens ----------------------------------------------------------------------

    createRefreshToken(token: RefreshTokenRecord): Promise<void> {
      return run(() => {
        if (refreshTokens.has(token.id)) {
          throw new LatchkeyError('internal_error', 'A refresh token with this id already exists');
        }
        storeRefreshToken(token);
      });
    },

    getRefreshToken(id: string): Promise<RefreshTokenRecord | null> {
      return run(() => {
        const token = refreshTokens.get(id);
        return token === undefined ? null : { ...token };
      });
    },

    rotateRefreshToken(oldId: string, successor: RefreshTokenRecord, at: number): Promise<boolean> {
      return run(() => {
        const old = refreshTokens.get(oldId);
        if (old === undefined || old.rotatedAt !== null) return false;
        if (refreshTokens.has(successor.id)) {
          throw new LatchkeyError('internal_error', 'A refresh token with this id already exists');
        }
        old.rotatedAt = at;
        old.successorId = successor.id;
        storeRefreshToken(successor);
        return true;
      });
    },

    // ---- signing keys ------------------------------------------------------------------------

    listKeys(): Promise<SigningKeyRecord[]> {
      return run(() => {
        return [...keys.values()]
          .sort((a, b) => a.createdAt - b.createdAt || compareCodePoints(a.kid, b.kid))
          .map((key) => ({ ...key }));
      });
    },

    insertKey(key: SigningKeyRecord): Promise<void> {
      return run(() => {
        if (keys.has(key.kid)) {
          throw new LatchkeyError('internal_error', 'A signing key with this kid already exists');
        }
        keys.set(key.kid, { ...key });
      });
    },

    updateKey(kid: string, patch: { retiredAt?: number | null; expiresAt?: number | null }): Promise<void> {
      return run(() => {
        const key = keys.get(kid);
        if (key === undefined) return;
        if (patch.retiredAt !== undefined) key.retiredAt = patch.retiredAt;
        if (patch.expiresAt !== undefined) key.expiresAt = patch.expiresAt;
      });
    },

    deleteKey(kid: string): Promise<void> {
      return run(() => {
        keys.delete(kid);
      });
    },

    // ---- revocations -------------------------------------------------------------------------

    addRevocation(record: NewRevocation): Promise<RevocationRecord> {
      return run(() => {
        lastSeq += 1;
        const stored: RevocationRecord = {
          seq: lastSeq,
          kind: record.kind,
          subject: record.subject,
          issuedBefore: record.issuedBefore,
          createdAt: record.createdAt,
          expiresAt: record.expiresAt,
        };
        revocations.push(stored);
        return { ...stored };
      });
    },

    listRevocations(options: {
      now: number;
      afterSeq?: number;
      limit?: number;
    }): Promise<RevocationRecord[]> {
      return run(() => {
        const { now, afterSeq, limit } = options;
        const result: RevocationRecord[] = [];
        if (limit !== undefined && limit <= 0) return result;
        for (const record of revocations) {
          if (afterSeq !== undefined && record.seq <= afterSeq) continue;
          if (record.expiresAt <= now) continue;
          result.push({ ...record });
          if (limit !== undefined && result.length >= limit) break;
        }
        return result;
      });
    },

    deleteExpiredRevocations(now: number): Promise<number> {
      return run(() => {
        const before = revocations.length;
        revocations = revocations.filter((record) => record.expiresAt > now);
        return before - revocations.length;
      });
    },

    // ---- clients -----------------------------------------------------------------------------

    createClient(client: ClientRecord): Promise<void> {
      return run(() => {
        if (clients.has(client.id)) {
          throw new LatchkeyError('internal_error', 'A client with this id already exists');
        }
        clients.set(client.id, copyClient(client));
      });
    },

    getClient(id: string): Promise<ClientRecord | null> {
      return run(() => {
        const client = clients.get(id);
        return client === undefined ? null : copyClient(client);
      });
    },

    listClients(options: { limit: number; after?: string }): Promise<ClientRecord[]> {
      return run(() => {
        if (options.limit <= 0) return [];
        const { after } = options;
        return [...clients.values()]
          .filter((client) => after === undefined || compareCodePoints(client.id, after) > 0)
          .sort((a, b) => compareCodePoints(a.id, b.id))
          .slice(0, options.limit)
          .map(copyClient);
      });
    },

    updateClient(id: string, patch: { disabledAt: number | null }): Promise<boolean> {
      return run(() => {
        const client = clients.get(id);
        if (client === undefined) return false;
        client.disabledAt = patch.disabledAt;
        return true;
      });
    },

    // ---- counters ----------------------------------------------------------------------------

    increment(key: string, ttlMs: number, now: number): Promise<CounterValue> {
      return run(() => {
        incrementsSinceSweep += 1;
        if (incrementsSinceSweep >= COUNTER_SWEEP_INTERVAL) {
          incrementsSinceSweep = 0;
          for (const [name, value] of counters) if (value.expiresAt <= now) counters.delete(name);
        }
        const current = counters.get(key);
        const next: CounterValue =
          current === undefined || current.expiresAt <= now
            ? { count: 1, expiresAt: now + ttlMs }
            : { count: current.count + 1, expiresAt: current.expiresAt };
        counters.set(key, next);
        return { ...next };
      });
    },

    getCounter(key: string, now: number): Promise<CounterValue | null> {
      return run(() => {
        const current = counters.get(key);
        if (current === undefined || current.expiresAt <= now) return null;
        return { ...current };
      });
    },

    deleteCounter(key: string): Promise<void> {
      return run(() => {
        counters.delete(key);
      });
    },
  };
}
