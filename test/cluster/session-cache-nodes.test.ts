/**
 * The near session cache, on by default, across three nodes on one shared store, on Redis
 * (pub/sub) and on Postgres (LISTEN/NOTIFY). One task revokes sessions and changes users in a
 * loop (logout, revoking one session, password change, sign out everywhere, disabling a user,
 * a role change, an email verification) through random nodes, while readers send `GET /v1/me`
 * of live and revoked sessions to all three. The rule, checked on every answer: once the
 * revoking call has returned AND the answering node's feed has delivered the record it made, the
 * node never answers 200 for that session, nor serves the user as they were. The nodes' clock
 * never moves, so the cache's max age never ends an entry: only the channel does.
 *
 * Then the channel's connections are cut mid-load (`CLIENT KILL TYPE pubsub` on a Redis of the
 * test's own; `pg_terminate_backend` of the LISTEN connections in the test's database), and the
 * feeds' catch-up is held until the test lets it go: while a node's cache is not live, every
 * answer must reflect the store (every acknowledged change, delivered or not, and a revocation
 * written behind the nodes' back); once live again, each node has every record made before it
 * reconnected, serves from memory again, and the rule above holds.
 *
 * The readers are bounded: a fixed number of requests in flight, each reader yielding to the
 * event loop between two requests (a request answered from the cache never does by itself, and
 * readers that never yield starve the feeds' sockets and the test's own timers).
 */
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import type { RevocationPublisher } from '../../src/revocation/publishers.js';
import type { Store } from '../../src/store.js';
import { openPostgresStore } from '../../src/stores/postgres/index.js';
import { openRedisStore } from '../../src/stores/redis/index.js';
import { json, loginCookie, PASSWORD, type CookieLogin } from '../helpers/app.js';
import { startCacheNode, waitUntil, type CacheNode, type ChannelSettings } from '../helpers/cache-nodes.js';
import { probeOwnServerBinaries, startOwnRedis, type OwnRedis } from '../helpers/own-servers.js';
import { createRevocationLedger, type RevocationLedger } from '../helpers/revocation-ledger.js';
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

/** The worker's heap, printed with each case's figures (the readers must keep it flat). */
const heapMB = (): number => Math.round(process.memoryUsage().heapUsed / 1e6);

interface Login extends CookieLogin {
  userId: string;
  email: string;
}

const transports = [
  { name: 'redis', problems: [await probeRedis(), await probeOwnServerBinaries()] },
  { name: 'postgres', problems: [await probePostgres()] },
] as const;

