/**
 * The composite store: the conformance suite on memory+redis and pglite+redis (PGlite in
 * memory), and the routing of each method to its store.
 *
 * Redis is `LATCHKEY_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`), under a prefix unique
 * to this run, deleted afterwards (never FLUSHALL). When Redis cannot be reached the Redis
 * suites are skipped with a warning, except in CI, where the file fails.
 */

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adoptHotRevocations, createCompositeStore } from '../../src/stores/composite.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { createPGliteClient } from '../../src/stores/pglite/index.js';
import { createRedisClient, openRedisStore } from '../../src/stores/redis/index.js';
import type { SqlClient } from '../../src/stores/sql/client.js';
import { migrate } from '../../src/stores/sql/migrate.js';
import { createSqlStore } from '../../src/stores/sql/store.js';
import { openSQLiteStore } from '../../src/stores/sqlite/index.js';
import type { Store } from '../../src/store.js';
import { describeStoreConformance, T0 } from './conformance.js';
import { isCI } from '../helpers/ci.js';

const REDIS_URL = process.env.LATCHKEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function uniquePrefix(label: string): string {
  return `latchkey-test-${label}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

async function isRedisReachable(url: string): Promise<boolean> {
  const client = createRedisClient(url, { lazyConnect: true });
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Deletes every key under `prefix` (SCAN + UNLINK). */
async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
    cursor = next;
    if (found.length > 0) await client.unlink(...found);
  } while (cursor !== '0');
}

/**
 * Empties every Latchkey table but the migrations ledger. The tables are read from the catalog
 * rather than listed, so that a table a new migration adds (one-time tokens, ...) is emptied too
 * and a test never meets the previous test's rows.
 */
async function truncateLatchkeyTables(sql: SqlClient): Promise<void> {
  const { rows } = await sql.query<{ name: string }>(
    `SELECT tablename AS name FROM pg_tables
      WHERE schemaname = current_schema() AND tablename LIKE 'latchkey\\_%' AND tablename <> 'latchkey_migrations'`,
  );
  await sql.exec(`TRUNCATE ${rows.map((row) => row.name).join(', ')} RESTART IDENTITY`);
}

/** A store that forwards to whatever `current()` returns, so a test can swap it. */
function forwarding(current: () => Store): Store {
  return new Proxy({} as Store, {
    get: (_target, property): unknown => Reflect.get(current(), property),
  });
}

const reachable = await isRedisReachable(REDIS_URL);
if (!reachable) {
  const message = `Redis is not reachable at ${REDIS_URL}`;
  if (isCI()) throw new Error(`${message}: the composite store tests cannot run`);
  console.warn(`[composite.test] ${message}: skipping the composite store tests on Redis`);
}
const describeWithRedis = reachable ? describe : describe.skip;

describeWithRedis('composite store on Redis', () => {
  let admin: Redis;
  const prefixes: string[] = [];

  beforeAll(() => {
    admin = createRedisClient(REDIS_URL) as Redis; // a redis:// URL: a standalone client
  });

  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeys(admin, prefix);
    await admin.quit();
  });

  // memory + redis: a fresh memory store for each test.
  const memoryPrefix = uniquePrefix('composite-memory');
  prefixes.push(memoryPrefix);
  let memory = createMemoryStore();
  describeStoreConformance(
    'memory+redis',
    {
      open: async () =>
        createCompositeStore({
          durable: forwarding(() => memory),
          hot: await openRedisStore({ url: REDIS_URL, prefix: memoryPrefix }),
        }),
      reset: async () => {
        memory = createMemoryStore();
        await deleteKeys(admin, memoryPrefix);
      },
      close: (store) => store.close(),
    },
    { largeSessionCount: 10_000 },
  );

  // pglite + redis: one in-memory PGlite for the file, truncated between tests.
  const pglitePrefix = uniquePrefix('composite-pglite');
  prefixes.push(pglitePrefix);
  let sql: SqlClient | undefined;
  describeStoreConformance(
    'pglite+redis',
    {
      open: async () => {
        sql = createPGliteClient(await PGlite.create());
        await migrate(sql);
        return createCompositeStore({
          durable: createSqlStore(sql, { kind: 'pglite' }),
          hot: await openRedisStore({ url: REDIS_URL, prefix: pglitePrefix }),
        });
      },
      reset: async () => {
        if (sql !== undefined) await truncateLatchkeyTables(sql);
        await deleteKeys(admin, pglitePrefix);
      },
      close: (store) => store.close(),
    },
    { largeSessionCount: 10_000 },
  );
});

describe('composite store routing', () => {
  const user = {
    id: 'u1',
    email: 'u1@example.com',
    passwordHash: 'hash',
    status: 'active' as const,
    roles: [],
    createdAt: T0,
    updatedAt: T0,
    emailVerifiedAt: null,
  };
  const session = {
    id: 's1',
    userId: 'u1',
    secretHash: 'hash',
    mode: 'cookie' as const,
    createdAt: T0,
    lastSeenAt: T0,
    idleExpiresAt: T0 + 1_000,
    absoluteExpiresAt: T0 + 2_000,
    userAgent: null,
    ip: null,
    revokedAt: null,
    persistent: false,
    amr: ['pwd'],
    authTime: T0,
    acr: '1',
  };

  it('keeps users, keys, one-time tokens and revocations in durable; sessions, tokens and counters in hot', async () => {
    const durable = createMemoryStore();
    const hot = createMemoryStore();
    const store = createCompositeStore({ durable, hot });
    expect(store.kind).toBe('memory+memory');

    await store.createUser(user);
    await store.insertKey({
      kid: 'k1',
      alg: 'HS256',
      publicJwk: null,
      encryptedPrivateKey: 'x',
      createdAt: T0,
      activatesAt: T0,
      retiredAt: null,
      expiresAt: null,
    });
    await store.createSession(session);
    await store.createRefreshToken({
      id: 'r1',
      sessionId: 's1',
      secretHash: 'hash',
      createdAt: T0,
      expiresAt: T0 + 1_000,
      rotatedAt: null,
      successorId: null,
    });
    await store.increment('c1', 1_000, T0);
    await store.addRevocation({
      kind: 'session',
      subject: 's1',
      issuedBefore: null,
      createdAt: T0,
      expiresAt: T0 + 1,
    });

    const oneTimeToken = {
      id: 'o1',
      purpose: 'password_reset',
      subject: 'u1',
      data: null,
      createdAt: T0,
      expiresAt: T0 + 1_000,
    };
    await store.putOneTimeToken(oneTimeToken);
    await store.putOneTimeToken({ ...oneTimeToken, id: 'o2' });
    await store.putOneTimeToken({ ...oneTimeToken, id: 'o3' });

    expect(await durable.getUserById('u1')).not.toBeNull();
    expect(await hot.getUserById('u1')).toBeNull();
    expect(await durable.listKeys()).toHaveLength(1);
    expect(await hot.listKeys()).toHaveLength(0);
    for (const [target, present] of [
      [hot, true],
      [durable, false],
    ] as const) {
      expect((await target.getSession('s1')) !== null).toBe(present);
      expect((await target.getRefreshToken('r1')) !== null).toBe(present);
      expect((await target.getCounter('c1', T0)) !== null).toBe(present);
      // A revocation must outlive a Redis restart: it is kept on the durable side.
      expect(await target.listRevocations({ now: T0 })).toHaveLength(present ? 0 : 1);
    }

    // One-time tokens: each method reaches the durable store, and the hot one holds none.
    expect(await hot.consumeOneTimeToken('o1', 'password_reset', T0)).toBeNull();
    expect(await store.consumeOneTimeToken('o1', 'password_reset', T0)).toEqual(oneTimeToken);
    expect(await durable.consumeOneTimeToken('o1', 'password_reset', T0)).toBeNull();
    expect(await store.deleteExpiredOneTimeTokens(T0 + 1_000)).toBe(2);
    await durable.putOneTimeToken({ ...oneTimeToken, id: 'o4' });
    expect(await hot.deleteOneTimeTokens('u1', 'password_reset')).toBe(0);
    expect(await store.deleteOneTimeTokens('u1', 'password_reset')).toBe(1);
    expect(await durable.deleteOneTimeTokens('u1', 'password_reset')).toBe(0);
  });

  it('pings and closes both stores', async () => {
    const durable = createMemoryStore();
    const hot = createMemoryStore();
    const store = createCompositeStore({ durable, hot });
    await expect(store.ping()).resolves.toBeUndefined();
    await hot.close();
    await expect(store.ping()).rejects.toMatchObject({ code: 'store_unavailable' });

    const other = { durable: createMemoryStore(), hot: createMemoryStore() };
    await createCompositeStore(other).close();
    await expect(other.durable.ping()).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(other.hot.ping()).rejects.toMatchObject({ code: 'store_unavailable' });
  });

  it('forgets no revocation across a restart of the hot store (a Redis without persistence)', async () => {
    const durable = createMemoryStore();
    const store = createCompositeStore({ durable, hot: createMemoryStore() });
    await store.createSession(session);
    const record = await store.addRevocation({
      kind: 'session',
      subject: 's1',
      issuedBefore: null,
      createdAt: T0,
      expiresAt: T0 + 60_000,
    });
    // The hot store restarts empty: sessions are gone (their holders sign in again), the
    // revocation that keeps a revoked access token dead is still there.
    const restarted = createCompositeStore({ durable, hot: createMemoryStore() });
    expect(await restarted.getSession('s1')).toBeNull();
    expect(await restarted.listRevocations({ now: T0 })).toEqual([record]);
  });
});

describeWithRedis('composite store: revocations an older Latchkey kept in Redis', () => {
  it('moves the live ones to the SQL store under their own seq, once, and later ones follow them', async () => {
    const prefix = uniquePrefix('adopt');
    const hot = await openRedisStore({ url: REDIS_URL, prefix });
    const dir = await mkdtemp(join(tmpdir(), 'latchkey-adopt-'));
    const durable = await openSQLiteStore({ path: join(dir, 'latchkey.sqlite'), migrate: true });
    try {
      const old = [];
      for (const subject of ['s1', 's2', 's3']) {
        old.push(
          await hot.addRevocation({
            kind: 'session',
            subject,
            issuedBefore: null,
            createdAt: T0,
            expiresAt: T0 + 60_000,
          }),
        );
      }
      // One already expired: not worth moving.
      await hot.addRevocation({
        kind: 'session',
        subject: 'gone',
        issuedBefore: null,
        createdAt: T0,
        expiresAt: T0 + 1,
      });

      expect(await adoptHotRevocations({ durable, hot }, T0 + 10)).toEqual({ moved: 3, clashes: 0 });
      expect(await adoptHotRevocations({ durable, hot }, T0 + 10)).toEqual({ moved: 0, clashes: 0 });
      const store = createCompositeStore({ durable, hot });
      expect(await store.listRevocations({ now: T0 + 10 })).toEqual(old);
      // A service that saw seq 4 in the old feed must see the next revocation after it.
      const next = await store.addRevocation({
        kind: 'user',
        subject: 'u1',
        issuedBefore: T0,
        createdAt: T0,
        expiresAt: T0 + 60_000,
      });
      expect(next.seq).toBeGreaterThan(Math.max(...old.map((r) => r.seq), 4));
    } finally {
      const admin = createRedisClient(REDIS_URL, { lazyConnect: true }) as Redis;
      await admin.connect();
      await deleteKeys(admin, prefix);
      await admin.quit();
      await hot.close();
      await durable.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
