/**
 * The SQLite dialect (SQLite 3.37+, through `better-sqlite3`, which bundles its own): `?`
 * placeholders, JSON text for string arrays, 0/1 for booleans, integer milliseconds for times,
 * `STRICT` tables (3.37), and `RETURNING` on `INSERT`, `UPDATE` and `DELETE` (3.35) but no
 * data-modifying `WITH`.
 *
 * SQLite has no row locks and no advisory locks: its client begins every transaction with
 * `BEGIN IMMEDIATE`, which takes the database's single write lock at once, so writers (this
 * process's, queued by the client, and another process's, waiting out the busy timeout) never
 * overlap. The named locks are therefore plain transactions, and `forUpdate` is empty.
 */

import type { SqlClient, SqlParam } from '../client.js';
import type { SqlColumnType, SqlDialect, SqlLock } from '../dialect.js';
import { positionalPlaceholders, toSafeInteger } from '../dialect.js';
import { onConflictInsert } from './on-conflict.js';

/** Integer milliseconds since the epoch, like every other time of the schema. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS latchkey_migrations (
  version TEXT PRIMARY KEY NOT NULL,
  checksum TEXT NOT NULL,
  applied_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
) STRICT`;

/** The extended result codes of a duplicate key (better-sqlite3 puts them in `code`). */
const UNIQUE_CODES = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const { code } = error;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/**
 * The earliest non-null of `columns`. SQLite's multi-argument `MIN` is NULL as soon as one
 * argument is, unlike Postgres `LEAST`: each argument is a `COALESCE` that starts with one
 * column and falls back to the others, so a NULL column contributes some other column's value
 * and the result is NULL only when every column is. The sweep index of `migrations/sqlite/`
 * is built on this very expression (SQLite matches an index expression by its text's tree).
 */
function earliest(columns: readonly string[]): string {
  if (columns.length === 1) return columns[0] ?? 'NULL';
  const terms = columns.map(
    (column) => `COALESCE(${[column, ...columns.filter((other) => other !== column)].join(', ')})`,
  );
  return `MIN(${terms.join(', ')})`;
}

function readStrings(value: unknown): string[] {
  if (typeof value !== 'string') throw new TypeError('A string-array column did not come back as JSON text');
  const parsed: unknown = JSON.parse(value);
  if (!Array.isArray(parsed)) throw new TypeError('A string-array column does not hold a JSON array');
  return parsed.map(String);
}

/**
 * Summarises a driver error as its SQLite result code and message. SQLite's messages name the
 * table and column of a violated constraint, never the value; better-sqlite3 attaches no
 * statement or parameter to its errors.
 */
function describeError(error: unknown): string {
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  return code === undefined ? message : `${code}: ${message}`;
}

/**
 * The SQLite dialect.
 *
 * @example
 * await migrate(client, { dialect: sqliteDialect });
 * const store = createSqlStore(client, { kind: 'sqlite', dialect: sqliteDialect });
 */
export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  supports: {
    insertReturning: true,
    upsertReturning: true,
    updateReturning: true,
    deleteReturning: true,
    // `WITH` in SQLite takes only a SELECT: the sweep runs as two DELETEs in one transaction.
    writableCte: false,
  },

  prepare: positionalPlaceholders,
  // Columns are dynamically typed and parameters bound with their JavaScript type: no cast.
  cast(placeholder: string, _type: SqlColumnType): string {
    return placeholder;
  },
  insert: onConflictInsert,
  earliest,
  forUpdate: '',

  readInteger: toSafeInteger,
  writeBoolean(value: boolean): SqlParam {
    return value ? 1 : 0;
  },
  readBoolean(value: unknown): boolean {
    return value === 1 || value === 1n || value === true || value === '1';
  },
  writeStrings(values: readonly string[]): SqlParam {
    return JSON.stringify(values);
  },
  readStrings,

  lockedTransaction<T>(client: SqlClient, _lock: SqlLock, fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    // BEGIN IMMEDIATE holds the database's one write lock until the end: every lock at once.
    return client.transaction(fn);
  },
  async tableExists(client: SqlClient, table: string): Promise<boolean> {
    const { rows } = await client.query<{ present: number }>(
      "SELECT count(*) AS present FROM sqlite_schema WHERE type = 'table' AND name = ?",
      [table],
    );
    return (rows[0]?.present ?? 0) > 0;
  },
  migrationsTable: CREATE_MIGRATIONS_TABLE,

  isUniqueViolation(error: unknown): boolean {
    const code = codeOf(error);
    return code !== undefined && UNIQUE_CODES.has(code);
  },
  describeError,
};
