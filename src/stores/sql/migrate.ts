/**
 * The migration runner: applies `migrations/NNNN_name.sql` in order, each in its own
 * transaction, and records them in `latchkey_migrations`.
 *
 * Every transaction first takes a transaction-scoped advisory lock, so that two processes
 * starting at once apply each migration exactly once: the second waits, re-checks, and skips.
 * Running it again is a no-op.
 */

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlClient } from './client.js';

/** The advisory lock that serializes migrations ("LKMG" in ASCII). */
const MIGRATION_LOCK_KEY = 0x4c4b4d47;

const MIGRATION_FILE = /^(\d{4,}_[A-Za-z0-9_-]+)\.sql$/;

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS latchkey_migrations (
  version text COLLATE "C" PRIMARY KEY,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/** Where to find the migrations. */
export interface MigrateOptions {
  /** Defaults to the package's `migrations/` folder (see {@link defaultMigrationsDir}). */
  migrationsDir?: string | undefined;
}

/** One migration file. */
export interface Migration {
  /** The file name without `.sql`, e.g. `0001_init`. */
  version: string;
  sql: string;
  /** Hex SHA-256 of the file, recorded when applied. */
  checksum: string;
}

/**
 * The package's `migrations/` folder, found relative to this module: `src/stores/sql/` (tsx,
 * vitest) and `dist/stores/sql/` (the build) are both three levels below the package root.
 *
 * @example
 * defaultMigrationsDir(); // '/app/node_modules/latchkey/migrations'
 */
export function defaultMigrationsDir(moduleUrl: string = import.meta.url): string {
  return fileURLToPath(new URL('../../../migrations/', moduleUrl));
}

/** Reads the migration files of `dir`, in version order. Other files are ignored. */
export async function readMigrations(dir: string = defaultMigrationsDir()): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((name) => MIGRATION_FILE.test(name)).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name), 'utf8');
      return {
        version: name.slice(0, -'.sql'.length),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    }),
  );
}

async function appliedVersions(client: SqlClient): Promise<Set<string>> {
  const { rows: exists } = await client.query<{ present: boolean }>(
    "SELECT to_regclass('latchkey_migrations') IS NOT NULL AS present",
  );
  if (exists[0]?.present !== true) return new Set();
  const { rows } = await client.query<{ version: string }>('SELECT version FROM latchkey_migrations');
  return new Set(rows.map((row) => row.version));
}

/**
 * The versions that `migrate()` would apply, in order.
 *
 * @example
 * if ((await pendingMigrations(client)).length > 0) console.warn('run latchkey migrate');
 */
export async function pendingMigrations(client: SqlClient, options: MigrateOptions = {}): Promise<string[]> {
  const migrations = await readMigrations(options.migrationsDir);
  const applied = await appliedVersions(client);
  return migrations.filter((migration) => !applied.has(migration.version)).map((m) => m.version);
}

/**
 * Applies every pending migration, each in its own transaction, under an advisory lock.
 * Returns the versions this call applied (empty when the schema was up to date).
 *
 * @example
 * const { applied } = await migrate(client);
 */
export async function migrate(
  client: SqlClient,
  options: MigrateOptions = {},
): Promise<{ applied: string[] }> {
  const migrations = await readMigrations(options.migrationsDir);
  const alreadyApplied = await appliedVersions(client);
  const pending = migrations.filter((migration) => !alreadyApplied.has(migration.version));
  const applied: string[] = [];
  if (pending.length === 0) return { applied };

  // CREATE TABLE IF NOT EXISTS is not safe against a concurrent twin: take the lock first.
  await client.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    await tx.exec(CREATE_MIGRATIONS_TABLE);
  });

  for (const migration of pending) {
    const didApply = await client.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
      // Another process may have applied it while this one waited for the lock.
      const { rows } = await tx.query<{ version: string }>(
        'SELECT version FROM latchkey_migrations WHERE version = $1',
        [migration.version],
      );
      if (rows.length > 0) return false;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO latchkey_migrations (version, checksum) VALUES ($1, $2)', [
        migration.version,
        migration.checksum,
      ]);
      return true;
    });
    if (didApply) applied.push(migration.version);
  }
  return { applied };
}
