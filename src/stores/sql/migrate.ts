/**
 * The migration runner: applies `migrations/<dialect>/NNNN_name.sql` in order, each in its own
 * transaction, and records them in `latchkey_migrations`.
 *
 * Every transaction first takes the dialect's `migrations` lock, so that two processes starting
 * at once apply each migration exactly once: the second waits, re-checks, and skips. Running it
 * again is a no-op. A version is recorded by its file name only, so a database that applied
 * `0001_init` from the older flat `migrations/` folder does not apply it again.
 */

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LatchkeyError } from '../../errors.js';
import type { SqlClient } from './client.js';
import { run } from './context.js';
import type { SqlDialect } from './dialect.js';
import { postgresDialect } from './dialects/postgres.js';

const MIGRATION_FILE = /^(\d{4,}_[A-Za-z0-9_-]+)\.sql$/;

/** Which migrations, for which engine. */
export interface MigrateOptions {
  /**
   * The folder of the migration files; defaults to the dialect's folder of the package
   * (see {@link dialectMigrationsDir}).
   */
  migrationsDir?: string | undefined;
  /** The engine's dialect; Postgres (also PGlite) when omitted. */
  dialect?: SqlDialect | undefined;
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
 * The package's `migrations/` folder, which holds one folder per dialect (`postgres/`, ...),
 * found relative to this module: `src/stores/sql/` (tsx, vitest) and `dist/stores/sql/` (the
 * build) are both three levels below the package root.
 *
 * @example
 * defaultMigrationsDir(); // '/app/node_modules/latchkey/migrations/'
 */
export function defaultMigrationsDir(moduleUrl: string = import.meta.url): string {
  return fileURLToPath(new URL('../../../migrations/', moduleUrl));
}

/**
 * The package's migrations for one dialect: `migrations/<dialect.name>/`.
 *
 * @example
 * dialectMigrationsDir(postgresDialect); // '/app/node_modules/latchkey/migrations/postgres/'
 */
export function dialectMigrationsDir(
  dialect: Pick<SqlDialect, 'name'> = postgresDialect,
  root: string = defaultMigrationsDir(),
): string {
  return join(root, dialect.name, '/');
}

/**
 * Reads the migration files of `dir` (by default the Postgres migrations), in version order.
 * Other files are ignored.
 *
 * @example
 * const versions = (await readMigrations()).map((migration) => migration.version); // ['0001_init', ...]
 */
export async function readMigrations(dir: string = dialectMigrationsDir()): Promise<Migration[]> {
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

function migrationsOf(options: MigrateOptions): Promise<Migration[]> {
  return readMigrations(options.migrationsDir ?? dialectMigrationsDir(options.dialect ?? postgresDialect));
}

async function appliedVersions(client: SqlClient, dialect: SqlDialect): Promise<Set<string>> {
  if (!(await dialect.tableExists(client, 'latchkey_migrations'))) return new Set();
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
  const migrations = await migrationsOf(options);
  const applied = await appliedVersions(client, options.dialect ?? postgresDialect);
  return migrations.filter((migration) => !applied.has(migration.version)).map((m) => m.version);
}

/** Applies one migration under the lock, unless another process applied it first; true if applied. */
function applyOne(client: SqlClient, dialect: SqlDialect, migration: Migration): Promise<boolean> {
  const find = dialect.prepare('SELECT version FROM latchkey_migrations WHERE version = $1');
  const record = dialect.prepare('INSERT INTO latchkey_migrations (version, checksum) VALUES ($1, $2)');
  return dialect.lockedTransaction(client, 'migrations', async (tx) => {
    // Another process may have applied it while this one waited for the lock.
    const { rows } = await run<{ version: string }>(tx, find, [migration.version]);
    if (rows.length > 0) return false;
    await tx.exec(migration.sql);
    await run(tx, record, [migration.version, migration.checksum]);
    return true;
  });
}

/**
 * Applies every pending migration, each in its own transaction, under the dialect's
 * `migrations` lock. Returns the versions this call applied (empty when the schema was up to
 * date).
 *
 * @example
 * const { applied } = await migrate(client);
 */
export async function migrate(
  client: SqlClient,
  options: MigrateOptions = {},
): Promise<{ applied: string[] }> {
  const dialect = options.dialect ?? postgresDialect;
  const migrations = await migrationsOf(options);
  const alreadyApplied = await appliedVersions(client, dialect);
  const pending = migrations.filter((migration) => !alreadyApplied.has(migration.version));
  const applied: string[] = [];
  if (pending.length === 0) return { applied };

  // CREATE TABLE IF NOT EXISTS is not safe against a concurrent twin: take the lock first.
  await dialect.lockedTransaction(client, 'migrations', (tx) => tx.exec(dialect.migrationsTable));

  for (const migration of pending) {
    if (await applyOne(client, dialect, migration)) applied.push(migration.version);
  }
  return { applied };
}

/**
 * What every SQL store does when it opens: with `migrate`, applies the pending migrations;
 * without, refuses (`LatchkeyError('config_invalid')`, naming them) to run on a schema that is
 * behind.
 *
 * @example
 * await prepareSchema(client, { dialect: postgresDialect, migrate: config.migrateOnStart });
 */
export async function prepareSchema(
  client: SqlClient,
  options: { dialect: SqlDialect; migrate: boolean },
): Promise<void> {
  const { dialect } = options;
  if (options.migrate) {
    await migrate(client, { dialect });
    return;
  }
  const pending = await pendingMigrations(client, { dialect });
  if (pending.length > 0) {
    throw new LatchkeyError(
      'config_invalid',
      `The database has pending migrations (${pending.join(', ')}) and LATCHKEY_MIGRATE is false: ` +
        'run `latchkey migrate` first',
    );
  }
}