for (const transport of transports) {
  describeWithServices(`the near cache on three nodes (${transport.name})`, transport.problems, () => {
    let database: TestDatabase | undefined;
    let prefix: TestRedisPrefix | undefined;
    let ownRedis: OwnRedis | undefined;
    let settings: ChannelSettings;
    const publishers: RevocationPublisher[] = [];
    const nodes: CacheNode[] = [];
    const clock = createManualClock(Date.now());
    const ledger: RevocationLedger = createRevocationLedger();
    const logins: Login[] = [];
    const passwords = new Map<string, string>();
    let users = 0;
    /** Role ranks only grow over the whole file: a lower rank than expected is a stale answer. */
    let roleRank = 0;

    async function openStore(): Promise<Store> {
      if (transport.name === 'redis') {
        prefix ??= createTestRedisPrefix();
        return openRedisStore({ url: prefix.url, prefix: prefix.prefix });
      }
      database ??= await createTestDatabase();
      return openPostgresStore({ url: database.url, migrate: true });
    }

    beforeAll(async () => {
      const first = await openStore();
      const channel = `lk_nodes_${uniqueSuffix()}`;
      // The Redis channel runs on a server of the test's own, so that it can cut its clients.
      if (transport.name === 'redis') ownRedis = await startOwnRedis();
      settings = { transport: transport.name, url: ownRedis?.url ?? database?.url ?? '', channel };
      for (const name of ['A', 'B', 'C']) {
        const store = nodes.length === 0 ? first : await openStore();
        nodes.push(await startCacheNode(name, store, clock, settings, publishers));
      }
      await waitUntil(() => nodes.every((n) => n.node.latchkey.sessionCache?.live === true));
    }, 60_000);

    afterAll(async () => {
      for (const n of nodes) await n.node.close().catch(() => undefined);
      for (const publisher of publishers) await publisher.close().catch(() => undefined);
      await Promise.allSettled([database?.drop(), prefix?.cleanup(), ownRedis?.destroy()]);
    });

    const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)] as T;
    /** Sessions the test revoked (or whose user it disabled), however the nodes stand. */
    const revoked = new Set<string>();
    const alive = (): Login[] => logins.filter((l) => !revoked.has(l.sessionId));

    async function newUser(): Promise<string> {
      const email = `u${++users}@example.com`;
      // Each from an address of its own: sign-ups are limited per address and hour.
      const response = await pick(nodes).node.app.inject({
        method: 'POST',
        url: '/v1/signup',
        payload: { email, password: PASSWORD },
        remoteAddress: `10.0.${Math.floor(users / 250)}.${users % 250}`,
      });
      expect(response.statusCode).toBe(201);
      passwords.set(email, PASSWORD);
      return email;
    }

    async function login(email: string): Promise<Login> {
      const n = pick(nodes);
      const cookie = await loginCookie(n.node.app, email, passwords.get(email));
      const me = await n.node.app.inject({ url: '/v1/me', headers: { cookie: cookie.cookie } });
      const entry = { ...cookie, email, userId: json<{ user: { id: string } }>(me).user.id };
      logins.push(entry);
      return entry;
    }

    /** One request, checked against the rule; returns a description of a violation, or null. */
    async function check(n: CacheNode, l: Login): Promise<string | null> {
      const bypassed = n.node.latchkey.sessionCache?.live === false;
      const expected = ledger.expectation(n, l.sessionId, l.userId, bypassed);
      const response = await n.node.app.inject({ url: '/v1/me', headers: { cookie: l.cookie } });
      stats.requests++;
      if (bypassed) stats.bypassed++;
      if (expected.refuse) stats.mustRefuse++;
      if (response.statusCode !== 200) {
        if (response.statusCode >= 500) return `${n.name}: ${response.statusCode} for ${l.sessionId}`;
        return null;
      }
      if (expected.refuse) return `${n.name}: 200 for revoked session ${l.sessionId}`;
      const user = json<{ user: { roles: string[]; email_verified: boolean } }>(response).user;
      const rank = (roles: readonly string[]): number => Number((roles[0] ?? 'r0').slice(1));
      if (expected.roles !== undefined && rank(user.roles) < rank(expected.roles)) {
        return `${n.name}: stale roles ${user.roles.join()} for ${l.email}`;
      }
      if (expected.emailVerified === true && !user.email_verified) return `${n.name}: stale email_verified`;
      return null;
    }

    const stats = { requests: 0, mustRefuse: 0, bypassed: 0, actions: 0 };

    /** One revocation or user change through a random node. */
    async function act(step: number): Promise<void> {
      const live = alive();
      if (live.length < 6) await login(live.length % 2 === 0 ? await newUser() : pick(live).email);
      const target = pick(alive());
      const n = pick(nodes);
      const headers = { cookie: target.cookie, 'x-csrf-token': target.csrf };
      const app = n.node.app;
      const sameUser = alive().filter((l) => l.userId === target.userId && l !== target);
      const mark = (list: Login[]): void => list.forEach((l) => revoked.add(l.sessionId));
      switch (step % 7) {
        case 0:
          await ledger.acknowledge(n, () => app.inject({ method: 'POST', url: '/v1/logout', headers }));
          mark([target]);
          break;
        case 1: {
          const other = sameUser[0] ?? (await login(target.email));
          const url = `/v1/sessions/${other.sessionId}`;
          await ledger.acknowledge(n, () => app.inject({ method: 'DELETE', url, headers }));
          mark([other]);
          break;
        }
        case 2: {
          const password = `${PASSWORD} ${step}`;
          const payload = { current_password: passwords.get(target.email), new_password: password };
          const response = await ledger.acknowledge(n, () =>
            app.inject({ method: 'POST', url: '/v1/password', headers, payload }),
          );
          expect(response.statusCode).toBe(200);
          passwords.set(target.email, password);
          mark([target, ...sameUser]);
          break;
        }
        case 3:
          await ledger.acknowledge(n, () => app.inject({ method: 'DELETE', url: '/v1/sessions', headers }));
          mark([target, ...sameUser]);
          break;
        case 4: {
          const roles = [`r${++roleRank}`];
          await ledger.acknowledge(n, () => n.node.latchkey.auth.setUserRoles(target.email, roles));
          ledger.expectRoles(target.userId, roles);
          break;
        }
        case 5:
          await ledger.acknowledge(n, () => n.node.latchkey.auth.markVerified(target.email));
          ledger.expectVerified(target.userId);
          break;
        default:
          await ledger.acknowledge(n, () => n.node.latchkey.auth.setUserStatus(target.email, 'disabled'));
          ledger.expectDisabled(target.userId);
          mark([target, ...sameUser]);
      }
      stats.actions++;
    }

    /**
     * `count` readers on random nodes, each one request at a time and yielding to the event loop
     * between two: at most `count` requests in flight, nothing queued. `stop` returns the
     * violations they saw.
     */
    function startReaders(count = 4): { stop: () => Promise<string[]> } {
      const violations: string[] = [];
      let running = true;
      const reader = async (): Promise<void> => {
        while (running) {
          // Half live sessions (what the cache serves), half any (revoked ones pile up).
          const live = alive();
          const l = live.length > 0 && Math.random() < 0.5 ? pick(live) : pick(logins);
          const violation = await check(pick(nodes), l);
          if (violation !== null && violations.length < 100) violations.push(violation);
          await new Promise((resolve) => setImmediate(resolve));
        }
      };
      const readers = Array.from({ length: count }, () => reader());
      return {
        async stop() {
          running = false;
          await Promise.all(readers);
          return violations;
        },
      };
    }

    /** Makes `count` revocations or user changes from `first` on, one after another. */
    async function actions(first: number, count: number): Promise<void> {
      for (let step = first; step < first + count; step++) {
        await act(step);
        // Let the readers run between two actions.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }

    /** Readers on every node while `count` revocations are made; returns the violations. */
    async function load(count: number): Promise<string[]> {
      const readers = startReaders();
      try {
        await actions(0, count);
      } catch (error) {
        await readers.stop();
        throw error;
      }
      return readers.stop();
    }

    it('never answers 200 for a session once its revocation is acknowledged and delivered to the node', async () => {
      for (let i = 0; i < 4; i++) {
        const email = await newUser();
        await login(email);
        await login(email);
      }
      const readsBefore = nodes.reduce((sum, n) => sum + n.reads(), 0);
      const violations = await load(70);
      expect(violations).toEqual([]);
      console.info(`[near cache ${transport.name}] ${JSON.stringify({ ...stats, heapMB: heapMB() })}`);
      // Not vacuous: the rule was in force for many requests, and the cache answered most of them.
      expect(stats.mustRefuse).toBeGreaterThan(50);
      const reads = nodes.reduce((sum, n) => sum + n.reads(), 0) - readsBefore;
      expect(reads).toBeLessThan(stats.requests);
      // Every node ends up knowing every record (the rule was checked against all of them).
      const all = ledger.acknowledged();
      await waitUntil(() => nodes.every((n) => all.every((seq) => n.delivered.has(seq))));
      for (const n of nodes) {
        for (const l of logins.filter((x) => revoked.has(x.sessionId)))
          expect((await check(n, l)) ?? 'ok').toBe('ok');
      }
    }, 120_000);

    it('bypasses the cache while the feed is cut and catching up, and serves again, right, once caught up', async () => {
      Object.assign(stats, { requests: 0, mustRefuse: 0, bypassed: 0, actions: 0 });
      while (alive().length < 6) await login(await newUser());
      await waitUntil(() => nodes.every((n) => n.node.latchkey.sessionCache?.live === true), 60_000);
      const down = new Set<CacheNode>();
      const missed: string[] = [];
      for (const n of nodes) {
        let before: number[] = [];
        n.onState = (state) => {
          if (state.status === 'connecting') before = ledger.acknowledged();
          if (state.status !== 'live') down.add(n);
          // Live again: every record acknowledged before it started to reconnect was delivered.
          else if (down.has(n))
            missed.push(...before.filter((seq) => !n.delivered.has(seq)).map((seq) => `${n.name}:${seq}`));
        };
      }
      const livesBefore = nodes.map((n) => n.states.filter((s) => s === 'live').length);
      const readers = startReaders();
      const releases: (() => void)[] = [];
      let victims = 0;
      let violations: string[] = [];
      try {
        await actions(100, 5);
        // The catch-up is held from before the cut: no node can be live again until released.
        releases.push(...nodes.map((n) => n.holdSnapshots()));
        await cut();
        expect(nodes.every((n) => n.node.latchkey.sessionCache?.live === false)).toBe(true);
        await actions(105, 7);
        // A revocation no channel carries (written behind the nodes' back): refused at once,
        // from a store read, by a node whose cache is bypassed.
        for (const n of nodes) {
          const victim = alive()[0] ?? (await login(await newUser()));
          revoked.add(victim.sessionId);
          await n.node.store.revokeSession(victim.sessionId, clock());
          const reads = n.reads();
          const response = await n.node.app.inject({ url: '/v1/me', headers: { cookie: victim.cookie } });
          expect(n.node.latchkey.sessionCache?.live).toBe(false);
          expect(response.statusCode).toBe(401);
          expect(n.reads()).toBeGreaterThan(reads);
          victims++;
        }
        expect(nodes.every((n) => n.node.latchkey.sessionCache?.live === false)).toBe(true);
        for (const release of releases.splice(0)) release();
        await waitUntil(() => nodes.every((n) => n.node.latchkey.sessionCache?.live === true), 60_000);
        await actions(112, 10);
      } finally {
        for (const release of releases) release();
        violations = await readers.stop();
      }
      expect(violations).toEqual([]);
      console.info(
        `[near cache ${transport.name}, feed cut] ${JSON.stringify({ ...stats, victims, heapMB: heapMB() })}`,
      );
      expect(down.size).toBe(3);
      expect(missed).toEqual([]);
      expect(nodes.every((n, i) => n.states.filter((s) => s === 'live').length > (livesBefore[i] ?? 0))).toBe(
        true,
      );
      // Not vacuous: requests were answered while the caches were bypassed.
      expect(stats.bypassed).toBeGreaterThan(0);
      // Serving from memory again: once every record has arrived, a second request of a live
      // session reads nothing (tried again when a resync's re-delivery dropped the entry between).
      const all = ledger.acknowledged();
      await waitUntil(() => nodes.every((n) => all.every((seq) => n.delivered.has(seq))));
      for (const n of nodes) {
        const l = alive()[0] ?? (await login(await newUser()));
        await waitUntil(async () => {
          expect((await check(n, l)) ?? 'ok').toBe('ok');
          const reads = n.reads();
          expect((await check(n, l)) ?? 'ok').toBe('ok');
          return n.reads() === reads;
        }, 30_000);
        // And right: every session revoked so far is refused, the victims too.
        for (const r of logins.filter((x) => revoked.has(x.sessionId))) {
          const response = await n.node.app.inject({ url: '/v1/me', headers: { cookie: r.cookie } });
          expect(response.statusCode).toBe(401);
        }
      }
    }, 120_000);

    /**
     * Cuts every node's feed connection on the channel's server, and resolves once no node's cache
     * is live. With the catch-up held, a node cannot be live again; one that was reconnecting
     * anyway (a heartbeat lost under load) has no connection to cut, hence "at least one".
     */
    async function cut(): Promise<void> {
      let killed: number;
      if (transport.name === 'redis') {
        const admin = new Redis(ownRedis?.url ?? '');
        try {
          killed = Number(await admin.client('KILL', 'TYPE', 'pubsub'));
        } finally {
          admin.disconnect();
        }
      } else {
        const admin = new pg.Client({ connectionString: database?.url });
        await admin.connect();
        try {
          const result = await admin.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = 'latchkey-session-cache'`,
          );
          killed = result.rowCount ?? 0;
        } finally {
          await admin.end();
        }
      }
      expect(killed).toBeGreaterThan(0);
      expect(killed).toBeLessThanOrEqual(3);
      await waitUntil(() => nodes.every((n) => n.node.latchkey.sessionCache?.live === false), 60_000);
    }
  });
}
