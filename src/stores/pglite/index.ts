/**
 * The PGlite store: embedded Postgres (WASM) in the server process, on a data directory or in
 * memory. It runs the SQL store and the Postgres migrations unchanged, with the Postgres dialect.
 *
 * PGlite is a single connection. Its own mutexes already keep statements and transactions from
 * interleaving: a top-level `query()` waits for any open `transaction()` to finish, and
 * transactions run one after another. The wrapper below only has to route the statements of a
 * transaction through PGlite's transaction object (a top-level call from inside would wait for
 * itself forever).
 */

import { PGlite } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';
import { storeUnavailable } from '../../errors.js';
import type { SqlClient, SqlParam, SqlResult } from '../sql/client.js';
import { postgresDialect } from '../sql/dialects/postgres.js';
import { migrate as runMigrations } from '../sql/migrate.js';
import { createSqlStore } from '../sql/store.js';
import type { Store } from '../../store.js';

/** Options of {@link openPGliteStore}. */
export interface PGliteStoreOptions {
  /** A directory for the database files; in memory (lost on close) when undefined. */
  dataDir?: string | undefined;
  /** Applies pending migrations before returning (default true). */
  migrate?: boolean | undefined;
}

function transactionClient(tx: Transaction): SqlClient {
  const client: SqlClient = {
    async query<T>(sql: string, params: readonly SqlParam[] = []): Promise<SqlResult<T>> {
      const result = await tx.query<T>(sql, [...params]);
      return { rows: result.rows, rowCount: result.affectedRows };
    },
    async exec(sql: string): Promise<void> {
      await tx.exec(sql);
    },
    transaction<U>(fn: (inner: SqlClient) => Promise<U>): Promise<U> {
      return fn(client);
    },
    close(): Promise<void> {
      return Promise.reject(new Error('A transaction cannot close the database'));
    },
  };
  return client;
}

/**
 * Wraps an open PGlite instance as a {@link SqlClient} (`rowCount` from PGlite's `affectedRows`);
 * `close()` closes the instance.
 *
 * @example
 * const client = createPGliteClient(await PGlite.create());
 */
export function createPGliteClient(db: PGlite): SqlClient {
  return {
    async query<T>(sql: string, params: readonly SqlParam[] = []): Promise<SqlResult<T>> {
      const result = await db.query<T>(sql, [...params]);
      return { rows: result.rows, rowCount: result.affectedRows };
    },
    async exec(sql: string): Promise<void> {
      await db.exec(sql);
    },
    transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      return db.transaction((tx) => fn(transactionClient(tx)));
    },
    async close(): Promise<void> {
      if (!db.closed) await db.close();
    },
  };
}

/**
 * Opens (creating if needed) a PGlite database and returns a store over it (`kind: 'pglite'`).
 * The first creation of a data directory takes a few seconds; reopening is faster.
 *
 * @example
 * const store = await openPGliteStore({ dataDir: '.latchkey/pglite' });
 */
export async function openPGliteStore(options: PGliteStoreOptions = {}): Promise<Store> {
  let db: PGlite;
  try {
    db = options.dataDir === undefined ? await PGlite.create() : await PGlite.create(options.dataDir);
  } catch (error) {
    throw storeUnavailable(error);
  }
  const client = createPGliteClient(db);
  if (options.migrate ?? true) {
    try {
      await runMigrations(client, { dialect: postgresDialect });
    } catch (error) {
      await client.close();
      throw error;
    }
  }
  return createSqlStore(client, { kind: 'pglite', dialect: postgresDialect });
}

/**
 * Applies pending migrations to the PGlite database in `dataDir` and returns the versions
 * applied (empty when up to date). What `latchkey migrate` runs on the embedded store.
 *
 * @example
 * const { applied } = await migratePGlite({ dataDir: '.latchkey/pglite' });
 */
export async function migratePGlite(options: { dataDir: string }): Promise<{ applied: string[] }> {
  let db: PGlite;
  try {
    db = await PGlite.create(options.dataDir);
  } catch (error) {
    throw storeUnavailable(error);
  }
  const client = createPGliteClient(db);
  try {
    return await runMigrations(client, { dialect: postgresDialect });
  } finally {
    await client.close();
  }
}
