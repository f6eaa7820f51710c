/**
 * The benchmark harness: `npm run bench [-- --quick] [--write] [--only http,million,cluster]
 * [--sessions N] [--rounds N] [--seconds N] [--out DIR]` (and, later, `latchkey bench`).
 *
 * Session against JWT, and Latchkey against what people use today, on this machine:
 * - verification in process, per algorithm (ours cold and cached, raw node:crypto, jose,
 *   fast-jwt, jsonwebtoken);
 * - a protected route over HTTP (req/s, p50, p99, server CPU per request) for Latchkey cookie
 *   sessions on each store (with and without the near session cache; SQLite, the default store,
 *   in quick mode too), a resource service on
 *   `latchkey/verify` with a reused and a new JWT per request, the hybrid access cookie, and
 *   express-session + connect-redis, @fastify/jwt and hono/jwt; each against its own ceiling
 *   (the same server process, a no-auth route with the same body) and a bare Fastify reference;
 * - login and refresh throughput, revocation lag, storage per session, the added latency of the
 *   auth step at one connection, and the resident memory of the Latchkey servers (now and peak);
 * - (full mode) the Redis rows again on a 3-master Redis Cluster of the run's own (`cluster`),
 *   and a million sessions in a Redis of the run's own, read at random (`million`,
 *   `--sessions N` for another count): bytes per session and `GET /v1/me` p50/p99.
 *
 * Every server runs in its own process and the load generator (wrk, or autocannon without it)
 * in another; every figure is the median of interleaved rounds, and every comparison a ratio
 * against a baseline measured in the same run (for a protected route: the same server's no-auth
 * route, loaded just before it). `--quick` runs a few scenarios with 1-s loads and
 * one round (under a minute, for CI) and writes its report to a temporary directory unless
 * `--write` is given. `--only` runs the sections named (`http` is everything but the other
 * two), to a temporary directory too. A full run writes docs/benchmarks.md and docs/benchmarks.svg.
 */

import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem, tmpdir, type, release } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import jsonwebtoken from 'jsonwebtoken';
import pg from 'pg';
import { createClient } from 'redis';
import { generateSigningKey, type GeneratedSigningKey } from '../src/keys/key-material.js';
import type { KeyAlgorithm } from '../src/records.js';
import { signAccessToken } from '../src/token/jwt.js';
import { BENCH_AUDIENCE, BENCH_ISSUER, benchClaims } from './lib/bench-tokens.js';
import { createTestMySQLDatabase, probeMySQL, type TestMySQLDatabase } from '../test/helpers/mysql.js';
import { ROOT } from '../test/helpers/process.js';
import { processCPUMicros, withProcessCPU } from './lib/cpu.js';
import {
  loginCookie,
  loginHybrid,
  loginToken,
  BENCH_EMAIL,
  BENCH_PASSWORD,
  LATCHKEY_OPEN_PATH,
  startLatchkey,
  postJSON,
} from './lib/latchkey.js';
import { startBenchCluster } from './lib/cluster.js';
import { hasWrk, runLoad, type LoadOptions, type LoadResult } from './lib/load.js';
import { runMillionSessions, type MillionReport } from './lib/million.js';
import { processMemory } from './lib/memory.js';
import { servedMemory } from './lib/served.js';
import { profileLatchkeySession, type ProfileSummary } from './lib/profile.js';
import { killAllChildren, startBenchServer, trackChild } from './lib/processes.js';
import {
  formatCount,
  formatMicros,
  formatMs,
  formatRatio,
  median,
  percentile,
  progress,
} from './lib/stats.js';
import { renderChart, renderMarkdown, type BenchReport, type HTTPRow, type TargetRow } from './report.js';
import { runVerifyComparison, type VerifyResults } from './verify-compare.js';

const ISSUER = BENCH_ISSUER;
const AUDIENCE = BENCH_AUDIENCE;
/** Larger than the verifier's default cache (10 000 entries): a pool rotated in order always misses. */
const FULL_POOL = 12_000;

/** The parts of a run `--only` can pick: the HTTP and everything else, and the two Redis sections. */
const SECTIONS = ['http', 'million', 'cluster'] as const;

/** The memory row of `latchkey serve` run as users run it (`./lib/served.ts`). */
const SERVED_LABEL = 'SQLite, the default: latchkey serve from dist/ (npm start)';
type Section = (typeof SECTIONS)[number];

interface Settings {
  quick: boolean;
  /** The sections to run: all of them in a full run, `http` alone in quick mode. */
  sections: ReadonlySet<Section>;
  /** Whether `--only` narrowed the run (its report then goes to a temporary directory too). */
  partial: boolean;
  /** Sessions seeded for the `million` section (`--sessions`, default 1 000 000). */
  millionSessions: number;
  write: boolean;
  rounds: number;
  seconds: number;
  latencySeconds: number;
  connections: number;
  verifyRounds: number;
  verifyMs: number;
  pool: number;
  algorithms: KeyAlgorithm[];
  revocationSamples: number;
  out: string | null;
}

interface Scenario {
  id: string;
  label: string;
  group: HTTPRow['group'];
  /** The in-process verify figure this scenario is bounded by (new-token scenarios). */
  alg?: KeyAlgorithm;
  load: LoadOptions;
  /**
   * Its ceiling: the same load (headers, token rotation) on a route of the same server process
   * that does no authentication and answers a body of the same shape (`GET /open` on the bench
   * servers, `GET /bench/open` on Latchkey). None for the bare Fastify reference.
   */
  ceiling?: LoadOptions;
  /** The server process, whose CPU time is read around each load. */
  pid: number | undefined;
}

/** One load, with the server's CPU microseconds per request during it (null where unknown). */
interface Measured {
  result: LoadResult;
  cpuPerRequest: number | null;
}

function settingsFrom(args: string[]): Settings {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean', default: false },
      write: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      out: { type: 'string' },
      only: { type: 'string' },
      sessions: { type: 'string' },
    },
  });
  const quick = values.quick;
  const only = values.only?.split(',').map((s) => s.trim());
  for (const name of only ?? [])
    if (!(SECTIONS as readonly string[]).includes(name))
      throw new Error(`--only: unknown section ${name} (one of ${SECTIONS.join(', ')})`);
  const sections = new Set<Section>((only as Section[] | undefined) ?? (quick ? ['http'] : [...SECTIONS]));
  const millionSessions = Number(values.sessions ?? 1_000_000);
  if (!(Number.isInteger(millionSessions) && millionSessions >= 1000))
    throw new Error('--sessions: a whole number, at least 1000');
  return {
    quick,
    sections,
    partial: only !== undefined,
    millionSessions,
    write: values.write,
    rounds: Number(values.rounds ?? (quick ? 1 : 3)),
    seconds: Number(values.seconds ?? (quick ? 1 : 3)),
    latencySeconds: quick ? 1 : 2,
    connections: 10,
    verifyRounds: quick ? 1 : 5,
    verifyMs: quick ? 80 : 200,
    pool: FULL_POOL,
    algorithms: !sections.has('http') ? [] : quick ? ['EdDSA'] : ['EdDSA', 'ES256', 'RS256', 'HS256'],
    revocationSamples: quick ? 5 : 25,
    out: values.out ?? null,
  };
}

