/**
 * The MySQL / MariaDB dialect: one dialect for MySQL 8 and MariaDB 10.11, written in their
 * common ground only (no `RETURNING`, which MySQL lacks; no `CREATE INDEX IF NOT EXISTS` or
 * `CAST(... AS JSON)`, which MariaDB lacks), so that nothing branches on the server.
 *
 * - Placeholders are `?`: each house-style `$n` becomes `?`, its value bound at every place
 *   it occurs ({@link positionalPlaceholders}); a double-quoted name (`"key"`) becomes a
 *   backtick-quoted one, so statements mean the same with or without `ANSI_QUOTES`.
 * - Insert-or-ignore is `INSERT IGNORE` (`affectedRows` 0 on a duplicate); an upsert is
 *   `INSERT ... ON DUPLICATE KEY UPDATE`, the proposed values read with `VALUES(column)` (MySQL
 *   8 deprecates it in favour of a row alias that MariaDB does not have; both still accept it).
 * - No `RETURNING` capability at all: the record modules' portable forms run instead (a
 *   `SELECT` in the same transaction, affected-row counts, rows locked `FOR UPDATE`).
 * - Affected rows: the driver connects with `CLIENT_FOUND_ROWS` (`stores/mysql/`), so an
 *   `UPDATE` reports the rows its `WHERE` matched, even those that already held the new values,
 *   as Postgres does; a compare-and-set reads 1 for the caller whose `WHERE` matched.
 * - Locks: `revocations` is the row `latchkey_locks('revocations')` read `FOR UPDATE` (released
 *   with the transaction); `migrations` is a named session lock (`GET_LOCK`, per database),
 *   because DDL commits implicitly and would release a row lock half-way through a migration.
 * - Integers come back as numbers (strings beyond 2^53, refused by {@link toSafeInteger});
 *   booleans are `TINYINT(1)`; string arrays are JSON text.
 * - Errors: `ER_DUP_ENTRY` (1062) is the unique violation; summaries keep the code, the errno
 *   and the SQLSTATE, and drop every quoted value from the message (MySQL quotes the duplicate
 *   value, an incorrect value, or part of a statement).
 */

import type { SqlClient, SqlParam } from '../client.js';
import type {
  SqlColumnType,
  SqlDialect,
  SqlInsert,
  SqlLock,
  SqlStatement,
  SqlUpsertRefs,
} from '../dialect.js';
import { positionalPlaceholders, toSafeInteger } from '../dialect.js';

/** The row of `latchkey_locks` that `addRevocation` holds (inserted by `0001_init`). */
const REVOCATIONS_LOCK_ROW = 'revocations';
/** How long a migration waits for another process's migration lock (seconds). */
const MIGRATIONS_LOCK_WAIT_S = 3_600;

/** `ER_DUP_ENTRY` and `ER_DUP_ENTRY_WITH_KEY_NAME`. */
const UNIQUE_VIOLATIONS = new Set([1062, 1586]);
/**
 * Errors whose quoted parts are names only (a table, a database, a column, a user), kept in
 * summaries; every other message has its quoted parts replaced, since they may hold a value.
 */
