/**
 * Chooses and opens the store from the configuration:
 *
 * | `LATCHKEY_STORE` | `DATABASE_URL` | `REDIS_URL` | Store                                                  |
 * | ---------------- | -------------- | ----------- | ------------------------------------------------------ |
 * | `memory`         | (ignored)      | (ignored)   | memory (one process, lost at exit)                     |
 * | `sqlite`         | unset          | unset       | SQLite, `LATCHKEY_DATA_DIR/latchkey.sqlite`            |
 * | `pglite`         | unset          | unset       | PGlite, `LATCHKEY_DATA_DIR/pglite/`                    |
 * | auto             | unset          | unset       | SQLite; PGlite where the data directory holds a PGlite |
 * |                  |                |             | database and no SQLite file (an upgrade: kept, with a  |
 * |                  |                |             | warning that says how to move)                         |
 * | auto             | set            | unset       | Postgres holds everything                              |
 * | auto             | unset          | set         | Redis holds everything: it must persist (AOF, or RDB   |
 * |                  |                |             | with a warning), see {@link checkRedisDurability}      |
 * | auto             | set            | set         | users, keys and revocations in Postgres; sessions,     |
 * |                  |                |             | refresh tokens and counters in Redis                   |
 * | auto             | `mysql://`     | unset       | MySQL / MariaDB holds everything (`mariadb://` too)    |
 * | auto             | `mysql://`     | set         | users and keys in MySQL; the rest in Redis             |
 *
 * Drivers are imported here, lazily, so that a process never loads a driver it does not use
 * (a SQLite process never loads PGlite, `pg` or `ioredis`, and the other way round). The
 * embedded stores (SQLite, PGlite) have a single writer: `latchkey serve` and the CLI lock the
 * data directory first (`./data-dir-lock.ts`).
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LatchkeyConfig } from '../config/config.js';
import { LatchkeyError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Store } from '../store.js';
import { importDriver } from './drivers.js';

/** Which backends a configuration selects. */
export type StoreChoice =
  'memory' | 'sqlite' | 'pglite' | 'postgres' | 'redis' | 'postgres+redis' | 'mysql' | 'mysql+redis';

/** The SQL server a `DATABASE_URL` names: MySQL / MariaDB for `mysql://` and `mariadb://`. */
function sqlServer(databaseURL: string): 'postgres' | 'mysql' {
  return /^(mysql|mariadb):\/\//i.test(databaseURL) ? 'mysql' : 'postgres';
}

/** Where the embedded stores keep their data in the data directory. */
export function embeddedStorePaths(config: Pick<LatchkeyConfig, 'dataDir'>): {
  sqlite: string;
  pglite: string;
} {
  return { sqlite: join(config.dataDir, 'latchkey.sqlite'), pglite: join(config.dataDir, 'pglite') };
}

/** Whether a choice keeps its data in the data directory, which then has a single writer. */
export function isEmbeddedStore(choice: StoreChoice): choice is 'sqlite' | 'pglite' {
  return choice === 'sqlite' || choice === 'pglite';
}

/**
 * Whether `auto` keeps PGlite: the data directory holds a PGlite database (from before SQLite
 * was the default) and no SQLite file, so that an upgrade loses nothing.
 */
function holdsPGliteOnly(config: LatchkeyConfig, exists: (path: string) => boolean): boolean {
  const paths = embeddedStorePaths(config);
  return exists(join(paths.pglite, 'PG_VERSION')) && !exists(paths.sqlite);
}

/**
 * The store a configuration selects, without opening anything.
 *
 * @example
 * chooseStore(loadConfig({ DATABASE_URL: 'postgres://db/latchkey' })); // 'postgres'
 */
export function chooseStore(
  config: LatchkeyConfig,
  exists: (path: string) => boolean = existsSync,
): StoreChoice {
  if (config.store !== 'auto') return config.store;
  if (config.databaseURL !== null && config.redisURL !== null)
    return `${sqlServer(config.databaseURL)}+redis`;
  if (config.databaseURL !== null) return sqlServer(config.databaseURL);
  if (config.redisURL !== null) return 'redis';
  return holdsPGliteOnly(config, exists) ? 'pglite' : 'sqlite';
}

/**
 * The warning to log when `auto` kept PGlite in an existing data directory, or null.
 *
 * @example
 * const notice = storeNotice(config); // 'The data directory holds a PGlite database ...'
 */
