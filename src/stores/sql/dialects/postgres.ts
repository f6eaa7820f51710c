/**
 * The Postgres dialect, for a Postgres server (`pg`) and for PGlite alike: the house style of
 * the record modules is already Postgres, so statements go to the driver as written, and every
 * single-statement form (`RETURNING` everywhere, writable `WITH`) is available.
 *
 * Times are `bigint` milliseconds and come back as whatever the driver chooses (`pg`: strings;
 * PGlite: numbers or BigInts); arrays are `text[]`; the named locks are transaction-scoped
 * advisory locks.
 */

import type { SqlClient, SqlParam } from '../client.js';
import { sqlStateOf } from '../client.js';
import type { SqlColumnType, SqlDialect, SqlLock, SqlStatement } from '../dialect.js';
import { toSafeInteger } from '../dialect.js';
import { onConflictInsert } from './on-conflict.js';

/**
 * The advisory lock keys:
 * - `revocations` ("LKRV" in ASCII) serializes `addRevocation` so that revocations commit in
 *   `seq` order: an identity value is taken only while holding it, so a feed reader that has
 *   seen `seq = n` can never later find a smaller one committing behind it;
 * - `migrations` ("LKMG") serializes the migration runner across processes.
 */
const ADVISORY_LOCK_KEYS: Record<SqlLock, number> = {
  revocations: 0x4c4b5256,
  migrations: 0x4c4b4d47,
};

const CASTS: Record<SqlColumnType, string> = { text: 'text', bigint: 'bigint', strings: 'text[]' };

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS latchkey_migrations (
  version text COLLATE "C" PRIMARY KEY,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

function identity(values: readonly SqlParam[]): readonly SqlParam[] {
  return values;
}

function readStrings(value: unknown): string[] {
  if (!Array.isArray(value)) throw new TypeError('A text[] column did not come back as an array');
  return value.map(String);
}

/**
 * Summarises a driver error as its SQLSTATE and message. Both drivers attach the statement and
 * its parameters to their errors, and Postgres puts the duplicate value in `detail`, never in
 * the message: the summary keeps neither.
 */
function describeError(error: unknown): string {
  const state = sqlStateOf(error);
  const message = error instanceof Error ? error.message : String(error);
  return state === undefined ? message : `SQLSTATE ${state}: ${message}`;
}

/**
 * The Postgres dialect (Postgres 15+ and PGlite), with every capability.
 *
 * @example
 * await migrate(client, { dialect: postgresDialect });
 * const store = createSqlStore(client, { kind: 'postgres', dialect: postgresDialect });
 */
export const postgresDialect: SqlDialect = {
  name: 'postgres',
  supports: {
    insertReturning: true,
    upsertReturning: true,
    updateReturning: true,
    deleteReturning: true,
    writableCte: true,
  },

  prepare(sql: string): SqlStatement {
    return { text: sql, params: identity };
  },
  cast(placeholder: string, type: SqlColumnType): string {
    return `${placeholder}::${CASTS[type]}`;
  },
  insert: onConflictInsert,
  earliest(columns: readonly string[]): string {
    return `LEAST(${columns.join(', ')})`;
  },
  forUpdate: ' FOR UPDATE',

  readInteger: toSafeInteger,
  writeBoolean(value: boolean): SqlParam {
    return value;
  },
  readBoolean(value: unknown): boolean {
    return value === true || value === 1 || value === '1' || value === 't' || value === 'true';
  },
  writeStrings(values: readonly string[]): SqlParam {
    return values;
  },
  readStrings,

  lockedTransaction<T>(client: SqlClient, lock: SqlLock, fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return client.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [ADVISORY_LOCK_KEYS[lock]]);
      return fn(tx);
    });
  },
  async tableExists(client: SqlClient, table: string): Promise<boolean> {
    const { rows } = await client.query<{ present: boolean }>(
      'SELECT to_regclass($1::text) IS NOT NULL AS present',
      [table],
    );
    return rows[0]?.present === true;
  },
  migrationsTable: CREATE_MIGRATIONS_TABLE,

  isUniqueViolation(error: unknown): boolean {
    return sqlStateOf(error) === '23505';
  },
  describeError,
};
