/**
 * The footprint and read latency of the SQL stores (Postgres, PGlite, SQLite, MariaDB): bytes per session at
 * 100 000 sessions, each with one refresh token, and p50/p99 of `getSession` over 10 000
 * sequential calls.
 *
 *   npx tsx bench/store-footprint-sql.ts [--sessions 100000] [--reads 10000] [--only postgres|pglite|sqlite|mysql]
 *
 * Postgres runs in a database of its own (`latchkey_bench_<pid>_<random>`, dropped at the end)
 * on LATCHKEY_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres); PGlite
 * runs in memory. Bytes are the growth of `pg_total_relation_size` (heap, indexes, TOAST, free-space and
 * visibility maps, after VACUUM) of the sessions and refresh-token tables, divided by the
 * number of sessions. Records look like real ones: 22-character ids, 43-character hashes, a
 * browser user agent and an IPv4 address.
 *
 * The targets are exported so that another benchmark can run them next to its own.
 */

import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPGliteClient } from '../src/stores/pglite/index.js';
import { openMySQLStore } from '../src/stores/mysql/index.js';
import { openSQLiteStore } from '../src/stores/sqlite/index.js';
import { createTestMySQLDatabase } from '../test/helpers/mysql.js';
import { openPostgresStore } from '../src/stores/postgres/index.js';
import type { SqlClient } from '../src/stores/sql/client.js';
import { migrate } from '../src/stores/sql/migrate.js';
import { createSqlStore } from '../src/stores/sql/store.js';
import type { Store } from '../src/store.js';
import type { RefreshTokenRecord, SessionRecord } from '../src/records.js';

/** What one target measured. */
export interface FootprintResult {
  store: string;
  sessions: number;
  bytesPerSession: number;
  getSessionP50Ms: number;
  getSessionP99Ms: number;
}

/**
 * An opened store, a way to ask its size, and a way to clean up: the shape of the `targets` of
 * `bench/store-footprint.ts`, so that it can take these as they are.
 */
export interface SQLFootprintTarget {
  store: Store;
  /** Bytes of the session and refresh-token tables (indexes included), after VACUUM. */
  bytesUsed(): Promise<number>;
  /** Drops what the benchmark wrote and closes everything. */
  cleanup(): Promise<void>;
}

const DAY = 86_400_000;
const USER_AGENT =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

function id(): string {
  return randomBytes(16).toString('base64url');
}

function hash(): string {
  return randomBytes(32).toString('base64url');
}

const SIZE_QUERY = `SELECT (pg_total_relation_size('latchkey_sessions')
  + pg_total_relation_size('latchkey_refresh_tokens'))::bigint AS bytes`;

async function sizeOf(client: Pick<SqlClient, 'query' | 'exec'>): Promise<number> {
  await client.exec('VACUUM (ANALYZE) latchkey_sessions, latchkey_refresh_tokens');
  const { rows } = await client.query<{ bytes: string | number }>(SIZE_QUERY);
  return Number(rows[0]?.bytes ?? 0);
}

