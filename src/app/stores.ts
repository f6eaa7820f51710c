/**
 * Chooses and opens the store from the configuration:
 *
 * | `LATCHKEY_STORE` | `DATABASE_URL` | `REDIS_URL` | Store                                                  |
 * | ---------------- | -------------- | ----------- | ------------------------------------------------------ |
 * | `memory`         | (ignored)      | (ignored)   | memory (one process, lost at exit)                     |
 * | auto             | unset          | unset       | PGlite in `LATCHKEY_DATA_DIR` (one process)            |
 * | auto             | set            | unset       | Postgres holds everything                              |
 * | auto             | unset          | set         | Redis holds everything (it must persist: AOF)          |
 * | auto             | set            | set         | users and keys in Postgres; sessions, refresh tokens,  |
 * |                  |                |             | counters and revocations in Redis                      |
 *
 * Drivers are imported here, lazily, so that a process never loads a driver it does not use
 * (a PGlite process never loads `pg` or `ioredis`, and the other way round).
 */

import { join } from 'node:path';
import type { LatchkeyConfig } from '../config/config.js';
import type { Store } from '../store.js';

/** Which backends a configuration selects. */
export type StoreChoice = 'memory' | 'pglite' | 'postgres' | 'redis' | 'postgres+redis';

/**
 * The store a configuration selects, without opening anything.
 *
 * @example
 * chooseStore(loadConfig({ DATABASE_URL: 'postgres://db/latchkey' })); // 'postgres'
 */
export function chooseStore(config: LatchkeyConfig): StoreChoice {
  if (config.store === 'memory') return 'memory';
  if (config.databaseURL !== null && config.redisURL !== null) return 'postgres+redis';
  if (config.databaseURL !== null) return 'postgres';
  if (config.redisURL !== null) return 'redis';
  return 'pglite';
}

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** Apply pending migrations (default: `config.migrateOnStart`, from LATCHKEY_MIGRATE). */
  migrate?: boolean;
}

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
  switch (chooseStore(config)) {
    case 'memory': {
      const { createMemoryStore } = await import('../stores/memory/index.js');
      return createMemoryStore();
    }
    case 'pglite': {
      const { openPGliteStore } = await import('../stores/pglite/index.js');
      return openPGliteStore({ dataDir: join(config.dataDir, 'pglite'), migrate });
    }
    case 'postgres': {
      const { openPostgresStore } = await import('../stores/postgres/index.js');
      return openPostgresStore({ url: required(config.databaseURL, 'DATABASE_URL'), migrate });
    }
    case 'redis': {
      const { openRedisStore } = await import('../stores/redis/index.js');
      return openRedisStore({ url: required(config.redisURL, 'REDIS_URL'), prefix: config.redisPrefix });
    }
    case 'postgres+redis': {
      const [{ openPostgresStore }, { openRedisStore }, { createCompositeStore }] = await Promise.all([
        import('../stores/postgres/index.js'),
        import('../stores/redis/index.js'),
        import('../stores/composite.js'),
      ]);
      const durable = await openPostgresStore({ url: required(config.databaseURL, 'DATABASE_URL'), migrate });
      try {
        const hot = await openRedisStore({
          url: required(config.redisURL, 'REDIS_URL'),
          prefix: config.redisPrefix,
        });
        return createCompositeStore({ durable, hot });
      } catch (error) {
        await durable.close().catch(() => undefined);
        throw error;
      }
    }
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
    case 'pglite': {
      const { migratePGlite } = await import('../stores/pglite/index.js');
      return { store: choice, ...(await migratePGlite({ dataDir: join(config.dataDir, 'pglite') })) };
    }
    case 'postgres':
    case 'postgres+redis': {
      const { migratePostgres } = await import('../stores/postgres/index.js');
      return {
        store: choice,
        ...(await migratePostgres({ url: required(config.databaseURL, 'DATABASE_URL') })),
      };
    }
  }
}