/** Environment of a `latchkey-verify` server for a statically keyed algorithm. */
function verifyServerEnv(key: GeneratedSigningKey): Record<string, string> {
  const env: Record<string, string> = { BENCH_ISSUER: ISSUER, BENCH_AUDIENCE: AUDIENCE, BENCH_ALG: key.alg };
  if (key.alg === 'HS256') {
    env.BENCH_KID = key.kid;
    env.BENCH_HS256_KEY = key.privateKey.export().toString('base64url');
  } else {
    env.BENCH_KEYS = JSON.stringify([key.publicJwk]);
  }
  return env;
}

async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  try {
    for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
      const keys: string[] = Array.isArray(batch) ? batch : [batch];
      if (keys.length > 0) await client.del(keys);
    }
  } finally {
    await client.quit();
  }
}

async function reachable(check: () => Promise<void>): Promise<boolean> {
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000)),
    ]);
    return true;
  } catch {
    return false;
  }
}

/** Runs a child to completion (bounded), returning its stdout; null when it fails. */
async function runScript(args: string[], timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(child);
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0)
        progress(`${args.join(' ')} exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`);
      resolve(code === 0 ? out : null);
    });
  });
}

/** Median of per-round ratios `a[i] / b[i]` (each round's pair was measured close together). */
function roundRatio(a: readonly number[], b: readonly number[]): number {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) ratios.push((a[i] ?? NaN) / (b[i] ?? NaN));
  return median(ratios);
}

/** The median of the known values (NaN when none is known). */
function medianOf(values: ReadonlyArray<number | null>): number {
  return median(values.filter((v): v is number => v !== null && Number.isFinite(v)));
}

/** Runs one load, reading the CPU time of the server process `pid` around it. */
async function measure(load: LoadOptions, pid: number | undefined): Promise<Measured> {
  const { value, cpuMicros } = await withProcessCPU(pid, () => runLoad(load));
  return {
    result: value,
    cpuPerRequest: cpuMicros === null || !(value.requests > 0) ? null : cpuMicros / value.requests,
  };
}

/** One request of `load` (the first rotated value, if any): throws unless it answers 200; returns the body size. */
async function probe(id: string, load: LoadOptions): Promise<number> {
  const headers: Record<string, string> = { ...load.headers };
  if (load.rotate !== undefined) headers[load.rotate.header] = load.rotate.values[0] ?? '';
  const response = await fetch(load.url, {
    method: load.method ?? 'GET',
    headers,
    ...(load.body === undefined ? {} : { body: load.body }),
  });
  const body = await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`${id}: ${load.url} answered ${response.status}`);
  return body.byteLength;
}

