/**
 * A million sessions in Redis: the store at the size of a real deployment, not one hot session.
 *
 * Starts a redis-server of its own (a free port, `--save '' --appendonly no`, stopped at the
 * end: the shared Redis is never filled), two `latchkey serve` on it under one key prefix (the
 * default configuration, near cache on; and `LATCHKEY_SESSION_CACHE=0`), then seeds `sessions`
 * cookie sessions through the Redis store's own `createSession` (the layout the server reads,
 * whatever it is), `batch` at a time over one auto-pipelined connection, spread over `users`
 * users. It reports the seeding time, the Redis memory per session (`used_memory` growth over the
 * sessions alone, the users written before), and `GET /v1/me` under load with a session cookie
 * picked at random from all of them for every request.
 *
 * The near cache holds 10 000 sessions, so with random picks among a million nearly every
 * request misses it: the cache-on row shows the store's cost at this size, not a cache hit.
 * Sessions are seeded as last seen two minutes before: the first request of each slides its
 * expiry (a background write that the response does not wait for), as a returning user's does;
 * with random picks among a million, nearly every request is such a first one.
 */

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { randomId, randomSecret, sha256 } from '../../src/lib/secrets.js';
import type { SessionRecord, UserRecord } from '../../src/records.js';
import { openRedisStore } from '../../src/stores/redis/index.js';
import { startOwnRedis } from '../../test/helpers/own-servers.js';
import { withProcessCPU } from './cpu.js';
import { startBenchServer, type BenchServer } from './processes.js';
import { loginCookie, startLatchkey, type LatchkeyServer } from './latchkey.js';
import { runLoad, type LoadOptions } from './load.js';
import { median, progress } from './stats.js';

export interface MillionOptions {
  sessions: number;
  users: number;
  batch: number;
  connections: number;
  seconds: number;
  rounds: number;
  /** Where the Latchkey servers keep their data directory (unused by Redis, but required). */
  dataDir: string;
}

export interface MillionRow {
  id: string;
  label: string;
  /** A session picked at random each request (else one session, the same cookie every request). */
  random: boolean;
  /** The floor (`bench/servers/redis-floor.ts` on the same records), not a Latchkey server. */
  floor: boolean;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  cpuPerRequest: number;
  /**
   * Random rows: the latency at half the row's capacity (its median req/s above), at a fixed
   * rate (an open-loop load by autocannon), not at saturation. Null for the other rows.
   */
  halfLoad: { rate: number; p50: number; p99: number; errors: number } | null;
}

export interface MillionReport {
  sessions: number;
  users: number;
  batch: number;
  seedSeconds: number;
  /** `used_memory` growth over the seeding of the sessions, divided by their count. */
  bytesPerSession: number;
  usedMemoryMiB: number;
  rows: MillionRow[];
}

async function usedMemory(redis: Redis): Promise<number> {
  const match = /^used_memory:(\d+)/m.exec(await redis.info('memory'));
  if (match?.[1] === undefined) throw new Error('INFO memory has no used_memory');
  return Number(match[1]);
}

const USER_AGENT =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

/**
 * Seeds the users, then the sessions; returns one `Cookie` header value per session and the
 * figures of the seeding.
 */
