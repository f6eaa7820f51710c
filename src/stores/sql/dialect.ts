/**
 * The SQL dialect seam: everything that differs between SQL engines, so that the record modules
 * (`users.ts`, `sessions.ts`, ...) are written once and a new engine is "a dialect plus its
 * migrations", not a copy of the store.
 *
 * The record modules write their statements in one house style: `$1..$n` placeholders (a
 * number may repeat), standard `SELECT`/`INSERT`/`UPDATE`/`DELETE`, `LIMIT`, `ORDER BY`,
 * `COALESCE`, `CASE`, `IN (subquery)`, and double quotes on a name some engine reserves
 * (`"key"`). Whatever is not in that common ground is asked of the dialect: the
 * placeholders' final form ({@link SqlDialect.prepare}), typed parameters
 * ({@link SqlDialect.cast}), insert-or-ignore and upsert ({@link SqlDialect.insert}), the
 * `RETURNING` forms it has ({@link SqlCapabilities}), column types (integers, string arrays),
 * the earliest of several times, row and named locks, and the classification of driver errors.
 *
 * Where a dialect lacks a capability, the record module falls back to a portable form
 * (affected-row counts, a `SELECT` in the same transaction): same guarantees, sometimes one more
 * round trip. Postgres has every capability, so its hot paths keep their single statement.
 *
 * What the next dialects will provide, in outline:
 * - SQLite (better-sqlite3): `?` placeholders through {@link positionalPlaceholders}; arrays as
 *   JSON text; `RETURNING` everywhere but no writable `WITH`; `MIN`/`COALESCE` for
 *   {@link SqlDialect.earliest}; no row locks (`forUpdate` empty) and no named locks, because its
 *   client's `BEGIN IMMEDIATE` already serialises writers; `SQLITE_CONSTRAINT_UNIQUE` /
 *   `SQLITE_CONSTRAINT_PRIMARYKEY` as unique violations.
 * - MySQL/MariaDB (mysql2): `?` placeholders; `ANSI_QUOTES` in the `sql_mode`;
 *   `ON DUPLICATE KEY UPDATE` (and `INSERT IGNORE` for insert-or-ignore); no
 *   `UPDATE ... RETURNING` (MariaDB has `INSERT`/`DELETE ... RETURNING`); a row of a lock table read `FOR UPDATE` for the
 *   revocation lock, `GET_LOCK` around migrations (its DDL commits implicitly); JSON arrays;
 *   `ER_DUP_ENTRY` as the unique violation, summarised without its message (which quotes the
 *   duplicate value); a client connected with `FOUND_ROWS`, so that `rowCount` counts matched
 *   rows.
 *
 * Each dialect ships its migrations in `migrations/<name>/` (see `migrate.ts`), with the same
 * tables and columns, byte-order (binary) collation on identifier columns, and integer
 * milliseconds for every time.
 */

import type { SqlClient, SqlParam } from './client.js';

/** What a driver may return for an integer column (`bigint` in Postgres). */
export type SqlInteger = string | number | bigint;

/**
 * The types a record module may ask a parameter to be read as ({@link SqlDialect.cast}):
 * `strings` is an array of strings (`text[]` in Postgres, JSON text elsewhere).
 */
export type SqlColumnType = 'text' | 'bigint' | 'strings';

/**
 * A named lock held for the length of a transaction:
 * - `revocations`: revocations commit in `seq` order (see `revocations.ts`);
 * - `migrations`: two processes starting at once apply each migration exactly once.
 */
export type SqlLock = 'revocations' | 'migrations';

/** A statement in the dialect's final form, prepared once and bound on every call. */
export interface SqlStatement {
  /** The text the driver receives. */
  readonly text: string;
  /**
   * The values for {@link text}'s placeholders, from the values of the house-style `$1..$n`
   * (index 0 is `$1`). Postgres returns them as they are; a `?` dialect reorders and repeats.
   */
  params(values: readonly SqlParam[]): readonly SqlParam[];
}

/**
 * The `RETURNING` forms and other single-statement shortcuts a dialect has. When one is false,
 * the record modules use a portable form with the same guarantees (noted on each flag).
 */
export interface SqlCapabilities {
  /**
   * `INSERT ... RETURNING` (a revocation's generated `seq`). Without it: the insert, then the
   * newest row read back under the revocation lock.
   */
  readonly insertReturning: boolean;
  /**
   * `RETURNING` after an upsert built by {@link SqlDialect.insert} (the counter after an
   * increment). Without it: the upsert, then a `SELECT`, in one transaction.
   */
  readonly upsertReturning: boolean;
  /**
   * `UPDATE ... RETURNING` (the ids a bulk session revocation hit). Without it: the ids
   * selected `FOR UPDATE`, then updated, in one transaction.
   */
  readonly updateReturning: boolean;
  /**
   * `DELETE ... RETURNING` (a one-time token consumed in one statement). Without it: a
   * `SELECT`, then a `DELETE` whose affected-row count says whether this caller won.
   */
  readonly deleteReturning: boolean;
  /**
   * Data-modifying statements in `WITH` (the session sweep in one statement). Without it: the
   * refresh tokens, then the sessions, deleted in one transaction.
   */
  readonly writableCte: boolean;
}

/** The columns of an upsert's conflicting row, for {@link SqlInsert.onConflict}'s `update`. */
export interface SqlUpsertRefs {
  /** The value the stored row has now (Postgres: `existing.column`). */
  readonly existing: (column: string) => string;
  /** The value the insert proposed (Postgres: `EXCLUDED.column`; MySQL: `VALUES(column)`). */
  readonly proposed: (column: string) => string;
}

