/**
 * The one thing the SQL store needs from a Postgres driver. PGlite and `pg` are each wrapped in
 * a few lines to fit it, so that the store and the migrations have a single code path.
 */

/** A value that can be bound to a `$n` placeholder. */
export type SqlParam = string | number | bigint | boolean | null | readonly string[];

/** The rows of one statement. */
export interface SqlResult<T> {
  rows: T[];
}

/**
 * A Postgres connection (or pool) reduced to what Latchkey uses.
 *
 * Drivers differ in how they return `bigint` columns (string, number or BigInt): callers
 * convert them, never assume.
 */
export interface SqlClient {
  /** Runs one statement with `$1..$n` placeholders. */
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
