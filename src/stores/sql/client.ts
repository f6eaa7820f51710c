/**
 * The one thing the SQL store needs from a driver. PGlite and `pg` are each wrapped in a few
 * lines to fit it, so that the store and the migrations have a single code path; what differs
 * between SQL engines (placeholders, upserts, column types, locks) is the dialect's business
 * (`dialect.ts`), not the client's.
 */

/**
 * A value that can be bound to a placeholder. A string array is for the dialects that have
 * array columns (Postgres `text[]`); the others encode arrays themselves (see `SqlDialect`).
 */
export type SqlParam = string | number | bigint | boolean | null | readonly string[];

/** The outcome of one statement. */
export interface SqlResult<T> {
  rows: T[];
  /**
   * How many rows an `INSERT`, `UPDATE` or `DELETE` changed; for an `UPDATE`, every row its
   * `WHERE` matched, even one already holding the new values (mysql2: the `FOUND_ROWS` flag).
   * The store reads it after every write whose outcome it needs (a compare-and-set, a sweep's
   * count), so every wrapper that backs a store must fill it in; undefined only from wrappers
   * used for other things (scripts, benchmarks).
   */
  rowCount?: number | undefined;
}

/**
 * A database connection (or pool) reduced to what Latchkey uses.
 *
 * Drivers differ in how they return `bigint` columns (string, number or BigInt): callers
 * convert them, never assume.
 */
export interface SqlClient {
  /** Runs one statement, with the placeholders of its dialect (`$1..$n` for Postgres). */
  query<T>(sql: string, params?: readonly SqlParam[]): Promise<SqlResult<T>>;
  /**
   * Runs a script of one or more statements without parameters (the simple query protocol).
   * Used by the migration runner: a migration file may hold many statements.
   */
  exec(sql: string): Promise<void>;
  /**
   * Runs `fn` inside `BEGIN ... COMMIT` on one connection, rolling back if it throws. Calls
   * made through `tx` belong to the transaction; calls made through the outer client do not
   * (and, on a single-connection driver, wait until it ends: never use the outer client
   * inside `fn`). `tx.transaction()` runs its function in the same transaction (no savepoint).
   * A wrapper begins the way its engine needs for writers to queue rather than fail (SQLite:
   * `BEGIN IMMEDIATE`).
   */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  /** Releases the connection(s). */
  close(): Promise<void>;
}

/**
 * The SQLSTATE of a driver error, if it has one (both PGlite and `pg` set `code`).
 *
 * @example
 * if (sqlStateOf(error) === '23505') { ... } // unique_violation
 */
export function sqlStateOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const { code } = error;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
