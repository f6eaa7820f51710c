/**
 * LATCHKEY_SESSION_CACHE through the HTTP API: what it saves (store reads), and every way a
 * revoked session or user must still be refused at once.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openSessionCacheFeed } from '../../src/app/channels.js';
import { createManualClock } from '../../src/clock.js';
import { defaultConfig, loadConfig } from '../../src/config/config.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { openPostgresStore } from '../../src/stores/postgres/index.js';
import { openRedisStore } from '../../src/stores/redis/index.js';
import type { Store } from '../../src/store.js';
import type { RevocationRecord } from '../../src/records.js';
import type { RevocationFeed, RevocationFeedState } from '../../src/verify/feed.js';
import { createTestApp, json, loginCookie, signup, type TestApp } from '../helpers/app.js';
import {
  probeOwnServerBinaries,
  startOwnPostgres,
  startOwnRedis,
  type OwnPostgres,
  type OwnRedis,
} from '../helpers/own-servers.js';
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

/** The memory store, counting the reads authentication makes; optionally posing as a shared store. */
function countingStore(kind?: string): { store: Store; reads: () => number } {
  return countReads(createMemoryStore(), kind);
}

/**
 * `inner` (whose methods do not use `this`), counting the session and user records read: a
 * `getSessionWithUser` (one round trip) reads two.
 */
function countReads(inner: Store, kind?: string): { store: Store; reads: () => number } {
  let reads = 0;
  const records: Record<string, number> = { getSession: 1, getUserById: 1, getSessionWithUser: 2 };
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'kind') return kind ?? target.kind;
      const counted = typeof property === 'string' ? records[property] : undefined;
      if (counted !== undefined) {
        const method = Reflect.get(target, property, receiver) as (id: string) => Promise<unknown>;
        return (id: string) => {
          reads += counted;
          return method.call(target, id);
        };
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  return { store, reads: () => reads };
}