export function storeNotice(
  config: LatchkeyConfig,
  exists: (path: string) => boolean = existsSync,
): string | null {
  if (config.store !== 'auto' || chooseStore(config, exists) !== 'pglite') return null;
  return (
    `The data directory holds a PGlite database (${embeddedStorePaths(config).pglite}): Latchkey keeps ` +
    'using it (SQLite is the default for new data directories). Set LATCHKEY_STORE=pglite to silence ' +
    'this; moving to SQLite: see docs/deploying.md'
  );
}

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** Apply pending migrations (default: `config.migrateOnStart`, from LATCHKEY_MIGRATE). */
  migrate?: boolean;
  /** Where the {@link storeNotice} goes, if anywhere. */
  logger?: Logger;
  /**
   * Redis alone: refuse one that does not persist ({@link checkRedisDurability}; default true).
   * `latchkey copy` turns it off: it serves nothing, and moving off a volatile Redis is a cure.
   */
  checkDurability?: boolean;
}

/**
 * The SQLite store's module, its driver's native addon loaded (better-sqlite3 loads it at the
 * first open): a driver that did not build fails here, with `missingDriver`'s message (./drivers.ts).
 */
function importSQLite() {
  return importDriver('sqlite', async () => {
    const sqlite = await import('../stores/sqlite/index.js');
    sqlite.loadSQLiteDriver();
    return sqlite;
  });
}

/** The store modules of the other drivers, through {@link importDriver}. */
const importPGlite = () => importDriver('pglite', () => import('../stores/pglite/index.js'));
const importPostgres = () => importDriver('postgres', () => import('../stores/postgres/index.js'));
const importMySQL = () => importDriver('mysql', () => import('../stores/mysql/index.js'));
const importRedis = () => importDriver('redis', () => import('../stores/redis/index.js'));

function required(value: string | null, name: string): string {
  if (value === null) throw new Error(`${name} is not set`);
  return value;
}

/**
 * Opens the store the configuration asks for (see the table above). With `migrate: false`,
 * pending SQL migrations make it reject with `LatchkeyError('config_invalid')`; an unreachable
 * backend makes it reject with `store_unavailable`.
 *
 * @example
 * const store = await openStore(loadConfig(), { migrate: false });
 */
export async function openStore(config: LatchkeyConfig, options: OpenStoreOptions = {}): Promise<Store> {
  const migrate = options.migrate ?? config.migrateOnStart;
  const notice = storeNotice(config);
  if (notice !== null) options.logger?.warn({ event: 'store.pglite_kept', dataDir: config.dataDir }, notice);
  switch (chooseStore(config)) {
    case 'memory': {
      const { createMemoryStore } = await import('../stores/memory/index.js');
      return createMemoryStore();
    }
    case 'sqlite': {
      const { openSQLiteStore } = await importSQLite();
      return openSQLiteStore({ path: embeddedStorePaths(config).sqlite, migrate });
    }
    case 'pglite': {
      const { openPGliteStore } = await importPGlite();
      return openPGliteStore({ dataDir: embeddedStorePaths(config).pglite, migrate });
    }
    case 'postgres': {
      const { openPostgresStore } = await importPostgres();
      return openPostgresStore({ url: required(config.databaseURL, 'DATABASE_URL'), migrate });
    }
    case 'redis': {
      const { openRedisStore, readRedisPersistence } = await importRedis();
      const url = required(config.redisURL, 'REDIS_URL');
      const store = await openRedisStore({ url, prefix: config.redisPrefix });
      try {
        if (options.checkDurability !== false)
          checkRedisDurability(config, await readRedisPersistence(url), options.logger);
      } catch (error) {
        await store.close();
        throw error;
      }
      return store;
    }
    case 'postgres+redis': {
      const { openPostgresStore } = await importPostgres();
      const durable = await openPostgresStore({ url: required(config.databaseURL, 'DATABASE_URL'), migrate });
      return withRedis(config, durable, options.logger);
    }
    case 'mysql': {
      const { openMySQLStore } = await importMySQL();
      return openMySQLStore({ url: required(config.databaseURL, 'DATABASE_URL'), migrate });
    }
    case 'mysql+redis': {
      const { openMySQLStore } = await importMySQL();
      const durable = await openMySQLStore({ url: required(config.databaseURL, 'DATABASE_URL'), migrate });
      return withRedis(config, durable, options.logger);
    }
  }
}

/** What `CONFIG GET appendonly` / `save` say of a Redis server, or null where CONFIG is refused. */
export type RedisPersistence = { aof: boolean; snapshots: boolean } | null;