export async function runBenchmarks(args: string[]): Promise<number> {
  const settings = settingsFrom(args);
  /** Everything but the two Redis sections: `--only million,cluster` leaves it out. */
  const full = settings.sections.has('http');
  const started = Date.now();
  const cleanups: Array<() => Promise<void>> = [];
  const dropped: string[] = [];
  const onSignal = (): void => {
    progress('interrupted: stopping every process');
    killAllChildren();
    process.exitCode = 130;
  };
  process.once('SIGINT', onSignal);
  process.once('exit', killAllChildren);
  const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'latchkey-bench-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const redisURL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const postgresBase =
    process.env.LATCHKEY_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

  try {
    progress(
      `${settings.quick ? 'quick' : 'full'} run${settings.partial ? ` of ${[...settings.sections].join(', ')}` : ''}: ${settings.rounds} round(s) x ${settings.seconds} s per load, load by ${hasWrk() ? 'wrk' : 'autocannon'}`,
    );

    // 1. Verification in process (before any server runs, so nothing competes for the CPU).
    progress(`verify in process: ${settings.algorithms.join(', ')}`);
    const verify: VerifyResults = await runVerifyComparison({
      algorithms: settings.algorithms,
      rounds: settings.verifyRounds,
      ms: settings.verifyMs,
    });

    // 2. Keys and token pools.
    progress(`signing token pools (${settings.pool} per algorithm)`);
    const keys = new Map<KeyAlgorithm, GeneratedSigningKey>();
    const pools = new Map<KeyAlgorithm, string[]>();
    for (const alg of settings.algorithms) {
      const key = await generateSigningKey(alg);
      keys.set(alg, key);
      const pool: string[] = [];
      for (let i = 0; i < settings.pool; i++) pool.push(signAccessToken(benchClaims(i), key));
      pools.set(alg, pool);
    }
    const hsSecret = randomBytes(32).toString('base64url');
    const todayToken = jsonwebtoken.sign({ sub: 'user-123' }, hsSecret, {
      algorithm: 'HS256',
      expiresIn: '1h',
    });

    // 3. Servers.
    const hasRedis =
      !settings.quick &&
      (full || settings.sections.has('cluster')) &&
      (await reachable(() => deleteRedisPrefix(redisURL, `lkbench-probe-${tag}:`)));
    let postgresDB: string | null = null;
    if (!settings.quick && full) {
      const admin = new pg.Client({ connectionString: postgresBase });
      if (
        await reachable(async () => {
          await admin.connect();
        })
      ) {
        postgresDB = `latchkey_bench_${tag}`;
        await admin.query(`CREATE DATABASE ${postgresDB}`);
        await admin.end();
        const dbName = postgresDB;
        cleanups.push(async () => {
          const dropper = new pg.Client({ connectionString: postgresBase });
          await dropper.connect();
          await dropper.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
          await dropper.end();
        });
      } else {
        dropped.push('Postgres scenarios (Postgres unreachable)');
      }
    }
    if (!settings.quick && !hasRedis) dropped.push('Redis scenarios (Redis unreachable)');
    let mysqlDB: TestMySQLDatabase | null = null;
    if (!settings.quick && full) {
      if ((await probeMySQL()) === null) {
        mysqlDB = await createTestMySQLDatabase();
        const db = mysqlDB;
        cleanups.push(() => db.drop());
      } else {
        dropped.push('MariaDB scenarios (MariaDB unreachable)');
      }
    }
    const postgresURL = postgresDB === null ? null : postgresBase.replace(/\/[^/]*$/, `/${postgresDB}`);
    const latchkeyPrefix = `lkbench-${tag}`;
    const cachedPrefix = `lkbench-cached-${tag}`;
    const expressPrefix = `lkbench-express-${tag}:`;
    const floorPrefix = `lkbench-floor-${tag}:`;
    if (hasRedis) {
      cleanups.push(() => deleteRedisPrefix(redisURL, floorPrefix));
      cleanups.push(() => deleteRedisPrefix(redisURL, `${latchkeyPrefix}:`));
      cleanups.push(() => deleteRedisPrefix(redisURL, `${cachedPrefix}:`));
      cleanups.push(() => deleteRedisPrefix(redisURL, expressPrefix));
    }

    progress('starting servers');
    const stops: Array<() => Promise<void>> = [];
    cleanups.push(async () => {
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
    });
    const bench = async (
      name: string,
      script: string,
      env: Record<string, string>,
    ): Promise<{ url: string; pid: number | undefined }> => {
      const server = await startBenchServer(name, script, env);
      stops.push(() => server.stop());
      return { url: server.url, pid: server.child.pid };
    };
    const latchkey = async (
      name: string,
      env: Record<string, string>,
      options: { feedClient?: boolean; signup?: boolean } = {},
    ): Promise<{ url: string; pid: number | undefined; feedAuthorization: string }> => {
      const server = await startLatchkey(name, { LATCHKEY_DATA_DIR: join(dataDir, name), ...env }, options);
      stops.push(() => server.server.stop(10_000));
      return {
        url: server.url,
        pid: server.server.child.pid,
        feedAuthorization: server.feedAuthorization ?? '',
      };
    };

    const noAuth = await bench('no-auth', 'no-auth', {});
    // SQLite, the default store (nothing configured), runs in quick mode too, with and without
    // its near cache. In a full run it also serves the hybrid login, the JWKS and the revocation
    // feed (which needs a machine client, and so a store the CLI can write to before the server
    // starts). Quick mode leaves PGlite out (its start takes seconds and most of a gigabyte).
    const [memory, sqlite, sqliteUncached, pglite, pgliteUncached] = await Promise.all([
      // The refresh load chains refreshes from one address: lift the flood limits (a huge value
      // keeps the counting in the measured path, where 0 would skip it).
      latchkey('memory', {
        LATCHKEY_STORE: 'memory',
        LATCHKEY_REFRESH_LIMIT_IP: '999999999',
        LATCHKEY_REFRESH_LIMIT_SESSION: '999999999',
      }),
      latchkey('sqlite', {}, { feedClient: !settings.quick && full }),
      latchkey('sqlite-nocache', { LATCHKEY_SESSION_CACHE: '0' }),
      settings.quick || !full ? null : latchkey('pglite', { LATCHKEY_STORE: 'pglite' }),
      settings.quick || !full
        ? null
        : latchkey('pglite-nocache', { LATCHKEY_STORE: 'pglite', LATCHKEY_SESSION_CACHE: '0' }),
    ]);
    const memoryURL = memory.url;
    const scenarios: Scenario[] = [];
    const get = (url: string, headers: Record<string, string> = {}): LoadOptions => ({
      url,
      connections: settings.connections,
      seconds: settings.seconds,
      headers,
    });
    /** A scenario on `url` + `path`, with its ceiling: the same load on `url` + `openPath`. */
    const onServer = (
      server: { url: string; pid: number | undefined },
      path: string,
      openPath: string,
      scenario: Omit<Scenario, 'load' | 'ceiling' | 'pid'>,
      load: Omit<LoadOptions, 'url'>,
    ): Scenario => ({
      ...scenario,
      pid: server.pid,
      load: { ...load, url: `${server.url}${path}` },
      ceiling: { ...load, url: `${server.url}${openPath}` },
    });
    const cookieSession = async (
      id: string,
      label: string,
      server: { url: string; pid: number | undefined },
    ): Promise<Scenario> =>
      onServer(
        server,
        '/v1/me',
        LATCHKEY_OPEN_PATH,
        { id, label, group: 'session' },
        get('', { cookie: await loginCookie(server.url) }),
      );
    scenarios.push({
      id: 'no-auth',
      label: 'No auth (bare Fastify, the reference)',
      group: 'ceiling',
      pid: noAuth.pid,
      load: get(`${noAuth.url}/me`),
    });
    // Without `full` (`--only million,cluster`): the bare reference and the Redis rows alone.
    if (full) {
      // Every store runs in its default configuration (LATCHKEY_SESSION_CACHE=auto: the near
      // cache on, 60 s, except on MariaDB alone); SQLite, PGlite, Postgres and Redis also run
      // without it (a second server with LATCHKEY_SESSION_CACHE=0), for the store's own cost.
      scenarios.push(
        await cookieSession(
          'session-memory',
          'Latchkey cookie session, memory store (near cache: auto)',
          memory,
        ),
      );
      scenarios.push(
        await cookieSession(
          'session-sqlite',
          'Latchkey cookie session, SQLite, the default (near cache: auto)',
          sqlite,
        ),
      );
      scenarios.push(
        await cookieSession(
          'session-sqlite-nocache',
          'Latchkey cookie session, SQLite, near cache off (LATCHKEY_SESSION_CACHE=0)',
          sqliteUncached,
        ),
      );
      if (pglite !== null)
        scenarios.push(
          await cookieSession('session-pglite', 'Latchkey cookie session, PGlite (near cache: auto)', pglite),
        );
      if (pgliteUncached !== null)
        scenarios.push(
          await cookieSession(
            'session-pglite-nocache',
            'Latchkey cookie session, PGlite, near cache off (LATCHKEY_SESSION_CACHE=0)',
            pgliteUncached,
          ),
        );
    }
    if (!settings.quick) {
      if (postgresURL !== null) {
        // Two nodes on one database: the default, and the near cache off for the store's own cost.
        const server = await latchkey('postgres', { DATABASE_URL: postgresURL });
        // The same data directory too: the master secret there seals the signing keys in the database.
        const uncached = await latchkey(
          'postgres-nocache',
          {
            DATABASE_URL: postgresURL,
            LATCHKEY_SESSION_CACHE: '0',
            LATCHKEY_DATA_DIR: join(dataDir, 'postgres'),
          },
          { signup: false },
        );
        scenarios.push(
          await cookieSession(
            'session-postgres',
            'Latchkey cookie session, Postgres, the default (near cache on)',
            server,
          ),
          await cookieSession(
            'session-postgres-nocache',
            'Latchkey cookie session, Postgres, near cache off (LATCHKEY_SESSION_CACHE=0)',
            uncached,
          ),
        );
      }
      if (mysqlDB !== null) {
        const server = await latchkey('mysql', { DATABASE_URL: mysqlDB.url });
        scenarios.push(
          await cookieSession(
            'session-mysql',
            'Latchkey cookie session, MariaDB alone (near cache off: no feed)',
            server,
          ),
        );
      }
      if (hasRedis) {
        const [plain, cached] = await Promise.all([
          latchkey('redis', {
            REDIS_URL: redisURL,
            LATCHKEY_REDIS_PREFIX: latchkeyPrefix,
            LATCHKEY_SESSION_CACHE: '0',
          }),
          // The default: the near cache on, emptied through the revocation feed.
          latchkey('redis-cached', { REDIS_URL: redisURL, LATCHKEY_REDIS_PREFIX: cachedPrefix }),
        ]);
        scenarios.push(
          await cookieSession(
            'session-redis',
            'Latchkey cookie session, Redis, near cache off (LATCHKEY_SESSION_CACHE=0)',
            plain,
          ),
        );
        scenarios.push(
          await cookieSession(
            'session-redis-cached',
            'Latchkey cookie session, Redis, the default (near cache on)',
            cached,
          ),
        );
      }
      if (settings.sections.has('cluster')) {
        // Next to the single Redis rows: the same two servers on a 3-master Redis Cluster of the
        // run's own (`redis+cluster://`), started here and stopped at the end.
        const cluster = await startBenchCluster(dropped);
        if (cluster !== null) {
          cleanups.push(() => cluster.stop());
          const [plain, cached] = await Promise.all([
            latchkey('cluster', { REDIS_URL: cluster.url, LATCHKEY_SESSION_CACHE: '0' }),
            latchkey('cluster-cached', { REDIS_URL: cluster.url, LATCHKEY_REDIS_PREFIX: 'cached' }),
          ]);
          scenarios.push(
            await cookieSession(
              'session-redis-cluster',
              'Latchkey cookie session, Redis Cluster (3 masters), near cache off (LATCHKEY_SESSION_CACHE=0)',
              plain,
            ),
            await cookieSession(
              'session-redis-cluster-cached',
              'Latchkey cookie session, Redis Cluster (3 masters), the default (near cache on)',
              cached,
            ),
          );
        }
      }
    }
    for (const alg of settings.algorithms) {
      const key = keys.get(alg);
      const pool = pools.get(alg) ?? [];
      if (key === undefined) continue;
      const server = await bench(`verify-${alg}`, 'latchkey-verify', verifyServerEnv(key));
      const via = alg === 'HS256' ? 'core verifier' : 'latchkey/verify + Fastify adapter';
      scenarios.push(
        onServer(
          server,
          '/me',
          '/open',
          { id: `jwt-reused-${alg}`, label: `JWT ${alg}, same token (${via})`, group: 'jwt-reused', alg },
          get('', { authorization: `Bearer ${pool[0] ?? ''}` }),
        ),
      );
      scenarios.push(
        onServer(
          server,
          '/me',
          '/open',
          {
            id: `jwt-new-${alg}`,
            label: `JWT ${alg}, new token each request (${via})`,
            group: 'jwt-new',
            alg,
          },
          {
            ...get(''),
            rotate: { header: 'Authorization', values: pool.map((token) => `Bearer ${token}`) },
          },
        ),
      );
      // The bound of the row above, measured rather than computed: the same tokens rotated by
      // the same load generator (whose own CPU share on a small machine the computed bound
      // leaves out), to a route of the same server that only checks the signature with
      // node:crypto and parses the payload (`GET /raw`, bench/servers/latchkey-verify.ts).
      scenarios.push(
        onServer(
          server,
          '/raw',
          '/open',
          {
            id: `jwt-raw-${alg}`,
            label: `JWT ${alg}, new token each request: Fastify + a bare node:crypto signature check (the bound)`,
            group: 'floor',
            alg,
          },
          {
            ...get(''),
            rotate: { header: 'Authorization', values: pool.map((token) => `Bearer ${token}`) },
          },
        ),
      );
    }
    let hybridURL: string | null = null;
    if (!settings.quick && full) {
      const hybrid = await bench('hybrid', 'latchkey-verify', {
        BENCH_ISSUER: sqlite.url,
        BENCH_AUDIENCE: sqlite.url,
        BENCH_ALG: 'EdDSA',
        BENCH_JWKS_URI: `${sqlite.url}/.well-known/jwks.json`,
        BENCH_FEED_URL: `${sqlite.url}/v1/revocations`,
        BENCH_FEED_AUTHORIZATION: sqlite.feedAuthorization,
      });
      hybridURL = hybrid.url;
      scenarios.push(
        onServer(
          hybrid,
          '/me',
          '/open',
          { id: 'hybrid', label: 'Latchkey hybrid access cookie (JWKS + SSE feed)', group: 'hybrid' },
          get('', { cookie: await loginHybrid(sqlite.url) }),
        ),
      );
    }
    if (!settings.quick && full) {
      if (hasRedis) {
        const floor = await bench('redis-floor', 'redis-floor', {
          BENCH_REDIS_URL: redisURL,
          BENCH_PREFIX: floorPrefix,
        });
        scenarios.push(
          onServer(
            floor,
            '/me',
            '/open',
            {
              id: 'redis-floor',
              label: 'Fastify + one ioredis GET and JSON.parse of a session record (the floor)',
              group: 'floor',
            },
            get('', { cookie: 'sid=XPPaaSNVBh3e_5IL97B93w' }),
          ),
        );
        const server = await bench('express-session', 'express-session', {
          BENCH_REDIS_URL: redisURL,
          BENCH_PREFIX: expressPrefix,
        });
        const response = await fetch(`${server.url}/login`, { method: 'POST' });
        await response.arrayBuffer();
        const cookie = (response.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
        scenarios.push(
          onServer(
            server,
            '/me',
            '/open',
            { id: 'express-session', label: 'express-session + connect-redis (node-redis)', group: 'today' },
            get('', { cookie }),
          ),
        );
      }
      const fastify = await bench('fastify-jwt', 'fastify-jwt', { BENCH_SECRET: hsSecret });
      scenarios.push(
        onServer(
          fastify,
          '/me',
          '/open',
          { id: 'fastify-jwt', label: 'Fastify + @fastify/jwt, HS256, same token', group: 'today' },
          get('', { authorization: `Bearer ${todayToken}` }),
        ),
      );
      const hono = await bench('hono-jwt', 'hono-jwt', { BENCH_SECRET: hsSecret });
      scenarios.push(
        onServer(
          hono,
          '/me',
          '/open',
          { id: 'hono-jwt', label: 'Hono + hono/jwt, HS256, same token', group: 'today' },
          get('', { authorization: `Bearer ${todayToken}` }),
        ),
      );
    }
    progress(`servers up after ${((Date.now() - started) / 1000).toFixed(0)} s`);

    // Every route answers before any load: the protected one 200 with the scenario's credentials,
    // the ceiling 200 too, with a body of about the same size.
    for (const s of scenarios) {
      const size = await probe(s.id, s.load);
      if (s.ceiling === undefined) continue;
      const ceilingSize = await probe(`${s.id} (ceiling)`, s.ceiling);
      if (Math.abs(ceilingSize - size) > Math.max(16, size * 0.25))
        progress(`note: ${s.id} answers ${size} bytes, its ceiling route ${ceilingSize} bytes`);
    }

    // 4. Protected route under load: a warm-up, then interleaved rounds (rotating order). Each
    // setup's load is preceded by a 1-s load of its own ceiling: the same request (headers, token
    // rotation) to a no-auth route of the same server process, with the same hooks and plugins and
    // a body of the same shape. Its ratio is taken against that adjacent ceiling: on a shared
    // machine, the capacity drifts within a round. The server's CPU time is read around each load.
    const results = new Map<string, Measured[]>();
    const ceilings = new Map<string, Measured[]>();
    const append = (map: Map<string, Measured[]>, id: string, m: Measured): void => {
      map.set(id, [...(map.get(id) ?? []), m]);
    };
    for (const s of scenarios) {
      if (s.ceiling !== undefined) await runLoad({ ...s.ceiling, seconds: 1 });
      await runLoad({ ...s.load, seconds: 1 });
    }
    for (let round = 0; round < settings.rounds; round++) {
      for (let i = 0; i < scenarios.length; i++) {
        const s = scenarios[(i + round) % scenarios.length];
        if (s === undefined) continue;
        let ceilingNote = '';
        // A server that sat idle while the others were loaded is slower for its first second
        // (its first measured load came out 10-40% low, ceiling or not): warm it up, discarded,
        // then measure its ceiling and its protected route for as long each, alternating which
        // goes first from round to round.
        await runLoad({ ...s.load, seconds: 1 });
        const measureCeiling = async (): Promise<void> => {
          if (s.ceiling === undefined) return;
          const c = await measure({ ...s.ceiling, seconds: settings.seconds }, s.pid);
          append(ceilings, s.id, c);
          ceilingNote = `; ceiling ${formatCount(c.result.rps)} req/s, ${formatMicros(c.cpuPerRequest)} µs CPU/req`;
        };
        if (round % 2 === 0) await measureCeiling();
        const m = await measure(s.load, s.pid);
        append(results, s.id, m);
        if (round % 2 === 1) await measureCeiling();
        const r = m.result;
        progress(
          `round ${round + 1}/${settings.rounds} ${s.id}: ${formatCount(r.rps)} req/s, p50 ${formatMs(r.p50)} ms, p99 ${formatMs(r.p99)} ms, ${formatMicros(m.cpuPerRequest)} µs CPU/req${r.errors > 0 ? `, ${r.errors} errors` : ''}${ceilingNote}`,
        );
      }
    }
    const rps = (id: string): number[] => (results.get(id) ?? []).map((m) => m.result.rps);
    const bare = rps('no-auth');
    const bareRPS = median(bare);
    const http: HTTPRow[] = scenarios.map((s) => {
      const ms = results.get(s.id) ?? [];
      const cs = ceilings.get(s.id) ?? [];
      const rs = ms.map((m) => m.result);
      const own = rps(s.id);
      return {
        id: s.id,
        label: s.label,
        group: s.group,
        rps: median(own),
        p50: median(rs.map((r) => r.p50)),
        p99: median(rs.map((r) => r.p99)),
        errors: rs.reduce((sum, r) => sum + r.errors, 0),
        ceilingRPS: s.ceiling === undefined ? NaN : median(cs.map((c) => c.result.rps)),
        ceilingErrors: cs.reduce((sum, c) => sum + c.result.errors, 0),
        ratio:
          s.ceiling === undefined
            ? 1
            : roundRatio(
                own,
                cs.map((c) => c.result.rps),
              ),
        bareRatio: s.id === 'no-auth' ? 1 : roundRatio(own, bare),
        cpuPerRequest: medianOf(ms.map((m) => m.cpuPerRequest)),
        ceilingCpuPerRequest: medianOf(cs.map((c) => c.cpuPerRequest)),
      };
    });

    // Resident memory of the Latchkey servers after the loads, and their peak since they started
    // (the SQLite and PGlite ones created their data directory at that start).
    const memoryRows: NonNullable<BenchReport['memory']> = [];
    for (const [label, server] of [
      ['memory store', memory],
      ['SQLite, the default', sqlite],
      ['SQLite, near cache off', sqliteUncached],
      ['PGlite', pglite],
      ['PGlite, near cache off', pgliteUncached],
    ] as const) {
      const reading = server === null || !full ? null : processMemory(server.pid);
      if (reading !== null) memoryRows.push({ label, ...reading });
    }
    // The default server as users start it (dist/, no tsx): the memory target's figure.
    if (full && !settings.quick) {
      progress('memory of latchkey serve from dist/ (SQLite, the default)');
      try {
        const served = await servedMemory({
          dataDir: join(dataDir, 'served'),
          connections: settings.connections,
          seconds: settings.seconds,
          rounds: settings.rounds,
        });
        if (served !== null) memoryRows.push({ label: SERVED_LABEL, ...served });
      } catch (error) {
        dropped.push(`latchkey serve from dist/ (${error instanceof Error ? error.message : String(error)})`);
      }
    }

    // 5. The auth step's added latency at one connection: each setup against its own ceiling
    // route at one connection, run just before it.
    const latencyIds = [
      'no-auth',
      'session-redis',
      'session-redis-cached',
      'session-redis-cluster-cached',
      'session-memory',
      'session-postgres',
      'jwt-reused-EdDSA',
      'jwt-new-EdDSA',
    ];
    const latencyScenarios = full ? scenarios.filter((s) => latencyIds.includes(s.id)) : [];
    const single = new Map<string, { p50: number[]; ceilingP50: number[] }>();
    const one = (load: LoadOptions): LoadOptions => ({
      ...load,
      connections: 1,
      seconds: settings.latencySeconds,
    });
    for (let round = 0; round < settings.rounds; round++) {
      for (let i = 0; i < latencyScenarios.length; i++) {
        const s = latencyScenarios[(i + round) % latencyScenarios.length];
        if (s === undefined) continue;
        const entry = single.get(s.id) ?? { p50: [], ceilingP50: [] };
        single.set(s.id, entry);
        if (s.ceiling !== undefined) entry.ceilingP50.push((await runLoad(one(s.ceiling))).p50);
        entry.p50.push((await runLoad(one(s.load))).p50);
      }
      progress(`round ${round + 1}/${settings.rounds} of one-connection latency done`);
    }
    const latency1 = latencyScenarios.map((s) => ({
      id: s.id,
      label: s.label,
      p50: median(single.get(s.id)?.p50 ?? []),
      ceilingP50: median(single.get(s.id)?.ceilingP50 ?? []),
    }));

    // 6. Login and refresh against the memory store.
    if (full) progress('login and refresh throughput (memory store)');
    const loginRuns: LoadResult[] = [];
    const refreshRuns: LoadResult[] = [];
    for (let round = 0; full && round < settings.rounds; round++) {
      loginRuns.push(
        await runLoad({
          url: `${memoryURL}/v1/login`,
          connections: 4,
          seconds: settings.seconds,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: BENCH_EMAIL, password: BENCH_PASSWORD, mode: 'token' }),
        }),
      );
      // Twice as many chains as connections: wrk calls its request() once more than it sends
      // (and again on a reconnect), and every such call takes a token that is never sent. With
      // spares in the queue, that loses one chain instead of starving a connection.
      const chains: string[] = [];
      for (let i = 0; i < settings.connections * 2; i++)
        chains.push((await loginToken(memoryURL)).refreshToken);
      refreshRuns.push(
        await runLoad({
          url: `${memoryURL}/v1/refresh`,
          connections: settings.connections,
          seconds: settings.seconds,
          refreshChain: { tokens: chains },
        }),
      );
    }
    const summarize = (rs: LoadResult[]): BenchReport['login'] =>
      rs.length === 0
        ? null
        : {
            rps: median(rs.map((r) => r.rps)),
            p50: median(rs.map((r) => r.p50)),
            p99: median(rs.map((r) => r.p99)),
            errors: rs.reduce((sum, r) => sum + r.errors, 0),
          };
    // 7. Revocation lag: logout on the server, refusal in the resource service (another process).
    let revocation: BenchReport['revocation'] = null;
    if (hybridURL !== null) {
      const authURL = sqlite.url;
      const resourceURL = hybridURL;
      progress(`revocation lag (${settings.revocationSamples} samples)`);
      const lags: number[] = [];
      const afterResponse: number[] = [];
      for (let i = 0; i < settings.revocationSamples; i++) {
        const { accessToken } = await loginToken(authURL);
        const headers = { authorization: `Bearer ${accessToken}` };
        const before = await fetch(`${resourceURL}/me`, { headers });
        await before.arrayBuffer();
        if (before.status !== 200)
          throw new Error(`resource service refused a fresh token: ${before.status}`);
        const t0 = performance.now();
        const logout = await postJSON(`${authURL}/v1/logout`, {}, headers);
        await logout.arrayBuffer();
        const t1 = performance.now();
        if (logout.status !== 204) throw new Error(`logout answered ${logout.status}`);
        for (;;) {
          const response = await fetch(`${resourceURL}/me`, { headers });
          await response.arrayBuffer();
          if (response.status === 401) break;
          if (performance.now() - t0 > 5000) throw new Error('revocation not seen within 5 s');
        }
        const t2 = performance.now();
        lags.push(t2 - t0);
        afterResponse.push(t2 - t1);
      }
      revocation = {
        samples: lags.length,
        p50: percentile(lags, 50),
        p99: percentile(lags, 99),
        max: Math.max(...lags),
        afterResponseP50: percentile(afterResponse, 50),
        afterResponseP99: percentile(afterResponse, 99),
      };
    }
    let revocationExternal: string | null = null;
    if (!settings.quick && full && existsSync(join(ROOT, 'bench', 'revocation-lag.ts'))) {
      progress('running bench/revocation-lag.ts');
      revocationExternal = await runScript([join('bench', 'revocation-lag.ts'), '--count', '30'], 120_000);
    }

    // 8. Storage per session (the footprint benchmarks, at a smaller count).
    let storage: BenchReport['storage'] = null;
    if (!settings.quick && full) {
      progress('storage footprint (20 000 sessions)');
      storage = {
        redis: hasRedis
          ? await runScript(
              [join('bench', 'store-footprint.ts'), 'redis', '--sessions', '20000', '--reads', '2000'],
              120_000,
            )
          : null,
        sql:
          postgresDB !== null
            ? await runScript(
                [join('bench', 'store-footprint-sql.ts'), '--sessions', '20000', '--reads', '2000'],
                180_000,
              )
            : null,
      };
    }

    // 8b. A million sessions in Redis of the run's own, read at random (after every other load:
    // seeding them keeps both CPUs busy for minutes).
    let million: MillionReport | null = null;
    if (settings.sections.has('million')) {
      try {
        million = await runMillionSessions({
          sessions: settings.millionSessions,
          users: Math.max(1, Math.round(settings.millionSessions / 1000)),
          batch: 2000,
          connections: settings.connections,
          seconds: settings.seconds,
          rounds: settings.rounds,
          dataDir: join(dataDir, 'million'),
        });
      } catch (error) {
        dropped.push(`A million sessions (${error instanceof Error ? error.message : String(error)})`);
      }
    }

    // 9. Targets: against the same-server ceiling, except where said otherwise.
    const row = (id: string): HTTPRow | undefined => http.find((r) => r.id === id);
    const targets: TargetRow[] = [];
    for (const alg of settings.algorithms) {
      const reused = row(`jwt-reused-${alg}`);
      if (reused !== undefined)
        targets.push({
          name: `Reused JWT (${alg}) / same-server ceiling`,
          measured: reused.ratio,
          target: 0.9,
        });
      const freshRuns = rps(`jwt-new-${alg}`);
      const pairedRuns = (ceilings.get(`jwt-new-${alg}`) ?? []).map((c) => c.result.rps);
      const raw = verify[alg]?.raw ?? NaN;
      if (freshRuns.length > 0) {
        // Per round, the bound from the adjacent same-server ceiling; then the median of rps / bound.
        const bounds = pairedRuns.map((c) => 1 / (1 / c + 1 / raw));
        const shares = freshRuns.map((r, i) => r / (bounds[i] ?? NaN));
        targets.push({
          name: `New JWT each request (${alg}) / bound from same-server ceiling and raw node:crypto (${formatCount(median(bounds))} req/s)`,
          measured: median(shares),
          target: 0.9,
        });
      }
      // Against the measured bound: per round, each route over its own adjacent ceiling (the two
      // loads ran at different moments of the round), then the median of their quotient.
      const rawRuns = rps(`jwt-raw-${alg}`);
      const rawCeilings = (ceilings.get(`jwt-raw-${alg}`) ?? []).map((c) => c.result.rps);
      if (freshRuns.length > 0 && rawRuns.length > 0) {
        const shares: number[] = [];
        for (let i = 0; i < Math.min(freshRuns.length, rawRuns.length); i++)
          shares.push(
            (freshRuns[i] ?? NaN) / (pairedRuns[i] ?? NaN) / ((rawRuns[i] ?? NaN) / (rawCeilings[i] ?? NaN)),
          );
        targets.push({
          name: `New JWT each request (${alg}) / the measured bound: a bare node:crypto check of the same tokens under the same load (each over its own ceiling)`,
          measured: median(shares),
          target: 0.9,
        });
      }
    }
    const express = rps('express-session');
    // The default server's own no-auth route (what every route pays: its pipeline), against the
    // bare Fastify route loaded in the same round.
    const defaultOpen = (ceilings.get('session-sqlite') ?? []).map((c) => c.result.rps);
    if (defaultOpen.length > 0 && bare.length > 0)
      targets.push({
        name: 'Default server (SQLite, LOG_LEVEL=info) no-auth route / bare Fastify (req/s over req/s)',
        measured: roundRatio(defaultOpen, bare),
        target: 0.8,
      });
    const floorRuns = rps('redis-floor');
    if (floorRuns.length > 0 && rps('session-redis').length > 0)
      targets.push({
        name: 'Redis cookie session, near cache off / the floor (Fastify + one ioredis GET), req/s over req/s',
        measured: roundRatio(rps('session-redis'), floorRuns),
        target: 0.8,
      });
    for (const [id, what, ceiling] of [
      ['session-redis', 'Redis cookie session, near cache off', 0.8],
      ['session-redis-cached', 'Redis cookie session, the default (near cache on)', 0.9],
    ] as const) {
      const session = row(id);
      if (session === undefined) continue;
      targets.push({ name: `${what} / same-server ceiling`, measured: session.ratio, target: ceiling });
      if (express.length > 0)
        targets.push({
          // Plain throughput: its req/s over express-session's in the same round, then the median.
          name: `${what} / express-session + connect-redis (req/s over req/s)`,
          measured: roundRatio(rps(id), express),
          target: 5,
        });
    }
    for (const [id, what] of [
      ['session-postgres', 'Postgres cookie session, the default (near cache on)'],
      ['session-mysql', 'MariaDB cookie session'],
    ] as const)
      if (express.length > 0 && rps(id).length > 0)
        targets.push({
          name: `${what} / express-session + connect-redis (req/s over req/s)`,
          measured: roundRatio(rps(id), express),
          target: 3,
        });
    const sqliteUncachedRow = row('session-sqlite-nocache');
    if (sqliteUncachedRow !== undefined)
      targets.push({
        name: 'SQLite (the default store) cookie session, near cache off / same-server ceiling',
        measured: sqliteUncachedRow.ratio,
        target: 0.5,
      });
    const sqliteMemory = memoryRows.find((m) => m.label === SERVED_LABEL);
    if (sqliteMemory !== undefined)
      targets.push({
        name: 'Default server (SQLite) peak resident memory since its first start (MiB, `latchkey serve` from dist/ as `npm start` runs it), must be below',
        measured: sqliteMemory.peakMiB,
        target: 150,
        lowerIsBetter: true,
        unit: 'MiB',
      });
    for (const r of (million?.rows ?? []).filter((row) => row.random && !row.floor)) {
      targets.push({
        name: `${formatCount(million?.sessions ?? NaN)} sessions in Redis, cookie session, ${r.label}: \`GET /v1/me\` p99 at ${settings.connections} connections, a random session each request (ms), must be below`,
        measured: r.p99,
        target: 2,
        lowerIsBetter: true,
      });
      if (r.halfLoad !== null)
        targets.push({
          name: `${formatCount(million?.sessions ?? NaN)} sessions in Redis, cookie session, ${r.label}: \`GET /v1/me\` p99 at half its capacity (${formatCount(r.halfLoad.rate)} req/s, fixed rate), a random session each request (ms), must be below`,
          measured: r.halfLoad.p99,
          target: 2,
          lowerIsBetter: true,
        });
    }
    if (revocation !== null)
      targets.push({
        name: 'Revocation lag p99 (ms, from logout response to refusal in another process), must be below',
        measured: revocation.afterResponseP99,
        target: 100,
        lowerIsBetter: true,
      });

    // 10. Where a Redis cookie-session target is missed, a CPU profile of that server.
    const profiles: ProfileSummary[] = [];
    const missed = (prefix: string): boolean =>
      targets.some((t) => t.name.startsWith(prefix) && t.measured < t.target);
    const toProfile = [
      {
        missed: missed('Redis cookie session, near cache off'),
        scenario: 'Latchkey cookie session, Redis, near cache off: `GET /v1/me`',
        prefix: `${latchkeyPrefix}-prof`,
        env: { LATCHKEY_SESSION_CACHE: '0' },
      },
      {
        missed: missed('Redis cookie session, the default'),
        scenario: 'Latchkey cookie session, Redis, the default (near cache on): `GET /v1/me`',
        prefix: `${cachedPrefix}-prof`,
        env: {},
      },
    ];
    for (const p of toProfile) {
      if (settings.quick || !full || !hasRedis || !p.missed) continue;
      progress(`CPU profile of the Latchkey server (${p.scenario})`);
      cleanups.push(() => deleteRedisPrefix(redisURL, `${p.prefix}:`));
      try {
        profiles.push(
          await profileLatchkeySession({
            scenario: p.scenario,
            env: { REDIS_URL: redisURL, LATCHKEY_REDIS_PREFIX: p.prefix, ...p.env },
            seconds: settings.seconds * 3,
            connections: settings.connections,
          }),
        );
      } catch (error) {
        dropped.push(`CPU profile (${error instanceof Error ? error.message : String(error)})`);
      }
    }

    if (settings.quick) {
      dropped.push(
        "quick mode: ES256/RS256/HS256; PGlite (with and without near cache), Postgres and Redis (with and without near cache) stores; hybrid; revocation lag; today's setups; storage footprint",
      );
    }
    if (settings.partial) dropped.push(`--only ${[...settings.sections].join(',')}: every other section`);
    if (processCPUMicros(process.pid) === null)
      dropped.push('server CPU per request (needs /proc/<pid>/stat: Linux only)');
    const machineCPUs = cpus();
    const report: BenchReport = {
      quick: settings.quick,
      date: new Date().toISOString(),
      machine: {
        cpu: machineCPUs[0]?.model.trim() ?? 'unknown',
        cores: machineCPUs.length,
        memoryGiB: totalmem() / 2 ** 30,
        os: `${type()} ${release()}`,
        node: process.version,
      },
      tool: hasWrk() ? 'wrk' : 'autocannon',
      rounds: settings.rounds,
      seconds: settings.seconds,
      ceilingSeconds: settings.seconds,
      latencySeconds: settings.latencySeconds,
      connections: settings.connections,
      pool: settings.pool,
      verifyRounds: settings.verifyRounds,
      verifyMs: settings.verifyMs,
      verify,
      http,
      bareRPS,
      latency1,
      login: summarize(loginRuns),
      refresh: summarize(refreshRuns),
      revocation,
      revocationExternal,
      storage,
      million,
      memory: memoryRows.length === 0 ? null : memoryRows,
      targets,
      profiles,
      dropped,
      durationSeconds: 0,
    };
    report.durationSeconds = (Date.now() - started) / 1000;

    // 11. Output.
    printTable(report);
    const docsDir =
      (settings.quick || settings.partial) && !settings.write
        ? (settings.out ?? (await mkdtemp(join(tmpdir(), 'latchkey-bench-docs-'))))
        : (settings.out ?? join(ROOT, 'docs'));
    await mkdir(docsDir, { recursive: true });
    await writeFile(join(docsDir, 'benchmarks.svg'), renderChart(report));
    await writeFile(join(docsDir, 'benchmarks.md'), renderMarkdown(report));
    progress(
      `wrote ${join(docsDir, 'benchmarks.md')} and benchmarks.svg in ${report.durationSeconds.toFixed(0)} s`,
    );
    return 0;
  } catch (error) {
    progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        progress(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    killAllChildren();
    process.removeListener('SIGINT', onSignal);
  }
}