/** A revocation channel the test drives by hand. */
function manualFeed(): RevocationFeed & {
  push(record: RevocationRecord): void;
  state(state: RevocationFeedState): void;
  closed: boolean;
} {
  let apply: (record: RevocationRecord) => void = () => undefined;
  let onState: (state: RevocationFeedState) => void = () => undefined;
  const feed = {
    closed: false,
    start(a: typeof apply, s: typeof onState) {
      apply = a;
      onState = s;
      s({ status: 'connecting' });
    },
    close() {
      feed.closed = true;
      return Promise.resolve();
    },
    push: (record: RevocationRecord) => apply(record),
    state: (state: RevocationFeedState) => onState(state),
  };
  return feed;
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function me(app: TestApp, cookie: string): Promise<number> {
  const response = await app.app.inject({ url: '/v1/me', headers: { cookie } });
  return response.statusCode;
}

describe('session near cache (LATCHKEY_SESSION_CACHE)', () => {
  it('is off when set to 0: every request reads the store', async () => {
    const counted = countingStore();
    t = await createTestApp({ store: counted.store, config: { sessionCache: 0 } });
    await signup(t.app, 'a@example.com');
    const { cookie } = await loginCookie(t.app, 'a@example.com');
    const before = counted.reads();
    for (let i = 0; i < 5; i++) expect(await me(t, cookie)).toBe(200);
    expect(counted.reads() - before).toBe(10);
    expect(t.latchkey.sessionCache).toBeNull();
  });

  it('is on by default (auto, 60 s) on a store only this process writes, off on a shared one without a channel', async () => {
    expect(loadConfig({}).sessionCache).toBeNull();
    for (const [kind, expected] of [
      ['memory', 2],
      ['sqlite', 2],
      ['pglite', 2],
      ['postgres', 10],
      ['redis', 10],
      ['postgres+redis', 10],
    ] as const) {
      const counted = countingStore(kind);
      const app = await createTestApp({ store: counted.store });
      try {
        await signup(app.app, 'a@example.com');
        const { cookie } = await loginCookie(app.app, 'a@example.com');
        const before = counted.reads();
        for (let i = 0; i < 5; i++) expect(await me(app, cookie)).toBe(200);
        expect(counted.reads() - before, kind).toBe(expected);
        app.clock.advance(59_000);
        expect(await me(app, cookie)).toBe(200);
        expect(counted.reads() - before, kind).toBe(expected === 2 ? 2 : expected + 2);
        app.clock.advance(1_000);
        expect(await me(app, cookie)).toBe(200);
        expect(counted.reads() - before, kind).toBe(expected === 2 ? 4 : expected + 4);
      } finally {
        await app.close();
      }
    }
  });

  it('on a process-local store, serves repeated requests from memory for at most its max age', async () => {
    const counted = countingStore();
    t = await createTestApp({ store: counted.store, config: { sessionCache: 5_000 } });
    await signup(t.app, 'a@example.com');
    const { cookie } = await loginCookie(t.app, 'a@example.com');
    const before = counted.reads();
    for (let i = 0; i < 5; i++) expect(await me(t, cookie)).toBe(200);
    expect(counted.reads() - before).toBe(2);
    t.clock.advance(5_000);
    expect(await me(t, cookie)).toBe(200);
    expect(counted.reads() - before).toBe(4);
  });

  it('refuses a wrong secret for a cached session id', async () => {
    t = await createTestApp({ config: { sessionCache: 5_000 } });
    await signup(t.app, 'a@example.com');
    const { cookie } = await loginCookie(t.app, 'a@example.com');
    expect(await me(t, cookie)).toBe(200);
    const [name = '', value = ''] = cookie.split('=');
    const [id = ''] = value.split('.');
    const forged = `${name}=${id}.${'A'.repeat(43)}`;
    expect(await me(t, forged)).toBe(401);
    expect(await me(t, cookie)).toBe(200);
  });

  it('refuses at once after logout, a revoked session and a disabled user', async () => {
    t = await createTestApp({ config: { sessionCache: 60_000 } });
    const app = t;
    await signup(app.app, 'a@example.com');
    const one = await loginCookie(app.app, 'a@example.com');
    const two = await loginCookie(app.app, 'a@example.com');
    const three = await loginCookie(app.app, 'a@example.com');
    for (const login of [one, two, three]) expect(await me(app, login.cookie)).toBe(200);

    const logout = await app.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { cookie: one.cookie, 'x-csrf-token': one.csrf },
    });
    expect(logout.statusCode).toBe(204);
    expect(await me(app, one.cookie)).toBe(401);

    const revoke = await app.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${two.sessionId}`,
      headers: { cookie: three.cookie, 'x-csrf-token': three.csrf },
    });
    expect(revoke.statusCode).toBe(204);
    expect(await me(app, two.cookie)).toBe(401);
    expect(await me(app, three.cookie)).toBe(200);

    await app.latchkey.auth.setUserStatus('a@example.com', 'disabled');
    expect(await me(app, three.cookie)).toBe(401);
  });

  it('reads the store again before refusing a cached session that looks expired', async () => {
    const counted = countingStore();
    t = await createTestApp({
      store: counted.store,
      config: { sessionCache: 60_000, sessionIdleTimeout: 10_000 },
    });
    await signup(t.app, 'a@example.com');
    const login = await loginCookie(t.app, 'a@example.com');
    const start = t.clock();
    t.clock.advance(1_000);
    expect(await me(t, login.cookie)).toBe(200); // cached, idle expiry start + 10 s
    // Another node slid the idle expiry in the store (no message: a slide is not a revocation).
    await counted.store.touchSession(login.sessionId, {
      lastSeenAt: start + 5_000,
      idleExpiresAt: start + 15_000,
    });
    t.clock.advance(10_000);
    expect(await me(t, login.cookie)).toBe(200);
    t.clock.advance(5_000);
    expect(await me(t, login.cookie)).toBe(401);
  });

  it('is bounded by its max age when a store change reaches it by no channel', async () => {
    const counted = countingStore();
    t = await createTestApp({ store: counted.store, config: { sessionCache: 5_000 } });
    await signup(t.app, 'a@example.com');
    const login = await loginCookie(t.app, 'a@example.com');
    expect(await me(t, login.cookie)).toBe(200);
    // Behind the node's back (no revocation record, no message): the cache may answer until
    // its max age, never longer.
    await counted.store.revokeSession(login.sessionId, t.clock());
    t.clock.advance(4_999);
    expect(await me(t, login.cookie)).toBe(200);
    t.clock.advance(1);
    expect(await me(t, login.cookie)).toBe(401);
  });

  // The same rule over real channels and real shared stores: see 'the channel going down' below.
  it('on a shared store, follows each state of the channel: bypassed until live, emptied on every change', async () => {
    const counted = countingStore('redis');
    const feed = manualFeed();
    t = await createTestApp({
      store: counted.store,
      config: { sessionCache: 60_000 },
      sessionCacheFeed: feed,
    });
    const app = t;
    await signup(app.app, 'a@example.com');
    const login = await loginCookie(app.app, 'a@example.com');
    const reads = async (requests: number): Promise<number> => {
      const before = counted.reads();
      for (let i = 0; i < requests; i++) expect(await me(app, login.cookie)).toBe(200);
      return counted.reads() - before;
    };
    expect(await reads(3)).toBe(6); // connecting: bypassed
    feed.state({ status: 'live' });
    expect(await reads(3)).toBe(2);
    feed.state({ status: 'live' }); // a heartbeat keeps the entries
    expect(await reads(3)).toBe(0);
    feed.state({ status: 'disconnected', reason: 'test' });
    expect(await reads(3)).toBe(6);
    feed.state({ status: 'live' });
    expect(await reads(2)).toBe(2);

    // A revocation made by another node arrives on the channel: refused at once.
    feed.push({
      seq: 1,
      kind: 'session',
      subject: login.sessionId,
      issuedBefore: null,
      createdAt: app.clock(),
      expiresAt: app.clock() + 60_000,
    });
    await counted.store.revokeSession(login.sessionId, app.clock());
    expect(await me(app, login.cookie)).toBe(401);
    expect(json(await app.app.inject({ url: '/v1/me', headers: { cookie: login.cookie } }))).toMatchObject({
      status: 401,
    });

    await app.close();
    t = undefined;
    expect(feed.closed).toBe(true);
  });

  it('stays off on a shared store without a channel, and says so', async () => {
    const counted = countingStore('postgres');
    t = await createTestApp({ store: counted.store, config: { sessionCache: 5_000, logLevel: 'warn' } });
    await signup(t.app, 'a@example.com');
    const { cookie } = await loginCookie(t.app, 'a@example.com');
    const before = counted.reads();
    for (let i = 0; i < 3; i++) expect(await me(t, cookie)).toBe(200);
    expect(counted.reads() - before).toBe(6);
    expect(t.logs.join('')).toContain('config.session_cache');
    expect(t.logs.join('')).not.toContain('MySQL');
  });

  it('says that MySQL alone has no revocation channel, and what to add', async () => {
    const counted = countingStore('mysql');
    t = await createTestApp({ store: counted.store, config: { sessionCache: 5_000, logLevel: 'warn' } });
    await signup(t.app, 'a@example.com');
    const { cookie } = await loginCookie(t.app, 'a@example.com');
    const before = counted.reads();
    expect(await me(t, cookie)).toBe(200);
    expect(counted.reads() - before).toBe(2);
    expect(t.logs.join('')).toContain('MySQL has no revocation channel');
    expect(t.logs.join('')).toContain('set REDIS_URL as well');
  });
});

/**
 * How long a wait for something that must happen may last before the test fails: generous, only
 * so that a hang ends the test (the nodes' clock does not move while they wait).
 */
const HANG_MS = 15_000;

/** Resolves once `condition()` is true; fails after `ms`. */
async function waitFor(condition: () => boolean | Promise<boolean>, ms = HANG_MS): Promise<void> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface RealChannel {
  name: 'redis' | 'postgres';
  problems: Promise<(string | null)[]>;
}

const realChannels: RealChannel[] = [
  { name: 'redis', problems: Promise.all([probeOwnServerBinaries(), probeRedis()]) },
  { name: 'postgres', problems: Promise.all([probeOwnServerBinaries(), probePostgres()]) },
];

/**
 * Two nodes on one real shared store (a Redis prefix, a Postgres database of the test's own);
 * node A has the near cache, fed by the real channel (`openSessionCacheFeed`: Redis pub/sub or
 * Postgres LISTEN) on a server of the test's own, so that the test can stop it; node B, without a
 * cache, makes the revocations. When the channel goes down, A must bypass its cache and see at
 * once what B did, with no message and no clock moving.
 */
for (const channel of realChannels) {
  describeWithServices(`the channel going down (${channel.name} feed)`, await channel.problems, () => {
    let ownRedis: OwnRedis | undefined;
    let ownPostgres: OwnPostgres | undefined;
    let database: TestDatabase | undefined;
    let prefix: TestRedisPrefix | undefined;
    const nodes: TestApp[] = [];

    afterAll(async () => {
      for (const node of nodes) await node.close().catch(() => undefined);
      await Promise.allSettled([
        ownRedis?.destroy(),
        ownPostgres?.destroy(),
        database?.drop(),
        prefix?.cleanup(),
      ]);
    });

    async function openSharedStore(): Promise<Store> {
      if (channel.name === 'redis') {
        prefix ??= createTestRedisPrefix();
        return openRedisStore({ url: prefix.url, prefix: prefix.prefix });
      }
      database ??= await createTestDatabase();
      return openPostgresStore({ url: database.url, migrate: true });
    }

    it('bypasses the cache while the channel is down: a revocation by another node is refused at once', async () => {
      // The channel's server, of the test's own; the store stays on the shared server.
      const config =
        channel.name === 'redis'
          ? defaultConfig({ sessionCache: 60_000, redisURL: (ownRedis = await startOwnRedis()).url })
          : defaultConfig({
              sessionCache: 60_000,
              databaseURL: (ownPostgres = await startOwnPostgres()).url,
            });
      const counted = countReads(await openSharedStore());
      const clock = createManualClock(Date.now());
      const feed = await openSessionCacheFeed(config, counted.store, `lk_cache_${uniqueSuffix()}`);
      expect(feed).toBeDefined();
      const a = await createTestApp({
        store: counted.store,
        clock,
        config: { sessionCache: 60_000, logLevel: 'warn' },
        ...(feed === undefined ? {} : { sessionCacheFeed: feed }),
      });
      nodes.push(a);
      const b = await createTestApp({ store: await openSharedStore(), clock, config: { sessionCache: 0 } });
      nodes.push(b);
      await waitFor(() => a.latchkey.sessionCache?.live === true);

      await signup(b.app, 'a@example.com');
      const [one, two, three] = [
        await loginCookie(b.app, 'a@example.com'),
        await loginCookie(b.app, 'a@example.com'),
        await loginCookie(b.app, 'a@example.com'),
      ];
      const readsFor = async (cookie: string, expected: number): Promise<number> => {
        const before = counted.reads();
        expect(await me(a, cookie)).toBe(expected);
        return counted.reads() - before;
      };
      // Live: the second request of each session is served from A's memory.
      for (const login of [one, two, three]) {
        expect(await readsFor(login.cookie, 200)).toBeGreaterThan(0);
        expect(await readsFor(login.cookie, 200)).toBe(0);
      }
      // A change behind the channel's back (no record, no message) is not seen while it is live.
      await b.store.revokeSession(one.sessionId, clock());
      expect(await readsFor(one.cookie, 200)).toBe(0);

      // The channel's server goes down.
      if (channel.name === 'redis') await ownRedis?.kill();
      else await ownPostgres?.stopImmediately();
      await waitFor(() => a.logs.join('').includes('session_cache.channel_down'));

      // From now on A reads the store on every request: what changed behind its back is refused...
      expect(await readsFor(one.cookie, 401)).toBeGreaterThan(0);
      // ...and so is a logout made on B this instant, which no channel carried to A.
      const logout = await b.app.inject({
        method: 'POST',
        url: '/v1/logout',
        headers: { cookie: two.cookie, 'x-csrf-token': two.csrf },
      });
      expect(logout.statusCode).toBe(204);
      expect(await readsFor(two.cookie, 401)).toBeGreaterThan(0);
      // A live session still works, read from the store each time.
      expect(await readsFor(three.cookie, 200)).toBe(2);
      expect(await readsFor(three.cookie, 200)).toBe(2);
      expect(a.latchkey.sessionCache?.live).toBe(false);
    });
  });
}
