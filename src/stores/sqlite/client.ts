/**
 * `better-sqlite3` wrapped as a {@link SqlClient}: one connection, statements prepared once per
 * SQL text, transactions begun with `BEGIN IMMEDIATE`, and a queue that keeps a transaction's
 * statements together.
 *
 * better-sqlite3 is synchronous: a statement runs to completion before the call returns, so
 * two statements can never interleave. A transaction, though, runs an async function between
 * its `BEGIN` and its `COMMIT`, and while that function awaits, other requests' calls get to
 * run on the same connection, where they would join the open transaction (and be rolled back
 * with it, or see its uncommitted writes). So the client holds a gate for the length of every
 * transaction: a call made through the outer client while a transaction is open waits, in
 * arrival order, until it ends; when none is open (the usual case) it runs at once. The
 * statements of the transaction itself go through its `tx` client, which bypasses the gate.
 */

import type BetterSqlite3 from 'better-sqlite3';
import type { SqlClient, SqlParam, SqlResult } from '../sql/client.js';

type Database = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement;

/** Prepared statements kept per connection; the record modules use a few dozen shapes. */
const STATEMENT_CACHE_SIZE = 500;

/** A first-come, first-served gate: one holder at a time. */
class Gate {
  private held = false;
  private readonly waiting: Array<() => void> = [];

  get busy(): boolean {
    return this.held;
  }

  acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Hands the gate to the next waiter, if any, without letting anyone overtake it. */
  release(): void {
    const next = this.waiting.shift();
    if (next === undefined) this.held = false;
    else next();
  }
}

/** The dialect encodes booleans (0/1) and arrays (JSON): either one here is a caller bug, named. */
function checkBindable(params: readonly SqlParam[]): void {
  for (const value of params) {
    if (typeof value === 'boolean') throw new TypeError('SQLite binds no booleans: use the dialect');
    if (Array.isArray(value)) throw new TypeError('SQLite binds no arrays: use the dialect');
  }
}

/**
 * A prepared statement. One that returns rows is switched to raw mode (each row an array) and
 * its rows built here from the column names: an object literal filled in JavaScript costs about
 * half of what better-sqlite3's own row objects do, on the path of every authenticated request.
 */
interface Prepared {
  readonly statement: Statement;
  /** The names of the columns it returns; null for a statement that returns none. */
  readonly columns: readonly string[] | null;
}

function prepareStatement(db: Database, sql: string): Prepared {
  const statement = db.prepare(sql);
  if (!statement.reader) return { statement, columns: null };
  const columns = statement.columns().map((column) => column.name);
  statement.raw(true);
  return { statement, columns };
}

function toRow(columns: readonly string[], values: readonly unknown[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (let index = 0; index < columns.length; index++) row[columns[index] ?? ''] = values[index];
  return row;
}

/** Prepares each SQL text once; the oldest statement is dropped beyond the cache's size. */
function statementCache(db: Database): (sql: string) => Prepared {
  const cache = new Map<string, Prepared>();
  return (sql) => {
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = prepareStatement(db, sql);
      if (cache.size >= STATEMENT_CACHE_SIZE) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
      cache.set(sql, statement);
    }
    return statement;
  };
}

/** Runs `operation` now; its result, or what it threw, as a promise. */
function settle<T>(operation: () => T): Promise<T> {
  return new Promise((resolve) => resolve(operation()));
}

/**
 * Runs one statement now. A statement that returns rows (a `SELECT`, or a write with
 * `RETURNING`) reports as many as it returned, which for a write is how many rows it changed;
 * any other reports SQLite's `changes` (for an `UPDATE`: every row its `WHERE` matched).
 */
function runNow<T>({ statement, columns }: Prepared, params: readonly SqlParam[]): SqlResult<T> {
  checkBindable(params);
  if (columns !== null) {
    const rows = (statement.all(...params) as unknown[][]).map((row) => toRow(columns, row) as T);
    return { rows, rowCount: rows.length };
  }
  const { changes } = statement.run(...params);
  return { rows: [], rowCount: changes };
}

/**
 * Wraps an open better-sqlite3 connection as a {@link SqlClient}. `close()` waits for an open
 * transaction to end, then closes the connection.
 *
 * @example
 * const client = createSQLiteClient(new Database('latchkey.sqlite'));
 * await migrate(client, { dialect: sqliteDialect });
 */
export function createSQLiteClient(db: Database): SqlClient {
  const prepare = statementCache(db);
  const gate = new Gate();

  /** Runs `operation` once the gate is free, after the calls queued before it. */
  const queued = async <T>(operation: () => T): Promise<T> => {
    await gate.acquire();
    try {
      return operation();
    } finally {
      gate.release();
    }
  };
  /** Runs `operation` at once when no transaction is open, else queued until it ends. */
  const outside = <T>(operation: () => T): Promise<T> => (gate.busy ? queued(operation) : settle(operation));

  const transaction = async <T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> => {
    await gate.acquire();
    let open = true;
    const live = (): void => {
      if (!open) throw new Error('The transaction has ended: use the outer client');
    };
    const tx: SqlClient = {
      query: <U>(sql: string, params: readonly SqlParam[] = []) =>
        settle(() => {
          live();
          return runNow<U>(prepare(sql), params);
        }),
      exec: (sql: string) =>
        settle(() => {
          live();
          db.exec(sql);
        }),
      transaction: (inner) => inner(tx),
      close: () => Promise.reject(new Error('A transaction cannot close the database')),
    };
    try {
      // IMMEDIATE takes the write lock now, so that a writer in another process waits here
      // (busy timeout) instead of failing at its first write with SQLITE_BUSY.
      prepare('BEGIN IMMEDIATE').statement.run();
      let result: T;
      try {
        result = await fn(tx);
      } catch (error) {
        // Some errors (SQLITE_FULL, an interrupt) have already rolled the transaction back.
        if (db.inTransaction) prepare('ROLLBACK').statement.run();
        throw error;
      }
      try {
        prepare('COMMIT').statement.run();
      } catch (error) {
        if (db.inTransaction) prepare('ROLLBACK').statement.run();
        throw error;
      }
      return result;
    } finally {
      open = false;
      gate.release();
    }
  };

  return {
    query: <T>(sql: string, params: readonly SqlParam[] = []) =>
      outside(() => runNow<T>(prepare(sql), params)),
    exec: (sql: string) => outside(() => void db.exec(sql)),
    transaction,
    async close(): Promise<void> {
      await gate.acquire();
      try {
        if (db.open) db.close();
      } finally {
        gate.release();
      }
    },
  };
}