async function seed(
  url: string,
  prefix: string,
  cookieName: string,
  options: MillionOptions,
): Promise<{ cookies: string[]; seedSeconds: number; bytesPerSession: number; usedMemoryMiB: number }> {
  const store = await openRedisStore({ url, prefix });
  const admin = new Redis(url);
  try {
    const now = Date.now();
    const userIds: string[] = [];
    for (let start = 0; start < options.users; start += options.batch) {
      const batch: Promise<void>[] = [];
      for (let i = start; i < Math.min(options.users, start + options.batch); i++) {
        const user: UserRecord = {
          id: randomId(),
          email: `million-${i}@bench.example`,
          passwordHash: '',
          status: 'active',
          roles: [],
          createdAt: now,
          updatedAt: now,
          emailVerifiedAt: null,
        };
        userIds.push(user.id);
        batch.push(store.createUser(user));
      }
      await Promise.all(batch);
    }
    const before = await usedMemory(admin);
    const cookies: string[] = [];
    const started = performance.now();
    for (let start = 0; start < options.sessions; start += options.batch) {
      const batch: Promise<void>[] = [];
      for (let i = start; i < Math.min(options.sessions, start + options.batch); i++) {
        const secret = randomSecret();
        const session: SessionRecord = {
          id: randomId(),
          userId: userIds[i % userIds.length] ?? '',
          secretHash: sha256(secret),
          mode: 'cookie',
          createdAt: now - 120_000,
          lastSeenAt: now - 120_000,
          idleExpiresAt: now + 2 * 60 * 60 * 1000,
          absoluteExpiresAt: now + 24 * 60 * 60 * 1000,
          userAgent: USER_AGENT,
          ip: '203.0.113.7',
          revokedAt: null,
          persistent: false,
          amr: ['pwd'],
          authTime: now - 120_000,
          acr: '1',
        };
        cookies.push(`${cookieName}=${session.id}.${secret}`);
        batch.push(store.createSession(session));
      }
      await Promise.all(batch);
      if ((start / options.batch) % 100 === 99)
        progress(
          `million: ${cookies.length} sessions in ${((performance.now() - started) / 1000).toFixed(0)} s`,
        );
    }
    const seedSeconds = (performance.now() - started) / 1000;
    const after = await usedMemory(admin);
    return {
      cookies,
      seedSeconds,
      bytesPerSession: (after - before) / options.sessions,
      usedMemoryMiB: after / 2 ** 20,
    };
  } finally {
    await store.close();
    admin.disconnect();
  }
}

