/**
 * Real Postgres and Redis servers for the store and cluster suites.
 *
 * The shared servers come from LATCHKEY_TEST_POSTGRES_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres) and LATCHKEY_TEST_REDIS_URL (default
 * redis://127.0.0.1:6379). Each suite works in its own database and its own key prefix and
 * removes them afterwards; nothing here stops, restarts or flushes a shared server.
 *
 * When a server cannot be reached, a suite is skipped with a warning on a developer machine, and
 * fails in CI (`isCI()`: `CI=true`, `1`, `yes`, ...), where a silently skipped suite would hide a
 * broken pipeline.
 */

import { randomBytes } from 'node:crypto';
import { describe, it } from 'vitest';
import pg from 'pg';
import { Redis } from 'ioredis';
import { isCI } from './ci.js';

export const POSTGRES_ADMIN_URL =
  process.env.LATCHKEY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_TEST_URL = process.env.LATCHKEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A short random suffix for database names and key prefixes. */
export function uniqueSuffix(): string {
  return `${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Resolves to null when Postgres at `url` answers `SELECT 1`, or to the reason it did not. */
export async function probePostgres(url: string = POSTGRES_ADMIN_URL): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Resolves to null when Redis at `url` answers PING, or to the reason it did not. */
export async function probeRedis(url: string = REDIS_TEST_URL): Promise<string | null> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    redis.disconnect();
  }
}

/**
 * `describe` when every service answered; otherwise a visible skip (a warning) on a developer
 * machine, and a failing test in CI.
 *
 * @example
 * describeWithServices('postgres store', [await probePostgres()], () => { ... });
 */
export function describeWithServices(
  name: string,
  problems: readonly (string | null)[],
  body: () => void,
): void {
  const missing = problems.filter((problem): problem is string => problem !== null);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const reason = `${name}: a required server or binary is unavailable (${missing.join('; ')})`;
  if (isCI()) {
    describe(name, () => {
      it('has its servers and binaries', () => {
        throw new Error(reason);
      });
    });
    return;
  }
  console.warn(
    `SKIPPED ${reason}. Start Postgres/Redis (or set LATCHKEY_TEST_POSTGRES_URL/REDIS_URL), or install what is missing.`,
  );
  describe.skip(name, body);
}

/** A database of its own on the shared Postgres server. */
export interface TestDatabase {
  name: string;
  url: string;
  /** Drops the database, closing any connection still open to it. */
  drop(): Promise<void>;
}

function withDatabase(adminURL: string, database: string): string {
  const url = new URL(adminURL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(adminURL: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminURL, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Creates `latchkey_test_<pid>_<random>` on the shared server.
 *
 * @example
 * const db = await createTestDatabase();
 * afterAll(() => db.drop());
 */
export async function createTestDatabase(adminURL: string = POSTGRES_ADMIN_URL): Promise<TestDatabase> {
  const name = `latchkey_test_${uniqueSuffix()}`;
  await admin(adminURL, (client) => client.query(`CREATE DATABASE ${name}`));
  return {
    name,
    url: withDatabase(adminURL, name),
    drop: async () => {
      await admin(adminURL, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** A connection string that works in `schema` (created if needed) instead of `public`. */
export async function schemaURL(databaseURL: string, schema: string): Promise<string> {
  await admin(databaseURL, (client) => client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`));
  const url = new URL(databaseURL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/** A Redis URL and a key prefix of its own; `cleanup()` unlinks every key under the prefix. */
export interface TestRedisPrefix {
  url: string;
  prefix: string;
  /** How many keys exist under the prefix. */
  countKeys(): Promise<number>;
  cleanup(): Promise<void>;
}

async function scanKeys(
  redis: Redis,
  pattern: string,
  each: (keys: string[]) => Promise<void>,
): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
    cursor = next;
    if (keys.length > 0) await each(keys);
  } while (cursor !== '0');
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (character) => `\\${character}`);
}

/**
 * Picks a fresh prefix `lk_test_<pid>_<random>` on the shared Redis. Never FLUSHALL: cleanup
 * SCANs for the prefix and UNLINKs what it finds.
 */
export function createTestRedisPrefix(url: string = REDIS_TEST_URL): TestRedisPrefix {
  const prefix = `lk_test_${uniqueSuffix()}`;
  const pattern = `*${escapeGlob(prefix)}*`;
  const withRedis = async <T>(run: (redis: Redis) => Promise<T>): Promise<T> => {
    const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2_000 });
    redis.on('error', () => undefined);
    try {
      return await run(redis);
    } finally {
      redis.disconnect();
    }
  };
  return {
    url,
    prefix,
    countKeys: () =>
      withRedis(async (redis) => {
        let count = 0;
        await scanKeys(redis, pattern, (keys) => {
          count += keys.length;
          return Promise.resolve();
        });
        return count;
      }),
    cleanup: () =>
      withRedis(async (redis) => {
        await scanKeys(redis, pattern, async (keys) => {
          await redis.unlink(...keys);
        });
      }),
  };
}