const NAMES_ONLY = new Set([1044, 1045, 1046, 1049, 1054, 1146]);

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS latchkey_migrations (
  version VARBINARY(255) NOT NULL PRIMARY KEY,
  checksum VARBINARY(64) NOT NULL,
  applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE = InnoDB`;

const UPSERT_REFS: SqlUpsertRefs = {
  // In ON DUPLICATE KEY UPDATE, a bare column is the stored row's value.
  existing: (column) => column,
  proposed: (column) => `VALUES(${column})`,
};

/** `"name"` → `` `name` ``: the house style quotes reserved names with double quotes. */
function backticks(sql: string): string {
  return sql.replace(/"([A-Za-z_][A-Za-z0-9_]*)"/g, '`$1`');
}

function insert(spec: SqlInsert): string {
  const values = spec.values ?? spec.columns.map((_column, index) => `$${index + 1}`);
  const conflict = spec.onConflict;
  const assignments = conflict?.update?.(UPSERT_REFS);
  // Without assignments the existing row is kept: INSERT IGNORE inserts nothing (0 rows).
  const verb = conflict !== undefined && assignments === undefined ? 'INSERT IGNORE' : 'INSERT';
  let sql = `${verb} INTO ${spec.table} (${spec.columns.join(', ')}) VALUES (${values.join(', ')})`;
  if (assignments !== undefined) {
    sql += ` ON DUPLICATE KEY UPDATE ${assignments.map(([column, value]) => `${column} = ${value}`).join(', ')}`;
  }
  if (spec.returning !== undefined) throw new Error('The MySQL dialect has no RETURNING');
  return sql;
}

/**
 * The least of several columns, NULLs ignored: MySQL's `LEAST` is NULL when any argument is,
 * so each argument falls back to the others (a fallback is never below the least).
 */
function earliest(columns: readonly string[]): string {
  if (columns.length === 1) return columns[0] ?? 'NULL';
  const each = columns.map((column, index) => {
    const others = columns.filter((_other, at) => at !== index);
    return `COALESCE(${[column, ...others].join(', ')})`;
  });
  return `LEAST(${each.join(', ')})`;
}

function readStrings(value: unknown): string[] {
  const text = Buffer.isBuffer(value) ? value.toString('utf8') : value;
  const parsed: unknown = typeof text === 'string' ? JSON.parse(text) : text;
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
    throw new TypeError('A string-array column did not hold a JSON array of strings');
  }
  return [...parsed];
}

interface DriverError {
  code?: unknown;
  errno?: unknown;
  sqlState?: unknown;
  message?: unknown;
}

function fieldsOf(error: unknown): DriverError {
  return typeof error === 'object' && error !== null ? error : {};
}

/** The server error number of a driver error (1062 for `ER_DUP_ENTRY`), if it has one. */
export function mysqlErrno(error: unknown): number | undefined {
  const { errno } = fieldsOf(error);
  return typeof errno === 'number' ? errno : undefined;
}

/**
 * Summarises a driver error as its code, errno and SQLSTATE and its message, with the message's
 * quoted parts replaced unless the error names only identifiers. The driver's `sql` (the
 * statement) is never read.
 */
function describeError(error: unknown): string {
  const { code, sqlState } = fieldsOf(error);
  const errno = mysqlErrno(error);
  const raw = error instanceof Error ? error.message : String(error);
  const message =
    errno === undefined || NAMES_ONLY.has(errno) ? raw : raw.replace(/'(?:[^'\\]|\\.)*'/g, "'…'");
  const parts = [typeof code === 'string' ? code : undefined];
  if (errno !== undefined) parts.push(`errno ${errno}`);
  if (typeof sqlState === 'string') parts.push(`SQLSTATE ${sqlState}`);
  const label = parts.filter((part) => part !== undefined).join(', ');
  return label === '' ? message : `${label}: ${message}`;
}

/**
 * The named session lock of the migrations, per database (GET_LOCK names are server-wide and at
 * most 64 characters): `latchkey_migrations.<sha1 of the database name>`.
 */
const MIGRATIONS_LOCK_NAME = "CONCAT('latchkey_migrations.', SHA1(DATABASE()))";

/**
 * Holds `GET_LOCK` on the transaction's connection for the whole of `fn`, past the implicit
 * commits of its DDL: the work is committed before the lock is released, so that a process
 * waiting for the lock sees the recorded migration once it gets it.
 */
function migrationsTransaction<T>(client: SqlClient, fn: (tx: SqlClient) => Promise<T>): Promise<T> {
  return client.transaction(async (tx) => {
    const { rows } = await tx.query<{ got: unknown }>(
      `SELECT GET_LOCK(${MIGRATIONS_LOCK_NAME}, ${MIGRATIONS_LOCK_WAIT_S}) AS got`,
    );
    if (Number(rows[0]?.got) !== 1) throw new Error('Timed out waiting for the migrations lock');
    try {
      const result = await fn(tx);
      await tx.query('COMMIT');
      return result;
    } catch (error) {
      // Undo what can be undone before another process may take the lock.
      await tx.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      // The connection may be broken (the server releases the lock with the session then).
      await tx.query(`SELECT RELEASE_LOCK(${MIGRATIONS_LOCK_NAME})`).catch(() => undefined);
    }
  });
}

/**
 * The MySQL / MariaDB dialect (MySQL 8.0+, MariaDB 10.11+), with no single-statement shortcut.
 *
 * @example
 * await migrate(client, { dialect: mysqlDialect });
 * const store = createSqlStore(client, { kind: 'mysql', dialect: mysqlDialect });
 */
export const mysqlDialect: SqlDialect = {
  name: 'mysql',
  supports: {
    insertReturning: false,
    upsertReturning: false,
    updateReturning: false,
    deleteReturning: false,
    writableCte: false,
  },

  prepare(sql: string): SqlStatement {
    return positionalPlaceholders(backticks(sql));
  },
  cast(placeholder: string, type: SqlColumnType): string {
    // Strings and JSON text need no cast; an integer parameter may arrive as a double.
    return type === 'bigint' ? `CAST(${placeholder} AS SIGNED)` : placeholder;
  },
  insert,
  earliest,
  forUpdate: ' FOR UPDATE',

  readInteger: toSafeInteger,
  writeBoolean(value: boolean): SqlParam {
    return value ? 1 : 0;
  },
  readBoolean(value: unknown): boolean {
    return value === true || value === 1 || value === '1' || value === 1n;
  },
  writeStrings(values: readonly string[]): SqlParam {
    return JSON.stringify(values);
  },
  readStrings,

  lockedTransaction<T>(client: SqlClient, lock: SqlLock, fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    if (lock === 'migrations') return migrationsTransaction(client, fn);
    return client.transaction(async (tx) => {
      const { rows } = await tx.query('SELECT name FROM latchkey_locks WHERE name = ? FOR UPDATE', [
        REVOCATIONS_LOCK_ROW,
      ]);
      if (rows.length === 0) throw new Error('The revocations lock row is missing: run the migrations');
      return fn(tx);
    });
  },
  async tableExists(client: SqlClient, table: string): Promise<boolean> {
    const { rows } = await client.query<{ present: unknown }>(
      `SELECT COUNT(*) AS present FROM information_schema.tables
        WHERE table_schema = DATABASE() AND table_name = ?`,
      [table],
    );
    return Number(rows[0]?.present ?? 0) > 0;
  },
  migrationsTable: CREATE_MIGRATIONS_TABLE,

  isUniqueViolation(error: unknown): boolean {
    const errno = mysqlErrno(error);
    return (errno !== undefined && UNIQUE_VIOLATIONS.has(errno)) || fieldsOf(error).code === 'ER_DUP_ENTRY';
  },
  describeError,
};