/** Runs the whole section; stops everything it started, whatever happens. */
export async function runMillionSessions(options: MillionOptions): Promise<MillionReport> {
  const redis = await startOwnRedis();
  const servers: LatchkeyServer[] = [];
  let floorServer: BenchServer | undefined;
  try {
    const prefix = `lkbench-million-${randomBytes(3).toString('hex')}`;
    const env = { REDIS_URL: redis.url, LATCHKEY_REDIS_PREFIX: prefix, LATCHKEY_DATA_DIR: options.dataDir };
    servers.push(await startLatchkey('million-default', env));
    servers.push(
      await startLatchkey('million-nocache', { ...env, LATCHKEY_SESSION_CACHE: '0' }, { signup: false }),
    );
    const [cached, plain] = servers as [LatchkeyServer, LatchkeyServer];
    // The floor on the same Redis and the same cookies: one GET of the session the cookie names
    // and a JSON.parse, nothing else (what this machine's latency is at best, one read a request).
    floorServer = await startBenchServer('million-floor', 'redis-floor', {
      BENCH_REDIS_URL: redis.url,
      BENCH_PREFIX: `${prefix}-floor:`,
      BENCH_LATCHKEY_PREFIX: prefix,
    });
    const floor = { url: floorServer.url, pid: floorServer.child.pid, path: '/me' };
    // The cookie's name as the server sets it (`__Host-` only over HTTPS issuers).
    const cookieName = (await loginCookie(cached.url)).split('=')[0] ?? '';
    progress(`million: seeding ${options.sessions} sessions (${options.users} users) into ${redis.url}`);
    const seeded = await seed(redis.url, prefix, cookieName, options);
    progress(
      `million: seeded in ${seeded.seedSeconds.toFixed(1)} s, ${seeded.bytesPerSession.toFixed(0)} bytes per session`,
    );
    // Each server also with one session, the same cookie every request: what the store's size
    // and the spread of the requests cost, on the same servers and the same Redis.
    const hot = seeded.cookies[0] ?? '';
    const on = { url: cached.url, pid: cached.server.child.pid, path: '/v1/me' };
    const off = { url: plain.url, pid: plain.server.child.pid, path: '/v1/me' };
    const rows = [
      { id: 'million-default', label: 'the default (near cache on)', server: on, random: true, floor: false },
      {
        id: 'million-nocache',
        label: 'near cache off (LATCHKEY_SESSION_CACHE=0)',
        server: off,
        random: true,
        floor: false,
      },
      {
        id: 'million-floor',
        label: 'The floor: Fastify + one ioredis GET and JSON.parse of the same session records',
        server: floor,
        random: true,
        floor: true,
      },
      {
        id: 'million-default-hot',
        label: 'the default (near cache on), one session (the same cookie every request)',
        server: on,
        random: false,
        floor: false,
      },
      {
        id: 'million-nocache-hot',
        label: 'near cache off, one session (the same cookie every request)',
        server: off,
        random: false,
        floor: false,
      },
    ];
    const loads = rows.map((row) => {
      const load: LoadOptions = {
        url: `${row.server.url}${row.server.path}`,
        connections: options.connections,
        seconds: options.seconds,
        ...(row.random
          ? { rotate: { header: 'cookie', values: seeded.cookies, random: true } }
          : { headers: { cookie: hot } }),
      };
      return {
        ...row,
        load,
        runs: [] as Array<{ rps: number; p50: number; p99: number; errors: number; cpu: number }>,
      };
    });
    for (const l of loads) {
      const probe = await fetch(l.load.url, {
        headers: { cookie: seeded.cookies[seeded.cookies.length - 1] ?? '' },
      });
      await probe.arrayBuffer();
      if (probe.status !== 200)
        throw new Error(`million: ${l.id} answered ${probe.status} to a seeded session`);
    }
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < loads.length; i++) {
        const l = loads[(i + round) % loads.length];
        if (l === undefined) continue;
        // Warm-up, discarded: longer the first time (the servers sat idle through the seeding).
        await runLoad({ ...l.load, seconds: round === 0 ? options.seconds : 1 });
        const { value, cpuMicros } = await withProcessCPU(l.server.pid, () => runLoad(l.load));
        l.runs.push({
          rps: value.rps,
          p50: value.p50,
          p99: value.p99,
          errors: value.errors,
          cpu: cpuMicros === null || value.requests <= 0 ? Number.NaN : cpuMicros / value.requests,
        });
        progress(
          `million round ${round + 1}/${options.rounds} ${l.id}: ${value.rps.toFixed(0)} req/s, p50 ${value.p50.toFixed(3)} ms, p99 ${value.p99.toFixed(3)} ms${value.errors > 0 ? `, ${value.errors} errors` : ''}`,
        );
      }
    }
    // Then each random row at half its capacity, at a fixed rate: what a user sees from a
    // server that is busy but not saturated (a closed load at saturation measures the queue).
    const halfLoads = new Map<string, MillionRow['halfLoad']>();
    for (const l of loads.filter((row) => row.random)) {
      const rate = Math.max(1, Math.round(median(l.runs.map((r) => r.rps)) / 2));
      const result = await runLoad({ ...l.load, seconds: options.seconds * options.rounds, rate });
      halfLoads.set(l.id, { rate, p50: result.p50, p99: result.p99, errors: result.errors });
      progress(
        `million ${l.id} at ${rate} req/s (half its capacity, fixed rate): p50 ${result.p50.toFixed(3)} ms, p99 ${result.p99.toFixed(3)} ms`,
      );
    }
    return {
      sessions: options.sessions,
      users: options.users,
      batch: options.batch,
      seedSeconds: seeded.seedSeconds,
      bytesPerSession: seeded.bytesPerSession,
      usedMemoryMiB: seeded.usedMemoryMiB,
      rows: loads.map((l) => ({
        id: l.id,
        label: l.label,
        random: l.random,
        floor: l.floor,
        rps: median(l.runs.map((r) => r.rps)),
        p50: median(l.runs.map((r) => r.p50)),
        p99: median(l.runs.map((r) => r.p99)),
        errors: l.runs.reduce((sum, r) => sum + r.errors, 0),
        cpuPerRequest: median(l.runs.map((r) => r.cpu).filter((c) => Number.isFinite(c))),
        halfLoad: halfLoads.get(l.id) ?? null,
      })),
    };
  } finally {
    await floorServer?.stop().catch(() => undefined);
    for (const server of servers.reverse()) await server.server.stop(10_000).catch(() => undefined);
    await redis.destroy();
  }
}