/** An `INSERT`, described for {@link SqlDialect.insert}. */
export interface SqlInsert {
  readonly table: string;
  readonly columns: readonly string[];
  /** One expression per column; `$1..$n` in column order when omitted. */
  readonly values?: readonly string[];
  /** What happens when a row with the same values in these unique columns exists. */
  readonly onConflict?: {
    readonly columns: readonly string[];
    /**
     * The assignments that update the existing row, in order; when omitted, the existing row
     * is kept and nothing is inserted (`rowCount` 0). An assignment must not read a column
     * assigned before it: MySQL evaluates them left to right, Postgres against the old row.
     */
    readonly update?: (refs: SqlUpsertRefs) => ReadonlyArray<readonly [column: string, value: string]>;
  };
  /** Columns to return; only asked when the dialect has the capability. */
  readonly returning?: readonly string[];
}

/**
 * One SQL engine's differences. A new dialect must provide every member below and pass the
 * store conformance suite (`test/stores/conformance.ts`) over its client, its migrations
 * (`migrations/<name>/`) having been applied by `migrate()`.
 *
 * Every method is pure and synchronous except the two that take a client; none may rely on
 * `this` (dialects are plain objects, and may be spread to override one member).
 *
 * @example
 * const store = createSqlStore(client, { kind: 'pglite', dialect: postgresDialect });
 */
export interface SqlDialect {
  /** A short name, and the folder of its migrations: `migrations/<name>/`. */
  readonly name: string;
  /** The single-statement forms it has; see {@link SqlCapabilities}. */
  readonly supports: SqlCapabilities;

  /** Turns a house-style statement (`$1..$n`) into its final form; called once per statement shape. */
  prepare(sql: string): SqlStatement;
  /** A parameter read as `type`, for engines that cannot infer it (Postgres: `$2::bigint`). */
  cast(placeholder: string, type: SqlColumnType): string;
  /** The text of an insert, an insert-or-ignore or an upsert (see {@link SqlInsert}), in house style. */
  insert(spec: SqlInsert): string;
  /** An expression for the earliest non-null of these time columns (Postgres `LEAST` ignores NULLs). */
  earliest(columns: readonly string[]): string;
  /**
   * The clause that makes a `SELECT` lock the rows it reads until the transaction ends
   * (`' FOR UPDATE'`), or `''` where transactions already serialise writers.
   */
  readonly forUpdate: string;

  /** Reads an integer column (a time, a count, `seq`) as a safe integer; see {@link toSafeInteger}. */
  readInteger(value: SqlInteger): number;
  /** The parameter for a boolean column (SQLite and MySQL store 0/1). */
  writeBoolean(value: boolean): SqlParam;
  /** Reads a boolean column, whatever the driver returns (`true`, `1`, `'1'`, `'t'`). */
  readBoolean(value: unknown): boolean;
  /** The parameter for a string-array column. */
  writeStrings(values: readonly string[]): SqlParam;
  /** Reads a string-array column; returns a fresh array. */
  readStrings(value: unknown): string[];

  /**
   * Runs `fn` in a transaction of `client` that holds `lock` until it ends (commit or
   * rollback), so that two holders never overlap, across processes too. Postgres: an advisory
   * transaction lock. A dialect whose DDL commits implicitly (MySQL) must keep the
   * `migrations` lock past those commits: a session lock (`GET_LOCK`) on the transaction's
   * connection, released when `fn` settles.
   */
  lockedTransaction<T>(client: SqlClient, lock: SqlLock, fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  /** Whether `table` exists where the client's statements look for it (the migration ledger). */
  tableExists(client: SqlClient, table: string): Promise<boolean>;
  /**
   * The DDL of the migration ledger, `latchkey_migrations (version, checksum, applied_at)`,
   * created if it does not exist; `version` is the primary key.
   */
  readonly migrationsTable: string;

  /** Whether a driver error is a unique (or primary key) violation: a duplicate id, a caller bug. */
  isUniqueViolation(error: unknown): boolean;
  /**
   * A one-line summary of a driver error that is safe to log: its code and message, never the
   * statement, its parameters or a quoted value (these may hold secret hashes).
   */
  describeError(error: unknown): string;
}

/**
 * Converts an integer a driver returned (string, number or BigInt, depending on the driver and
 * the column) to a number, refusing one outside the safe integer range rather than rounding it.
 * The usual {@link SqlDialect.readInteger}.
 *
 * @example
 * toSafeInteger('1767225600000'); // 1767225600000
 */
export function toSafeInteger(value: SqlInteger): number {
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(number))
    throw new RangeError('An integer column is outside the safe integer range');
  return number;
}

/**
 * Prepares a house-style statement for a driver with positional `?` placeholders (SQLite,
 * MySQL): each `$n` becomes `?`, and binding passes value `n` at every place it occurs. The
 * statements must not contain `$` followed by a digit elsewhere (in a literal, say); the record
 * modules' never do.
 *
 * @example
 * const statement = positionalPlaceholders('SELECT * FROM t WHERE a = $2 AND b > $1 AND c < $2');
 * statement.text; // 'SELECT * FROM t WHERE a = ? AND b > ? AND c < ?'
 * statement.params(['x', 'y']); // ['y', 'x', 'y']
 */
export function positionalPlaceholders(sql: string): SqlStatement {
  const order: number[] = [];
  const text = sql.replace(/\$(\d+)/g, (_match, digits: string) => {
    order.push(Number(digits) - 1);
    return '?';
  });
  return {
    text,
    params(values) {
      return order.map((index) => {
        if (index >= values.length) throw new RangeError(`No value for placeholder $${index + 1}`);
        return values[index] ?? null;
      });
    },
  };
}
