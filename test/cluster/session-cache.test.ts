/**
 * LATCHKEY_SESSION_CACHE across nodes: two nodes on one shared store, each with its near cache,
 * listening on the revocation channel the other publishes to (Redis pub/sub, Postgres NOTIFY).
 * A revocation made on one node must reach the other's cache without waiting for its max age.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { attachRevocationPublisher, type RevocationPublisher } from '../../src/revocation/publishers.js';
import { createPostgresRevocationPublisher } from '../../src/stores/postgres/publisher.js';
import { createRedisRevocationPublisher } from '../../src/stores/redis/publisher.js';
import { openSessionCacheFeed } from '../../src/app/channels.js';
import { openPostgresStore } from '../../src/stores/postgres/index.js';
import { openRedisStore } from '../../src/stores/redis/index.js';
import type { Store } from '../../src/store.js';
import { createManualClock } from '../../src/clock.js';
import { createTestApp, loginCookie, signup, type TestApp } from '../helpers/app.js';
import {
  createTestDatabase,
  createTestRedisPrefix,
  describeWithServices,
  probePostgres,
  probeRedis,
  uniqueSuffix,
  type TestDatabase,
  type TestRedisPrefix,
} from '../helpers/services.js';

interface Transport {
  name: 'redis' | 'postgres';
  problem: string | null;
}

const transports: Transport[] = [
  { name: 'redis', problem: await probeRedis() },
  { name: 'postgres', problem: await probePostgres() },
];

/**
 * How long a wait for something that must happen may last before the test fails: generous, only
 * so that a hang ends the test (the clock of the nodes does not move, so a wait this long still
 * proves the channel did it).
 */
const HANG_MS = 15_000;

/** Resolves with the milliseconds `condition()` took to become true; fails after `ms`. */
async function waitFor(condition: () => boolean | Promise<boolean>, ms: number): Promise<number> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return performance.now() - started;
}

for (const transport of transports) {
  describeWithServices(`session near cache across two nodes (${transport.name})`, [transport.problem], () => {
    let database: TestDatabase | undefined;
    let redis: TestRedisPrefix | undefined;
    const nodes: TestApp[] = [];
    const publishers: RevocationPublisher[] = [];
    // Both nodes share one clock, so that expiry decisions agree; wall time drives the channel.
    const clock = createManualClock(Date.now());

    async function openShared(): Promise<Store> {
      if (transport.name === 'redis') {
        redis ??= createTestRedisPrefix();
        return openRedisStore({ url: redis.url, prefix: redis.prefix });
      }
      database ??= await createTestDatabase();
      return openPostgresStore({ url: database.url, migrate: true });
    }

    async function startNode(channel: string): Promise<TestApp> {
      const store = await openShared();
      const config = defaultConfig({
        sessionCache: 60_000,
        redisURL: transport.name === 'redis' ? (redis?.url ?? null) : null,
        databaseURL: transport.name === 'postgres' ? (database?.url ?? null) : null,
      });
      const feed = await openSessionCacheFeed(config, store, channel);
      if (feed === undefined) throw new Error('no session cache feed for a shared store');
      const node = await createTestApp({ store, clock, config, sessionCacheFeed: feed });
      const publisher =
        transport.name === 'redis'
          ? createRedisRevocationPublisher({ url: redis?.url ?? '', channel })
          : createPostgresRevocationPublisher({ url: database?.url ?? '', channel });
      attachRevocationPublisher(node.latchkey, publisher);
      publishers.push(publisher);
      nodes.push(node);
      return node;
    }

    let a: TestApp;
    let b: TestApp;
    beforeAll(async () => {
      const channel = `lk_cache_${uniqueSuffix()}`;
      a = await startNode(channel);
      b = await startNode(channel);
      await waitFor(
        () => a.latchkey.sessionCache?.live === true && b.latchkey.sessionCache?.live === true,
        HANG_MS,
      );
    }, 30_000);

    afterAll(async () => {
      for (const node of nodes) await node.close().catch(() => undefined);
      for (const publisher of publishers) await publisher.close().catch(() => undefined);
      await Promise.allSettled([database?.drop(), redis?.cleanup()]);
    });

    const me = async (node: TestApp, cookie: string): Promise<number> =>
      (await node.app.inject({ url: '/v1/me', headers: { cookie } })).statusCode;

    it('a logout on one node is refused by the other without waiting for the max age', async () => {
      await signup(a.app, 'one@example.com');
      const login = await loginCookie(a.app, 'one@example.com');
      expect(await me(b, login.cookie)).toBe(200);
      expect(await me(b, login.cookie)).toBe(200);
      expect(b.latchkey.sessionCache?.peekSession(login.sessionId)).toBeDefined();

      const logout = await a.app.inject({
        method: 'POST',
        url: '/v1/logout',
        headers: { cookie: login.cookie, 'x-csrf-token': login.csrf },
      });
      expect(logout.statusCode).toBe(204);
      // The clock does not move: only the channel can make node B refuse.
      const lag = await waitFor(async () => (await me(b, login.cookie)) === 401, HANG_MS);
      console.info(`[session-cache ${transport.name}] logout on A refused on B after ${lag.toFixed(1)} ms`);
    });

    it('disabling a user on one node ends their cached sessions on the other', async () => {
      await signup(b.app, 'two@example.com');
      const login = await loginCookie(b.app, 'two@example.com');
      expect(await me(a, login.cookie)).toBe(200);
      expect(a.latchkey.sessionCache?.peekSession(login.sessionId)).toBeDefined();
      await b.latchkey.auth.setUserStatus('two@example.com', 'disabled');
      await waitFor(async () => (await me(a, login.cookie)) === 401, HANG_MS);
    });
  });
}

describe('openSessionCacheFeed', () => {
  it('opens nothing when the cache is off or the store is process-local, and a feed by default on a shared one', async () => {
    const off = defaultConfig({ sessionCache: 0, redisURL: 'redis://127.0.0.1:1' });
    const memory = defaultConfig({ sessionCache: 5_000, store: 'memory', redisURL: 'redis://127.0.0.1:1' });
    const pglite = defaultConfig({ sessionCache: 5_000 });
    const store = { listRevocations: () => Promise.resolve([]) } as unknown as Store;
    for (const config of [off, memory, pglite]) {
      expect(await openSessionCacheFeed(config, store, 'c')).toBeUndefined();
    }
    // The default (auto) on a shared store: a feed, so that the cache is on.
    const auto = await openSessionCacheFeed(defaultConfig({ redisURL: 'redis://127.0.0.1:1' }), store, 'c');
    expect(auto).toBeDefined();
    await auto?.close();
  });
});
