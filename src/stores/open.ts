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
import type { RevocationFeed } from '../verify/feed.js';
import type { RevocationSnapshot } from '../verify/pubsub-feed.js';
import type { Store } from './types.js';

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
      const { createMemoryStore } = await import('./memory/index.js');
      return createMemoryStore();
    }
    case 'pglite': {
      const { openPGliteStore } = await import('./pglite/index.js');
      return openPGliteStore({ dataDir: join(config.dataDir, 'pglite'), migrate });
    }
    case 'postgres': {
      const { openPostgresStore } = await import('./postgres/index.js');
      return openPostgresStore({ url: required(config.databaseURL, 'DATABASE_URL'), migrate });
    }
    case 'redis': {
      const { openRedisStore } = await import('./redis/index.js');
      return openRedisStore({ url: required(config.redisURL, 'REDIS_URL'), prefix: config.redisPrefix });
    }
    case 'postgres+redis': {
      const [{ openPostgresStore }, { openRedisStore }, { createCompositeStore }] = await Promise.all([
        import('./postgres/index.js'),
        import('./redis/index.js'),
        import('./composite.js'),
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
      const [{ PGlite }, { createPGliteClient }, { migrate }] = await Promise.all([
        import('@electric-sql/pglite'),
        import('./pglite/index.js'),
        import('./sql/migrate.js'),
      ]);
      const client = createPGliteClient(await PGlite.create(join(config.dataDir, 'pglite')));
      try {
        return { store: choice, ...(await migrate(client)) };
      } finally {
        await client.close();
      }
    }
    case 'postgres':
    case 'postgres+redis': {
      const { migratePostgres } = await import('./postgres/index.js');
      return {
        store: choice,
        ...(await migratePostgres({ url: required(config.databaseURL, 'DATABASE_URL') })),
      };
    }
  }
}

/**
 * The revocation channel a node listens to so that its near session cache
 * (`LATCHKEY_SESSION_CACHE`) hears of revocations made by other nodes: the channel `latchkey
 * serve` publishes to (Redis pub/sub with `REDIS_URL`, else Postgres LISTEN/NOTIFY), caught up
 * from the store itself after every (re)subscription and re-read every second. Undefined when
 * the cache is off (`0`, or `auto` on a shared store) or the store is process-local (memory,
 * PGlite), where none is needed.
 *
 * @example
 * const feed = await openSessionCacheFeed(config, store, channel);
 * const latchkey = await createLatchkey({ config, store, secret, sessionCacheFeed: feed });
 */
export async function openSessionCacheFeed(
  config: LatchkeyConfig,
  store: Store,
  channel: string,
): Promise<RevocationFeed | undefined> {
  // `auto` (null) leaves the cache off on shared stores: only an explicit duration turns it on.
  if (config.sessionCache === null || config.sessionCache === 0) return undefined;
  const snapshot = async (afterSeq?: number): Promise<RevocationSnapshot> => {
    const records = await store.listRevocations({
      now: Date.now(),
      ...(afterSeq === undefined ? {} : { afterSeq }),
    });
    return { records, lastSeq: records.reduce((max, record) => Math.max(max, record.seq), afterSeq ?? 0) };
  };
  // A ping and a catch-up read every second: a publish that never arrived is noticed within ~1 s.
  const timing = { heartbeatMs: 1_000, resyncMs: 1_000, timeoutMs: 2_000 };
  if (config.redisURL !== null && config.store !== 'memory') {
    const { createRedisRevocationFeed } = await import('../verify/redis-feed.js');
    return createRedisRevocationFeed({
      url: config.redisURL,
      channel,
      snapshot,
      connectionName: 'latchkey-session-cache',
      ...timing,
    });
  }
  if (config.databaseURL !== null && config.store !== 'memory') {
    const { createPostgresRevocationFeed } = await import('../verify/postgres-feed.js');
    return createPostgresRevocationFeed({
      url: config.databaseURL,
      channel,
      snapshot,
      applicationName: 'latchkey-session-cache',
      ...timing,
    });
  }
  return undefined;
}
