/**
 * What every record module of the SQL store shares: the client, the dialect, the way statements
 * run, and the way driver failures become `LatchkeyError`s.
 */

import { LatchkeyError, storeUnavailable } from '../../errors.js';
import type { SqlClient, SqlParam, SqlResult } from './client.js';
import type { SqlDialect, SqlStatement } from './dialect.js';

/** The client and dialect a record module works with. */
export interface SqlContext {
  readonly client: SqlClient;
  readonly dialect: SqlDialect;
  /**
   * Runs `operation`, turning any failure into a `LatchkeyError` (see {@link toStoreError}).
   * Every contract method goes through it.
   */
  readonly guarded: <T>(operation: () => Promise<T>) => Promise<T>;
}

/**
 * Turns a driver failure into a LatchkeyError. A unique violation is a caller bug (a duplicate
 * id), not an outage: `internal_error`. Anything else is `store_unavailable`. The driver error
 * is replaced by the dialect's summary (code and message) because drivers attach the statement
 * and its parameters, which may hold secret hashes.
 *
 * @example
 * try { ... } catch (error) { throw toStoreError(error, postgresDialect); }
 */
export function toStoreError(error: unknown, dialect: SqlDialect): LatchkeyError {
  if (error instanceof LatchkeyError) return error;
  const summary = new Error(dialect.describeError(error));
  if (dialect.isUniqueViolation(error)) {
    return new LatchkeyError('internal_error', 'A record with this id already exists', { cause: summary });
  }
  return storeUnavailable(summary);
}

/**
 * The context of one store.
 *
 * @example
 * const context = createSqlContext(client, postgresDialect);
 * const sessions = createSessionStore(context);
 */
export function createSqlContext(client: SqlClient, dialect: SqlDialect): SqlContext {
  return {
    client,
    dialect,
    async guarded<T>(operation: () => Promise<T>): Promise<T> {
      try {
        return await operation();
      } catch (error) {
        throw toStoreError(error, dialect);
      }
    },
  };
}

/**
 * Runs a prepared statement on `db` (the store's client, or a transaction's), binding the
 * house-style values `$1..$n`.
 *
 * @example
 * const { rows } = await run<{ id: string }>(tx, selectIds, [userId]);
 */
export function run<T>(
  db: SqlClient,
  statement: SqlStatement,
  values: readonly SqlParam[] = [],
): Promise<SqlResult<T>> {
  return db.query<T>(statement.text, statement.params(values));
}

/**
 * How many rows a write changed (an `UPDATE`: matched). Throws when the client does not report
 * it: a compare-and-set must never guess.
 *
 * @example
 * return rowCountOf(await run(client, revoke, [id, at])) > 0;
 */
export function rowCountOf(result: SqlResult<unknown>): number {
  if (result.rowCount === undefined) {
    throw new Error('The SQL client did not report how many rows the statement changed');
  }
  return result.rowCount;
}

/**
 * Placeholders `$first, $first+1, ...` for an `IN (...)` list of `count` values.
 *
 * @example
 * placeholderList(3, 2); // '$3, $4'
 */
export function placeholderList(first: number, count: number): string {
  return Array.from({ length: count }, (_unused, index) => `$${first + index}`).join(', ');
}
