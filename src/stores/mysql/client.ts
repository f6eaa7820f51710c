/**
 * A `mysql2/promise` pool wrapped as a {@link SqlClient}: what the SQL store and the migration
 * runner need from MySQL 8 or MariaDB 10.11, and nothing engine-specific beyond the driver.
 *
 * - Every statement with parameters is a prepared statement (`execute`, cached per connection);
 *   transaction control and parameterless statements use the text protocol.
 * - Each connection is set up once, before its first statement: strict `sql_mode` (with
 *   `ANSI_QUOTES`), UTC `time_zone`, READ COMMITTED (the SQL store's atomic steps are written
 *   for it, and it takes no gap locks on plain reads) and a 5 s `innodb_lock_wait_timeout`. A
 *   connection whose set-up failed is never used.
 * - A connection that failed in a way that may leave it unusable (a network error, a client-side
 *   timeout, anything without a server error number) is destroyed, not returned to the pool;
 *   the next statement opens a new one, so service resumes as soon as the server is back.
 * - A deadlock (`ER_LOCK_DEADLOCK`, 1213) rolls the whole transaction back on the server; the
 *   wrapper runs it again, up to three times in all, as MySQL's manual asks of every client.
 * - Errors keep their code, errno and SQLSTATE for the dialect to classify; the driver's copy of
 *   the statement (`sql`) is removed from them.
 */

import type { Pool, PoolConnection } from 'mysql2/promise';
import type { SqlClient, SqlParam, SqlResult } from '../sql/client.js';

/** What a connection runs once, before its first statement. */
function sessionSetup(lockWaitTimeoutS: number): string[] {
  return [
    "SET SESSION sql_mode = 'ANSI_QUOTES,STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ONLY_FULL_GROUP_BY', " +
      `time_zone = '+00:00', innodb_lock_wait_timeout = ${lockWaitTimeoutS}`,
    'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
  ];
}

/** Options of {@link createMySQLClient}. */
export interface MySQLClientOptions {
  /** Client-side limit of one statement in ms; 0 for none (migrations). */
  statementTimeoutMs: number;
  /** `innodb_lock_wait_timeout` of every connection, in seconds. */
  lockWaitTimeoutS: number;
}

const ER_LOCK_DEADLOCK = 1213;
const DEADLOCK_ATTEMPTS = 3;

function errnoOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('errno' in error)) return undefined;
  return typeof error.errno === 'number' ? error.errno : undefined;
}

/** Removes the driver's copy of the statement from an error (it may hold values in literals). */
function scrubbed(error: unknown): unknown {
  if (typeof error === 'object' && error !== null && 'sql' in error) {
    delete (error as { sql?: unknown }).sql;
  }
  return error;
}

/**
 * Whether a connection that raised `error` can go back to the pool: a server error (a duplicate
 * key, a lock wait timeout) leaves it healthy; a network error, a client-side timeout (the
 * statement may still be running) or a fatal error does not.
 */
function isConnectionReusable(error: unknown): boolean {
  if (typeof error === 'object' && error !== null && 'fatal' in error && error.fatal === true) return false;
  return errnoOf(error) !== undefined;
}

type DriverResult = unknown[] | { affectedRows?: number };

/** The values as the driver takes them; an array (which no MySQL statement binds) as JSON text. */
function driverParams(params: readonly SqlParam[]): (string | number | bigint | boolean | null)[] {
  return params.map((param) => (typeof param === 'object' && param !== null ? JSON.stringify(param) : param));
}

/**
 * Binary string columns (the `VARBINARY` ids and hashes, the only binary columns of the schema)
 * come back as Buffers: they hold UTF-8 text, so they are read as strings here, after the
 * driver. A driver `typeCast` did this before, but it costs mysql2 two accessor objects per
 * column of every row it decodes (most of a session read's CPU, measured).
 */
function utf8Row(row: Record<string, unknown>): Record<string, unknown> {
  for (const name in row) {
    const value = row[name];
    if (Buffer.isBuffer(value)) row[name] = value.toString('utf8');
  }
  return row;
}

function toResult<T>(result: DriverResult): SqlResult<T> {
  if (Array.isArray(result)) {
    for (const row of result) utf8Row(row as Record<string, unknown>);
    return { rows: result as T[], rowCount: result.length };
  }
  return { rows: [], rowCount: result.affectedRows ?? 0 };
}

/** One connection checked out of the pool, and whether it may go back. */
interface Checkout {
  run(sql: string, params?: readonly SqlParam[]): Promise<DriverResult>;
  discard(): void;
  isDiscarded(): boolean;
}

