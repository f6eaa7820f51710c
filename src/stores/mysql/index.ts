/**
 * The MySQL / MariaDB store (`latchkey/stores/mysql`): a `mysql2` pool wrapped as a
 * {@link SqlClient} (`./client.ts`), running the SQL store with the MySQL dialect and the
 * migrations of `migrations/mysql/`. One store for MySQL 8 and MariaDB 10.11, selected by
 * `DATABASE_URL=mysql://...` or `mariadb://...`.
 *
 * Like the Postgres store, it fails fast and recovers by itself: connecting gives up after 2 s,
 * a statement after 6 s on the client (a row lock wait after 5 s on the server), and a dead
 * connection is dropped instead of crashing the process. Every failure reaches callers as
 * `LatchkeyError('store_unavailable')` (503); the next request opens a new connection.
 *
 * MySQL has no LISTEN/NOTIFY: this store pushes no revocation anywhere. Resource services read
 * the HTTP feed (`GET /v1/revocations`), or Redis pub/sub when `REDIS_URL` is also set.
 */

import mysql from 'mysql2/promise';
import type { Pool, PoolOptions } from 'mysql2/promise';
import { LatchkeyError } from '../../errors.js';
import type { SqlClient } from '../sql/client.js';
import { mysqlDialect } from '../sql/dialects/mysql.js';
import { migrate as runMigrations, prepareSchema as prepareMigrations } from '../sql/migrate.js';
import { createSqlStore } from '../sql/store.js';
import type { Store } from '../../store.js';
import { createMySQLClient } from './client.js';

export { createMySQLClient } from './client.js';
export type { MySQLClientOptions } from './client.js';

/** Options of {@link openMySQLStore}. */
export interface MySQLStoreOptions {
  /** `mysql://user:password@host:port/database` or `mariadb://...` (the `DATABASE_URL`). */
  url: string;
  /**
   * Applies pending migrations before returning (default true). When false, pending migrations
   * make the call reject with `LatchkeyError('config_invalid')` naming them.
   */
  migrate?: boolean | undefined;
  /** Connections in the pool (default 10). */
  poolSize?: number | undefined;
  /** Gives up connecting after this many ms (default 2 000). */
  connectionTimeoutMs?: number | undefined;
  /** Gives up a statement after this many ms on the client (default 6 000). */
  statementTimeoutMs?: number | undefined;
}

const DEFAULT_POOL_SIZE = 10;
const DEFAULT_CONNECTION_TIMEOUT_MS = 2_000;
const DEFAULT_STATEMENT_TIMEOUT_MS = 6_000;
/** The server gives up a row lock wait first, with a clearer error than the client's timeout. */
const LOCK_WAIT_TIMEOUT_S = 5;
/** Prepared statements kept per connection (the server caps them for all clients together). */
const MAX_PREPARED_STATEMENTS = 256;

/** Options of {@link createMySQLPool}. */
export interface MySQLPoolOptions {
  /** `mysql://` or `mariadb://` URL with a database. */
  url: string;
  /** Connections in the pool. */
  max: number;
  connectionTimeoutMs: number;
  /** Only for the migration runner's own pool: a migration file holds many statements. */
  multipleStatements?: boolean | undefined;
}

interface PoolSettings extends MySQLPoolOptions {
  /** 0 for none (migrations: a long one, or one waiting for another node's lock, is fine). */
  statementTimeoutMs: number;
}

/** The connection settings of a `mysql://` or `mariadb://` URL. */
function connectionOf(url: string): Pick<PoolOptions, 'host' | 'port' | 'user' | 'password' | 'database'> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new LatchkeyError('config_invalid', 'DATABASE_URL is not a valid URL');
  }
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') {
    throw new LatchkeyError('config_invalid', 'DATABASE_URL must start with mysql:// or mariadb://');
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database === '') throw new LatchkeyError('config_invalid', 'DATABASE_URL names no database');
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host: host === '' ? 'localhost' : host,
    port: parsed.port === '' ? 3306 : Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database,
  };
}

/**
 * A `mysql2` pool as the store needs it (see {@link createMySQLClient}): `CLIENT_FOUND_ROWS`,
 * utf8mb4, UTC, integers as numbers, JSON as text (binary strings are read as UTF-8 by the client), and multiple
 * statements only when asked (the migration runner's pool).
 *
 * @example
 * const client = createMySQLClient(createMySQLPool({ url, max: 2, connectionTimeoutMs: 2_000 }), {
 *   statementTimeoutMs: 0,
 *   lockWaitTimeoutS: 5,
 * });
 */
