/**
 * The composite store: the conformance suite on memory+redis and pglite+redis (PGlite in
 * memory), and the routing of each method to its store.
 *
 * Redis is `LATCHKEY_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`), under a prefix unique
 * to this run, deleted afterwards (never FLUSHALL). When Redis cannot be reached the Redis
 * suites are skipped with a warning, except in CI, where the file fails.
 */

import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCompositeStore } from '../../src/stores/composite.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { createPGliteClient } from '../../src/stores/pglite/index.js';
import { createRedisClient, openRedisStore } from '../../src/stores/redis/index.js';
import type { SqlClient } from '../../src/stores/sql/client.js';
import { migrate } from '../../src/stores/sql/migrate.js';
import { createSqlStore } from '../../src/stores/sql/store.js';
import type { Store } from '../../src/stores/types.js';
import { describeStoreConformance, T0 } from './conformance.js';

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

/** A store that forwards to whatever `current()` returns, so a test can swap it. */
function forwarding(current: () => Store): Store {
  return new Proxy({} as Store, {
    get: (_target, property): unknown => Reflect.get(current(), property),
  });
}

const reachable = await isRedisReachable(REDIS_URL);
if (!reachable) {
  const message = `Redis is not reachable at ${REDIS_URL}`;
  if (process.env.CI === 'true') throw new Error(`${message}: the composite store tests cannot run`);
  console.warn(`[composite.test] ${message}: skipping the composite store tests on Redis`);
}
const describeWithRedis = reachable ? describe : describe.skip;

describeWithRedis('composite store on Redis', () => {
  let admin: Redis;
  const prefixes: string[] = [];

  beforeAll(() => {
    admin = createRedisClient(REDIS_URL);
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
        await sql?.exec('TRUNCATE latchkey_users, latchkey_signing_keys, latchkey_clients RESTART IDENTITY');
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
  };

  it('keeps users and keys in durable; sessions, tokens, counters and revocations in hot', async () => {
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
      expect(await target.listRevocations({ now: T0 })).toHaveLength(present ? 1 : 0);
    }
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
});