/**
 * `promise`, or a rejection once `ms` have passed (then `onTimeout` runs: the caller drops the
 * connection). mysql2's own `timeout` does not cover preparing a statement, which waits forever
 * on a server that stopped answering: this bounds the whole round trip. 0 for no limit.
 */
function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  if (ms <= 0) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      reject(Object.assign(new Error(`No answer from the server within ${ms} ms`), { code: 'ETIMEDOUT' }));
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `attempt` again after a deadlock (the server rolled it back), up to three times in all. */
async function retryingDeadlocks<T>(attempt: () => Promise<T>): Promise<T> {
  for (let round = 1; ; round += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (errnoOf(error) !== ER_LOCK_DEADLOCK || round >= DEADLOCK_ATTEMPTS) throw error;
      await sleep(Math.floor(Math.random() * 10 * round));
    }
  }
}

/** The client a transaction's function gets: every statement on the transaction's connection. */
function transactionClient(checkout: Checkout): SqlClient {
  const client: SqlClient = {
    async query<T>(sql: string, params: readonly SqlParam[] = []): Promise<SqlResult<T>> {
      return toResult<T>(await checkout.run(sql, params));
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
 * Wraps a `mysql2/promise` pool as a {@link SqlClient}. The pool must be created with
 * `CLIENT_FOUND_ROWS` (`rowCount` of an `UPDATE` is then the number of rows its `WHERE`
 * matched) and must read binary strings as text: `createMySQLPool` (`./index.ts`) makes such a
 * pool. `exec` runs a script of several statements only on a pool created with
 * `multipleStatements` (the migration runner's own pool). `close()` ends the pool.
 *
 * @example
 * const pool = createMySQLPool({ url: 'mysql://latchkey@db/latchkey', max: 10, connectionTimeoutMs: 2_000 });
 * const client = createMySQLClient(pool, { statementTimeoutMs: 6_000, lockWaitTimeoutS: 5 });
 */
export function createMySQLClient(pool: Pool, options: MySQLClientOptions): SqlClient {
  const ready = new WeakSet<object>();
  const setup = sessionSetup(options.lockWaitTimeoutS);
  const limit = options.statementTimeoutMs;
  let closed = false;

  const withConnection = async <T>(operation: (checkout: Checkout) => Promise<T>): Promise<T> => {
    // Waiting for a free connection is bounded too; one that arrives too late goes back.
    const acquiring = pool.getConnection();
    const connection: PoolConnection = await withDeadline(acquiring, limit, () => {
      acquiring.then(
        (late) => late.release(),
        () => undefined,
      );
    }).catch((error: unknown) => {
      throw scrubbed(error);
    });
    let broken = false;
    const checkout: Checkout = {
      async run(sql, params) {
        try {
          const running =
            params === undefined || params.length === 0
              ? connection.query(sql)
              : connection.execute(sql, driverParams(params));
          const [result] = await withDeadline(running, limit, () => {
            broken = true;
            connection.destroy();
          });
          return result;
        } catch (error) {
          if (!isConnectionReusable(error)) broken = true;
          throw scrubbed(error);
        }
      },
      discard: () => {
        broken = true;
      },
      isDiscarded: () => broken,
    };
    try {
      if (!ready.has(connection.connection)) {
        // An error on an idle connection must not reach the process as an uncaught event.
        connection.connection.on('error', () => undefined);
        for (const statement of setup) await checkout.run(statement);
        ready.add(connection.connection);
      }
      return await operation(checkout);
    } catch (error) {
      // A connection whose set-up did not finish must not serve anyone.
      if (!ready.has(connection.connection)) broken = true;
      throw error;
    } finally {
      if (broken) connection.destroy();
      else connection.release();
    }
  };

  return {
    query<T>(sql: string, params: readonly SqlParam[] = []): Promise<SqlResult<T>> {
      return retryingDeadlocks(() =>
        withConnection(async (checkout) => toResult<T>(await checkout.run(sql, params))),
      );
    },
    exec(sql: string): Promise<void> {
      return withConnection(async (checkout) => {
        await checkout.run(sql);
      });
    },
    transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      return retryingDeadlocks(() =>
        withConnection(async (checkout) => {
          await checkout.run('START TRANSACTION');
          let result: T;
          try {
            result = await fn(transactionClient(checkout));
          } catch (error) {
            // A broken connection is destroyed, and the server rolls back on its own.
            if (!checkout.isDiscarded()) {
              await checkout.run('ROLLBACK').catch(() => checkout.discard());
            }
            throw error;
          }
          await checkout.run('COMMIT');
          return result;
        }),
      );
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
