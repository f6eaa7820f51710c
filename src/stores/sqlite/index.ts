/**
 * The SQLite store: one file (`better-sqlite3`, in the server process), the embedded default.
 * It runs the SQL store with the SQLite dialect and `migrations/sqlite/`.
 *
 * The connection is set up for one server process that writes and answers many requests:
 * - `journal_mode = WAL`: readers never block the writer nor the writer readers, and a commit
 *   appends to the log instead of rewriting pages;
 * - `synchronous = NORMAL`: in WAL mode, a commit is durable against a crash of the process
 *   (kill -9, out of memory) and the file is never corrupted; only a power cut or an OS crash
 *   may lose the last commits before the next checkpoint. `FULL` would add an fsync to every
 *   commit (each login, refresh rotation, session touch and revocation), bounding writes by the
 *   disk's fsync rate; `synchronous: 'full'` chooses it;
 * - `busy_timeout`: a writer in another process (a tool, a second store opened by mistake) is
 *   waited for rather than failed at once. better-sqlite3 waits synchronously, blocking the
 *   event loop meanwhile; `latchkey serve` takes the data-directory lock so that no other
 *   Latchkey process writes the file (`src/app/data-dir-lock.ts`);
 * - `foreign_keys = ON`, as Postgres always enforces them (the schema declares none today).
 */

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { LatchkeyError } from '../../errors.js';
import type { Store } from '../../store.js';
import type { SqlClient } from '../sql/client.js';
import { sqliteDialect } from '../sql/dialects/sqlite.js';
import { migrate as runMigrations, prepareSchema } from '../sql/migrate.js';
import { createSqlStore } from '../sql/store.js';
import { createSQLiteClient } from './client.js';

export { createSQLiteClient } from './client.js';

/** Options of {@link openSQLiteStore}. */
export interface SQLiteStoreOptions {
  /** The database file (created if needed, with its folder), or `:memory:` (lost on close). */
  path: string;
  /**
   * Applies pending migrations before returning (default true). When false, pending migrations
   * make the call reject with `LatchkeyError('config_invalid')` naming them.
   */
  migrate?: boolean | undefined;
  /** How long a statement waits for another process's write lock, in ms (default 5 000). */
  busyTimeoutMs?: number | undefined;
  /** `normal` (default, see above) or `full` (an fsync per commit). */
  synchronous?: 'normal' | 'full' | undefined;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/**
 * Loads better-sqlite3's native addon, which it otherwise loads at the first open: throws when
 * the optional dependency installed without its binary (no prebuilt one, no compiler).
 */
export function loadSQLiteDriver(): void {
  new Database(':memory:').close();
}

/**
 * A startup failure, with what went wrong in the message (the file, the SQLite code), so that
 * the operator reading `latchkey: store_unavailable: ...` knows what to fix.
 */
function startupError(error: unknown, doing: string, path: string): LatchkeyError {
  if (error instanceof LatchkeyError) return error;
  const summary = sqliteDialect.describeError(error);
  return new LatchkeyError('store_unavailable', `SQLite: ${doing} ${path} failed: ${summary}`, {
    cause: new Error(summary),
    retryAfter: 1,
  });
}

/**
 * Opens (creating if needed) the database file with the settings above. The busy timeout is set
 * first, so that switching to WAL waits for another process that holds the file.
 *
 * @example
 * const db = openSQLiteDatabase({ path: '.latchkey/latchkey.sqlite' });
 */
export function openSQLiteDatabase(options: Omit<SQLiteStoreOptions, 'migrate'>): Database.Database {
  const memory = options.path === ':memory:' || options.path === '';
  if (!memory) mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
  const db = new Database(options.path, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
  try {
    if (!memory) db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Opens (creating if needed) a SQLite database and returns a store over it (`kind: 'sqlite'`).
 * Rejects with `store_unavailable` when the file cannot be opened (and names it), and with
 * `config_invalid` when `migrate` is false and migrations are pending.
 *
 * @example
 * const store = await openSQLiteStore({ path: '.latchkey/latchkey.sqlite' });
 */
export async function openSQLiteStore(options: SQLiteStoreOptions): Promise<Store> {
  let client: SqlClient;
  try {
    client = createSQLiteClient(openSQLiteDatabase(options));
  } catch (error) {
    throw startupError(error, 'opening', options.path);
  }
  try {
    await prepareSchema(client, { dialect: sqliteDialect, migrate: options.migrate ?? true });
  } catch (error) {
    await client.close().catch(() => undefined);
    throw startupError(
      error,
      options.migrate === false ? 'checking migrations of' : 'migrating',
      options.path,
    );
  }
  return createSqlStore(client, { kind: 'sqlite', dialect: sqliteDialect });
}

/**
 * Applies pending migrations to the SQLite database at `path` and returns the versions applied
 * (empty when up to date). What `latchkey migrate` runs on the embedded store.
 *
 * @example
 * const { applied } = await migrateSQLite({ path: '.latchkey/latchkey.sqlite' });
 */
export async function migrateSQLite(options: { path: string }): Promise<{ applied: string[] }> {
  let client: SqlClient;
  try {
    client = createSQLiteClient(openSQLiteDatabase(options));
  } catch (error) {
    throw startupError(error, 'opening', options.path);
  }
  try {
    return await runMigrations(client, { dialect: sqliteDialect });
  } catch (error) {
    throw startupError(error, 'migrating', options.path);
  } finally {
    await client.close();
  }
}