/** Postgres in a fresh database on `adminURL`'s server. */
export async function openPostgresTarget(
  adminURL: string = process.env.LATCHKEY_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
): Promise<SQLFootprintTarget> {
  const name = `latchkey_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminURL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminURL);
  url.pathname = `/${name}`;
  const store = await openPostgresStore({ url: url.toString() });
  const inspector = new pg.Client({ connectionString: url.toString() });
  await inspector.connect();
  return {
    store,
    bytesUsed: () =>
      sizeOf({
        query: async <T>(sql: string) => ({ rows: (await inspector.query(sql)).rows as T[] }),
        exec: async (sql: string) => {
          await inspector.query(sql);
        },
      }),
    cleanup: async () => {
      await inspector.end();
      await store.close();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** PGlite in memory. */
export async function openPGliteTarget(): Promise<SQLFootprintTarget> {
  const client = createPGliteClient(await PGlite.create());
  await migrate(client);
  const store = createSqlStore(client, { kind: 'pglite' });
  return { store, bytesUsed: () => sizeOf(client), cleanup: () => store.close() };
}

/**
 * SQLite in a file of a temporary folder: the pages in use (`page_count - freelist_count`)
 * after a WAL checkpoint. Nothing else is written to the file, so its growth is the session and
 * refresh-token tables with their indexes.
 */
export async function openSQLiteTarget(): Promise<SQLFootprintTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-footprint-'));
  const path = join(dir, 'latchkey.sqlite');
  const store = await openSQLiteStore({ path });
  const inspector = new Database(path);
  return {
    store,
    bytesUsed: () => {
      inspector.pragma('wal_checkpoint(TRUNCATE)');
      const pages = Number(inspector.pragma('page_count', { simple: true }));
      const free = Number(inspector.pragma('freelist_count', { simple: true }));
      return Promise.resolve((pages - free) * Number(inspector.pragma('page_size', { simple: true })));
    },
    cleanup: async () => {
      inspector.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * MariaDB / MySQL in a database of its own on LATCHKEY_TEST_MYSQL_URL's server (the test
 * suites' one): InnoDB's data and index length of the two tables after `ANALYZE TABLE`, which
 * counts allocated pages (16 KiB each), so it is coarser than the other stores' figure.
 */
export async function openMySQLTarget(): Promise<SQLFootprintTarget> {
  const db = await createTestMySQLDatabase();
  const store = await openMySQLStore({ url: db.url });
  const inspector = await mysql.createConnection({ uri: db.url });
  return {
    store,
    bytesUsed: async () => {
      await inspector.query('ANALYZE TABLE latchkey_sessions, latchkey_refresh_tokens');
      const [rows] = await inspector.query(
        `SELECT SUM(data_length + index_length) AS bytes FROM information_schema.tables
          WHERE table_schema = DATABASE() AND table_name IN ('latchkey_sessions', 'latchkey_refresh_tokens')`,
      );
      return Number((rows as Array<{ bytes: string | number | null }>)[0]?.bytes ?? 0);
    },
    cleanup: async () => {
      await inspector.end();
      await store.close();
      await db.drop();
    },
  };
}

/**
 * The SQL targets by name.
 *
 * @example
 * // in bench/store-footprint.ts
 * const targets = { redis: ..., ...sqlFootprintTargets };
 */
export const sqlFootprintTargets: Record<string, () => Promise<SQLFootprintTarget>> = {
  postgres: () => openPostgresTarget(),
  pglite: () => openPGliteTarget(),
  sqlite: () => openSQLiteTarget(),
  mysql: () => openMySQLTarget(),
};

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

/**
 * Writes `sessions` sessions (each with one refresh token), measures the tables, then times
 * `reads` sequential `getSession` calls on random ids.
 */
export async function measureTarget(
  name: string,
  target: SQLFootprintTarget,
  options: { sessions: number; reads: number },
): Promise<FootprintResult> {
  const { store } = target;
  const before = await target.bytesUsed();
  const now = Date.now();
  const ids: string[] = [];
  const batch = 500;
  for (let start = 0; start < options.sessions; start += batch) {
    const writes: Promise<void>[] = [];
    for (let i = start; i < Math.min(options.sessions, start + batch); i += 1) {
      const session: SessionRecord = {
        id: id(),
        userId: `user-${i % 10_000}`.padEnd(22, '0'),
        secretHash: hash(),
        mode: i % 2 === 0 ? 'cookie' : 'token',
        createdAt: now + i,
        lastSeenAt: now + i,
        idleExpiresAt: now + 7 * DAY,
        absoluteExpiresAt: now + 30 * DAY,
        userAgent: USER_AGENT,
        ip: `198.51.${(i >> 8) & 255}.${i & 255}`,
        revokedAt: null,
        persistent: false,
        amr: ['pwd'],
        authTime: now + i,
        acr: '1',
      };
      const token: RefreshTokenRecord = {
        id: id(),
        sessionId: session.id,
        secretHash: hash(),
        createdAt: now + i,
        expiresAt: now + 7 * DAY,
        rotatedAt: null,
        successorId: null,
      };
      ids.push(session.id);
      writes.push(store.createSession(session).then(() => store.createRefreshToken(token)));
    }
    await Promise.all(writes);
  }
  const bytes = (await target.bytesUsed()) - before;

  const pick = (): string => ids[Math.floor(Math.random() * ids.length)] ?? '';
  for (let i = 0; i < 500; i += 1) await store.getSession(pick()); // warm-up
  const times: number[] = [];
  for (let i = 0; i < options.reads; i += 1) {
    const sessionId = pick();
    const started = performance.now();
    const found = await store.getSession(sessionId);
    times.push(performance.now() - started);
    if (found === null) throw new Error('a written session is missing');
  }
  times.sort((x, y) => x - y);
  return {
    store: name,
    sessions: options.sessions,
    bytesPerSession: Math.round(bytes / options.sessions),
    getSessionP50Ms: Number(percentile(times, 50).toFixed(3)),
    getSessionP99Ms: Number(percentile(times, 99).toFixed(3)),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sessions: { type: 'string', default: '100000' },
      reads: { type: 'string', default: '10000' },
      only: { type: 'string' },
    },
  });
  const sessions = Number(values.sessions);
  const reads = Number(values.reads);
  const names = values.only === undefined ? Object.keys(sqlFootprintTargets) : [values.only];
  const results: FootprintResult[] = [];
  for (const name of names) {
    const open = sqlFootprintTargets[name];
    if (open === undefined) throw new Error(`unknown target ${name}`);
    const started = performance.now();
    const target = await open();
    try {
      results.push(await measureTarget(name, target, { sessions, reads }));
    } finally {
      await target.cleanup();
    }
    console.error(`${name}: ${Math.round((performance.now() - started) / 1000)} s`);
  }
  console.table(results);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