function printTable(report: BenchReport): void {
  const lines: string[] = [];
  const width = Math.max(40, ...report.http.map((r) => r.label.length));
  lines.push(
    '',
    `Protected route, ${report.connections} connections, median of ${report.rounds} round(s) x ${report.seconds} s (${report.tool}); ` +
      `ceiling = the same server's no-auth route, loaded ${report.ceilingSeconds} s next to it`,
  );
  lines.push(
    `${'setup'.padEnd(width)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'ceiling'.padStart(9)} ${'vs ceil'.padStart(8)} ${'vs bare'.padStart(8)} ${'CPU µs'.padStart(7)} ${'ceil µs'.padStart(7)}`,
  );
  for (const r of report.http) {
    lines.push(
      `${r.label.padEnd(width)} ${formatCount(r.rps).padStart(9)} ${formatMs(r.p50).padStart(8)} ${formatMs(r.p99).padStart(8)} ${formatCount(r.ceilingRPS).padStart(9)} ${formatRatio(r.ratio).padStart(8)} ${formatRatio(r.bareRatio).padStart(8)} ${formatMicros(r.cpuPerRequest).padStart(7)} ${formatMicros(r.ceilingCpuPerRequest).padStart(7)}${r.errors + r.ceilingErrors > 0 ? `  (${r.errors} errors, ${r.ceilingErrors} on the ceiling)` : ''}`,
    );
  }
  lines.push('', 'One connection, p50 ms (and on the same server with no auth)');
  for (const r of report.latency1)
    lines.push(
      `${r.label.padEnd(width)} ${formatMs(r.p50).padStart(9)} ${formatMs(r.ceilingP50).padStart(9)}`,
    );
  if (report.login !== null)
    lines.push('', `login   ${formatCount(report.login.rps)} req/s, p50 ${formatMs(report.login.p50)} ms`);
  if (report.refresh !== null)
    lines.push(`refresh ${formatCount(report.refresh.rps)} req/s, p50 ${formatMs(report.refresh.p50)} ms`);
  if (report.revocation !== null)
    lines.push(
      `revocation lag p50 ${formatMs(report.revocation.p50)} ms, p99 ${formatMs(report.revocation.p99)} ms (${report.revocation.samples} samples)`,
    );
  if (report.million !== null) {
    const m = report.million;
    lines.push(
      '',
      `${formatCount(m.sessions)} sessions in Redis (${formatCount(m.users)} users): seeded in ${m.seedSeconds.toFixed(1)} s, ${m.bytesPerSession.toFixed(0)} bytes per session; GET /v1/me, a random session each request`,
    );
    for (const r of m.rows)
      lines.push(
        `${(r.floor ? r.label : `Latchkey cookie session, ${r.label}`).padEnd(width)} ${formatCount(r.rps).padStart(9)} ${formatMs(r.p50).padStart(8)} ${formatMs(r.p99).padStart(8)} ${formatMicros(r.cpuPerRequest).padStart(7)}${r.errors > 0 ? `  (${r.errors} errors)` : ''}${r.halfLoad === null ? '' : `  half load ${formatCount(r.halfLoad.rate)} req/s: p50 ${formatMs(r.halfLoad.p50)} ms, p99 ${formatMs(r.halfLoad.p99)} ms`}`,
      );
  }
  if (report.memory !== null) {
    lines.push('', 'Resident memory of the Latchkey servers (MiB, after the loads / peak since start)');
    for (const m of report.memory)
      lines.push(
        `${m.label.padEnd(width)} ${m.rssMiB.toFixed(0).padStart(9)} ${m.peakMiB.toFixed(0).padStart(9)}`,
      );
  }
  lines.push('', 'Targets');
  for (const t of report.targets) {
    const pass = t.lowerIsBetter === true ? t.measured < t.target : t.measured >= t.target;
    const shown =
      t.lowerIsBetter === true ? `${formatMs(t.measured)} ${t.unit ?? 'ms'}` : formatRatio(t.measured);
    lines.push(
      `${pass ? 'PASS' : 'MISS'}  ${t.name}: ${shown} (target ${t.lowerIsBetter === true ? '<' : '>='} ${t.target})`,
    );
  }
  console.log(lines.join('\n'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await runBenchmarks(process.argv.slice(2));
}
