/**
 * The Postgres store: a `pg` pool wrapped as a {@link SqlClient}, running the SQL store and the
 * Postgres migrations unchanged, with the Postgres dialect (the same statements PGlite runs).
 *
 * It is built to fail fast and to recover by itself: connecting gives up after 2 s, a statement
 * after 5 s (on the server with `statement_timeout`, and on the client with `query_timeout` for
 * a server that stopped answering), and a connection that dies (idle in the pool, or in the
 * middle of a request) is dropped from the pool instead of crashing the process. Every failure
 * reaches callers as `LatchkeyError('store_unavailable')` (503); the next request opens a new
 * connection, so service resumes as soon as the server is back.
 *
 * `bigint` columns come back from `pg` as strings; the SQL store converts them, so no global
 * type parser is installed.
 */

import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Pool, PoolClient, PoolConfig } from 'pg';
import { LatchkeyError } from '../../errors.js';
import type { SqlClient, SqlParam, SqlResult } from '../sql/client.js';
import { sqlStateOf } from '../sql/client.js';
import { postgresDialect } from '../sql/dialects/postgres.js';
import { migrate as runMigrations, prepareSchema as prepareMigrations } from '../sql/migrate.js';
import { createSqlStore } from '../sql/store.js';
import type { Store } from '../../store.js';

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` (the `DATABASE_URL`). */
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
  /** Gives up a statement after this many ms (default 5 000). */
  statementTimeoutMs?: number | undefined;
}

const DEFAULT_POOL_SIZE = 10;
const DEFAULT_CONNECTION_TIMEOUT_MS = 2_000;
const DEFAULT_STATEMENT_TIMEOUT_MS = 5_000;
/** The client-side timeout is a little longer, so that the server's (clearer) error wins. */
const CLIENT_TIMEOUT_MARGIN_MS = 1_000;

/**
 * Whether a connection that raised `error` can go back to the pool. A statement the server
 * refused (a SQLSTATE such as a unique violation or a `statement_timeout`) leaves the
 * connection healthy; a network error, a client-side timeout (the statement may still be
 * running), or a server going away (class 08, 57P) does not.
 */
function isConnectionReusable(error: unknown): boolean {
  const state = sqlStateOf(error);
  if (state === undefined) return false;
  return !state.startsWith('08') && !state.startsWith('57P');
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Distinct statements run as named prepared statements, at most (see {@link statementName}). */
const MAX_NAMED_STATEMENTS = 256;
const statementNames = new Map<string, string>();

/**
 * The name of a statement's server-side prepared statement: parsed and planned once per
 * connection, then only bound and executed (an unnamed one is parsed and planned every time).
 * The name is the text's hash, so one name never stands for two texts. Texts past the first
 * {@link MAX_NAMED_STATEMENTS} (statements built with a variable number of placeholders) run
 * unnamed, so that a connection's prepared statements stay bounded.
 */
function statementName(sql: string): string | undefined {
  let name = statementNames.get(sql);
  if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS) {
    name = `lk_${createHash('sha256').update(sql).digest('base64url').slice(0, 22)}`;
    statementNames.set(sql, name);
  }
  return name;
}

/** A connection checked out of the pool, and whether it may go back. */
interface Checkout {
  /** Runs one statement; a failure that leaves the connection unusable marks it for destruction. */
  run(sql: string, params?: readonly SqlParam[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
  /** Destroys the connection when it is released. */
  discard(error: unknown): void;
  isDiscarded(): boolean;
}

/**
 * Runs `operation` on a connection checked out of the pool and always gives it back. While it
 * is checked out, an `error` event (the server closing the socket between two statements) is
 * caught, instead of reaching the process as an uncaught error, and the connection is
 * destroyed on release; so is one that failed with a network error or a client-side timeout.
 */
async function withConnection<T>(pool: Pool, operation: (checkout: Checkout) => Promise<T>): Promise<T> {
  const connection: PoolClient = await pool.connect();
  let broken: Error | undefined;
  const discard = (error: unknown): void => {
    broken ??= toError(error);
  };
  connection.on('error', discard);
  const checkout: Checkout = {
    async run(sql, params) {
      try {
        if (params === undefined) return await connection.query(sql);
        const name = statementName(sql);
        return await connection.query(
          name === undefined ? { text: sql, values: [...params] } : { name, text: sql, values: [...params] },
        );
      } catch (error) {
        if (!isConnectionReusable(error)) discard(error);
        throw error;
      }
    },
    discard,
    isDiscarded: () => broken !== undefined,
  };
  try {
    return await operation(checkout);
  } finally {
    connection.removeListener('error', discard);
    connection.release(broken);
  }
}

/** A `pg` result as a {@link SqlResult}; `pg` reports no row count for some commands (null). */
function toResult<T>(result: { rows: unknown[]; rowCount: number | null }): SqlResult<T> {
  return { rows: result.rows as T[], rowCount: result.rowCount ?? undefined };
}

/** The client handed to a transaction's function: every statement runs on its connection. */
function transactionClient(checkout: Checkout): SqlClient {
  const client: SqlClient = {
    async query<T>(sql: string, params: readonly SqlParam[] = []): Promise<SqlResult<T>> {
      const result = await checkout.run(sql, params);
      return toResult<T>(result);
    },
    async exec(sql: string): Promise<void> {
      await checkout.run(sql);
    },
    transaction<U>(fn: (inner: SqlClient) => Promise<U>): Promise<U> {
      return fn(client);
    },
    close(): Promise<void> {
      return Promise.reject(new Error('A transaction cannot close the pool'));
    },
  };
  return client;
}

/**
 * Wraps a `pg` pool as a {@link SqlClient}. `transaction()` checks out one connection for
 * `BEGIN ... COMMIT` (`ROLLBACK` if `fn` throws) and always gives it back; a connection that
 * failed in a way that may leave it unusable (a network error, a client-side timeout, a failed
 * `ROLLBACK`) is destroyed rather than reused. `close()` ends the pool.
 *
 * @example
 * const client = createPostgresClient(new pg.Pool({ connectionString: process.env.DATABASE_URL }));
 * await migrate(client);
 */
export function createPostgresClient(pool: Pool): SqlClient {
  let closed = false;
  return {
    query<T>(sql: string, params: readonly SqlParam[] = []): Promise<SqlResult<T>> {
      return withConnection(pool, async (checkout) => {
        const result = await checkout.run(sql, params);
        return toResult<T>(result);
      });
    },
    exec(sql: string): Promise<void> {
      return withConnection(pool, async (checkout) => {
        // Without parameters, pg uses the simple query protocol: a script of many statements runs.
        await checkout.run(sql);
      });
    },
    transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      return withConnection(pool, async (checkout) => {
        await checkout.run('BEGIN');
        let result: T;
        try {
          result = await fn(transactionClient(checkout));
        } catch (error) {
          // A connection already marked broken is destroyed on release, and the server rolls
          // back on its own; otherwise roll back, and destroy it if even that fails.
          if (!checkout.isDiscarded()) {
            await checkout.run('ROLLBACK').catch((rollbackError: unknown) => checkout.discard(rollbackError));
          }
          throw error;
        }
        await checkout.run('COMMIT');
        return result;
      });
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

interface PoolSettings {
  url: string;
  max: number;
  connectionTimeoutMs: number;
  /** 0 for none (migrations: a long one, or one waiting for another node's lock, is fine). */
  statementTimeoutMs: number;
}

function createPool(settings: PoolSettings): Pool {
  const config: PoolConfig = {
    connectionString: settings.url,
    max: settings.max,
    connectionTimeoutMillis: settings.connectionTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'latchkey',
  };
  if (settings.statementTimeoutMs > 0) {
    config.statement_timeout = settings.statementTimeoutMs;
    config.query_timeout = settings.statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS;
  }
  const pool = new pg.Pool(config);
  // An idle connection that dies (server restart, network) is removed by the pool, which then
  // emits 'error': without a listener that would crash the process. The next checkout opens a
  // new connection, so there is nothing else to do.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * A startup failure, with what went wrong in the message so that the operator reading
 * `latchkey: store_unavailable: ...` knows whether the server is down, the database missing or a
 * migration broken. Only the SQLSTATE and the driver's message are kept: `pg` attaches the
 * statement and its parameters to its errors, and those never reach a message.
 */
function startupError(error: unknown, doing: string): LatchkeyError {
  if (error instanceof LatchkeyError) return error;
  const state = sqlStateOf(error);
  const message = error instanceof Error ? error.message : String(error);
  const summary = state === undefined ? message : `SQLSTATE ${state}: ${message}`;
  return new LatchkeyError('store_unavailable', `Postgres: ${doing} failed: ${summary}`, {
    cause: new Error(summary),
    retryAfter: 1,
  });
}

async function prepareSchema(settings: PoolSettings, options: { migrate: boolean }): Promise<void> {
  // Migrations run on their own short-lived pool without statement timeouts: waiting for
  // another node's migration lock, or a long migration, must not be cut at 5 s.
  const client = createPostgresClient(createPool({ ...settings, max: 2, statementTimeoutMs: 0 }));
  try {
    await prepareMigrations(client, { dialect: postgresDialect, migrate: options.migrate });
  } catch (error) {
    throw startupError(error, options.migrate ? 'migrating' : 'checking migrations');
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * Connects to Postgres and returns a store over it (`kind: 'postgres'`). Rejects with
 * `store_unavailable` when the server cannot be reached within the connection timeout, and with
 * `config_invalid` when `migrate` is false and migrations are pending.
 *
 * @example
 * const store = await openPostgresStore({ url: 'postgres://latchkey@db/latchkey', migrate: false });
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const settings: PoolSettings = {
    url: options.url,
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    connectionTimeoutMs: options.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
    statementTimeoutMs: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
  };
  if (!Number.isInteger(settings.max) || settings.max < 1) {
    throw new TypeError('"poolSize" must be a positive integer');
  }
  await prepareSchema(settings, { migrate: options.migrate ?? true });
  const client = createPostgresClient(createPool(settings));
  const store = createSqlStore(client, { kind: 'postgres', dialect: postgresDialect });
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
 * when up to date). Safe to run from many nodes at once: an advisory lock serializes them.
 *
 * @example
 * const { applied } = await migratePostgres({ url: process.env.DATABASE_URL ?? '' });
 */
export async function migratePostgres(options: { url: string }): Promise<{ applied: string[] }> {
  const client = createPostgresClient(
    createPool({
      url: options.url,
      max: 2,
      connectionTimeoutMs: DEFAULT_CONNECTION_TIMEOUT_MS,
      statementTimeoutMs: 0,
    }),
  );
  try {
    return await runMigrations(client, { dialect: postgresDialect });
  } catch (error) {
    throw startupError(error, 'migrating');
  } finally {
    await client.close().catch(() => undefined);
  }
}