/**
 * The rule for Redis holding everything (no `DATABASE_URL`): revocations live only there, and a
 * Redis that forgets them at a restart brings revoked access tokens back to life. With AOF it
 * passes; with RDB snapshots only it warns (a revocation after the last snapshot is lost); with
 * neither it refuses to start, unless LATCHKEY_REDIS_ALLOW_VOLATILE=true says that is wanted
 * (tests, development). Where CONFIG is refused (managed Redis), it warns that it could not tell.
 *
 * @example
 * checkRedisDurability(config, { aof: false, snapshots: false }); // throws config_invalid
 */
export function checkRedisDurability(
  config: Pick<LatchkeyConfig, 'redisAllowVolatile'>,
  persistence: RedisPersistence,
  logger?: Logger,
): void {
  if (persistence?.aof === true) return;
  const event = { event: 'store.redis_volatile', persistence };
  if (persistence === null) {
    logger?.warn(
      event,
      'could not read Redis persistence (CONFIG refused): make sure it persists (appendonly yes)',
    );
    return;
  }
  if (persistence.snapshots) {
    logger?.warn(
      event,
      'Redis persists by snapshots only: a revocation made after the last snapshot is forgotten at a restart; set appendonly yes',
    );
    return;
  }
  if (config.redisAllowVolatile) {
    logger?.warn(
      event,
      'Redis does not persist: revocations are lost at a restart (LATCHKEY_REDIS_ALLOW_VOLATILE)',
    );
    return;
  }
  throw new LatchkeyError(
    'config_invalid',
    'REDIS_URL names a Redis that does not persist (appendonly no, no save rule), and without ' +
      'DATABASE_URL it would hold the only copy of every revocation: a restart would bring revoked ' +
      'tokens back. Turn on appendonly yes, or set DATABASE_URL (revocations are then kept in SQL), ' +
      'or set LATCHKEY_REDIS_ALLOW_VOLATILE=true to run anyway (tests, development)',
  );
}

/**
 * The composite store over an open SQL store (users and keys) and Redis (the rest); closes the
 * SQL store when Redis cannot be opened.
 */
async function withRedis(config: LatchkeyConfig, durable: Store, logger?: Logger): Promise<Store> {
  try {
    const [{ openRedisStore }, { adoptHotRevocations, createCompositeStore }] = await Promise.all([
      importRedis(),
      import('../stores/composite.js'),
    ]);
    const hot = await openRedisStore({
      url: required(config.redisURL, 'REDIS_URL'),
      prefix: config.redisPrefix,
    });
    // Revocations live in SQL; an older Latchkey kept them in Redis: move the live ones over.
    const adopted = await adoptHotRevocations({ durable, hot }, Date.now()).catch(async (error: unknown) => {
      await hot.close().catch(() => undefined);
      throw error;
    });
    if (adopted.moved > 0 || adopted.clashes > 0) {
      logger?.[adopted.clashes > 0 ? 'warn' : 'info'](
        { event: 'store.revocations_adopted', ...adopted },
        adopted.clashes > 0
          ? 'revocations moved from Redis to the SQL store; some clashed with newer ones (an older node still writing to Redis?)'
          : 'revocations moved from Redis to the SQL store',
      );
    }
    return createCompositeStore({ durable, hot });
  } catch (error) {
    await durable.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Applies the pending SQL migrations of the configured store and closes it again; returns the
 * versions it applied (empty when up to date, and always for memory and Redis, which have no
 * schema). What `latchkey migrate` runs.
 *
 * @example
 * const { store, applied } = await migrateStore(loadConfig()); // { store: 'postgres', applied: ['0001_init'] }
 */
export async function migrateStore(
  config: LatchkeyConfig,
): Promise<{ store: StoreChoice; applied: string[] }> {
  const choice = chooseStore(config);
  switch (choice) {
    case 'memory':
    case 'redis':
      return { store: choice, applied: [] };
    case 'sqlite': {
      const { migrateSQLite } = await importSQLite();
      return { store: choice, ...(await migrateSQLite({ path: embeddedStorePaths(config).sqlite })) };
    }
    case 'pglite': {
      const { migratePGlite } = await importPGlite();
      return { store: choice, ...(await migratePGlite({ dataDir: embeddedStorePaths(config).pglite })) };
    }
    case 'postgres':
    case 'postgres+redis': {
      const { migratePostgres } = await importPostgres();
      return {
        store: choice,
        ...(await migratePostgres({ url: required(config.databaseURL, 'DATABASE_URL') })),
      };
    }
    case 'mysql':
    case 'mysql+redis': {
      const { migrateMySQL } = await importMySQL();
      return {
        store: choice,
        ...(await migrateMySQL({ url: required(config.databaseURL, 'DATABASE_URL') })),
      };
    }
  }
}