export function createMySQLPool(settings: MySQLPoolOptions): Pool {
  return mysql.createPool({
    ...connectionOf(settings.url),
    connectionLimit: settings.max,
    maxIdle: settings.max,
    idleTimeout: 30_000,
    waitForConnections: true,
    queueLimit: 0,
    connectTimeout: settings.connectionTimeoutMs,
    enableKeepAlive: true,
    // FOUND_ROWS: an UPDATE reports the rows it matched; no LOAD DATA LOCAL INFILE.
    flags: ['FOUND_ROWS', '-LOCAL_FILES'],
    charset: 'UTF8MB4_GENERAL_CI',
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: false,
    jsonStrings: true,
    dateStrings: true,
    // No driver typeCast: binary strings are read as UTF-8 by the client (`./client.ts`), which
    // costs far less than mysql2's per-column accessors. No caller's stack captured for every
    // statement either (`trace`): errors are classified by their code, and a driver error's
    // stack then shows the driver's frames only.
    trace: false,
    multipleStatements: settings.multipleStatements ?? false,
    maxPreparedStatements: MAX_PREPARED_STATEMENTS,
    connectAttributes: { program_name: 'latchkey' },
  });
}

function createClient(settings: PoolSettings): SqlClient {
  return createMySQLClient(createMySQLPool(settings), {
    statementTimeoutMs: settings.statementTimeoutMs,
    lockWaitTimeoutS: LOCK_WAIT_TIMEOUT_S,
  });
}

/**
 * A startup failure, with what went wrong in the message (the server down, the database missing,
 * a migration broken), summarised by the dialect: never a statement or a value.
 */
function startupError(error: unknown, doing: string): LatchkeyError {
  if (error instanceof LatchkeyError) return error;
  const summary = mysqlDialect.describeError(error);
  return new LatchkeyError('store_unavailable', `MySQL: ${doing} failed: ${summary}`, {
    cause: new Error(summary),
    retryAfter: 1,
  });
}

/** The migration runner's own short-lived pool: no statement timeout, scripts allowed. */
function migrationClient(url: string): SqlClient {
  return createClient({
    url,
    max: 2,
    connectionTimeoutMs: DEFAULT_CONNECTION_TIMEOUT_MS,
    statementTimeoutMs: 0,
    multipleStatements: true,
  });
}

async function prepareSchema(url: string, options: { migrate: boolean }): Promise<void> {
  const client = migrationClient(url);
  try {
    await prepareMigrations(client, { dialect: mysqlDialect, migrate: options.migrate });
  } catch (error) {
    throw startupError(error, options.migrate ? 'migrating' : 'checking migrations');
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * Connects to MySQL or MariaDB and returns a store over it (`kind: 'mysql'`). Rejects with
 * `store_unavailable` when the server cannot be reached within the connection timeout, and with
 * `config_invalid` when `migrate` is false and migrations are pending.
 *
 * @example
 * const store = await openMySQLStore({ url: 'mysql://latchkey:secret@db:3306/latchkey', migrate: false });
 */
export async function openMySQLStore(options: MySQLStoreOptions): Promise<Store> {
  const settings: PoolSettings = {
    url: options.url,
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    connectionTimeoutMs: options.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
    statementTimeoutMs: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
    multipleStatements: false,
  };
  if (!Number.isInteger(settings.max) || settings.max < 1) {
    throw new TypeError('"poolSize" must be a positive integer');
  }
  connectionOf(settings.url);
  await prepareSchema(settings.url, { migrate: options.migrate ?? true });
  const client = createClient(settings);
  const store = createSqlStore(client, { kind: 'mysql', dialect: mysqlDialect });
  try {
    await store.ping();
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  return store;
}

/**
 * Applies pending migrations on the database at `url` and returns the versions applied (empty
 * when up to date). Safe to run from many nodes at once: a named lock (`GET_LOCK`) serializes
 * them. What `latchkey migrate` runs with a `mysql://` `DATABASE_URL`.
 *
 * @example
 * const { applied } = await migrateMySQL({ url: process.env.DATABASE_URL ?? '' });
 */
export async function migrateMySQL(options: { url: string }): Promise<{ applied: string[] }> {
  connectionOf(options.url);
  const client = migrationClient(options.url);
  try {
    return await runMigrations(client, { dialect: mysqlDialect });
  } catch (error) {
    throw startupError(error, 'migrating');
  } finally {
    await client.close().catch(() => undefined);
  }
}
