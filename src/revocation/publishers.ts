/**
 * Server side of the pub/sub revocation transports: publishes every revocation the server
 * records, in its wire form (`toWireRevocation`) as JSON, to a Redis channel (`PUBLISH`) or a
 * Postgres channel (`SELECT pg_notify($1, $2)`), where resource services' feeds
 * (`src/verify/redis-feed.ts`, `src/verify/postgres-feed.ts`) listen.
 *
 * Pub/sub is fire-and-forget: a failed publish is not retried here. The feeds recover it by
 * catching up from a snapshot on every (re)connection and periodically while live.
 *
 * Core code: no driver is loaded at import time. A publisher takes a client, or loads its
 * driver with `import()` when given a URL.
 *
 * @example
 * const publisher = createRedisRevocationPublisher({ url: 'redis://127.0.0.1:6379', channel: 'latchkey:revocations' });
 * const detach = attachRevocationPublisher(latchkey, publisher);
 * // on shutdown
 * detach();
 * await publisher.close();
 */

import type { RevocationRecord } from '../records.js';
import { toWireRevocation } from './revocation-list.js';
import type { RevocationRecorder } from './revocations.js';

/** Publishes revocation records to a pub/sub channel. */
export interface RevocationPublisher {
  readonly transport: 'redis' | 'postgres';
  readonly channel: string;
  /** Publishes one record; never throws synchronously, rejects when the publish failed. */
  publish(record: RevocationRecord): Promise<void>;
  /**
   * Opens the connection now (rather than on the first publish) and makes one round trip;
   * rejects when the server cannot be reached. Optional to call: a publish connects as needed.
   */
  ready(): Promise<void>;
  /** Closes the connection the publisher opened itself (never one it was given). */
  close(): Promise<void>;
}

/** The one command a Redis publisher needs: an ioredis `Redis` or `Cluster` fits. */
export interface RedisPublishClient {
  publish(channel: string, message: string): Promise<number>;
  ping(): Promise<string>;
}

/** The one method a Postgres publisher needs: a `pg.Pool` or `pg.Client` fits. */
export interface PostgresQueryClient {
  query(text: string, values: unknown[]): Promise<unknown>;
}

/** Options of {@link createRedisRevocationPublisher}: exactly one of `client` and `url`. */
export interface RedisRevocationPublisherOptions {
  /** A client of the caller's; the publisher does not close it. */
  client?: RedisPublishClient;
  /** `redis://` or `rediss://`: the publisher opens a fail-fast client and closes it on `close()`. */
  url?: string;
  channel: string;
}

/** Options of {@link createPostgresRevocationPublisher}: exactly one of `pool` and `url`. */
export interface PostgresRevocationPublisherOptions {
  /** A pool (or client) of the caller's; the publisher does not close it. */
  pool?: PostgresQueryClient;
  /** `postgres://` or `postgresql://`: the publisher opens a small pool and ends it on `close()`. */
  url?: string;
  channel: string;
}

/**
 * The default channel: a plain identifier, valid as a Redis channel and as a Postgres `LISTEN`
 * channel alike.
 */
export const DEFAULT_REVOCATION_CHANNEL = 'latchkey_revocations';

/** `pg_notify` refuses payloads of 8000 bytes or more. */
const MAX_NOTIFY_PAYLOAD_BYTES = 7_999;

/**
 * A publisher over Redis `PUBLISH`.
 *
 * @example
 * const publisher = createRedisRevocationPublisher({ client: redis, channel: 'latchkey:revocations' });
 * @see https://redis.io/docs/latest/commands/publish/
 */
export function createRedisRevocationPublisher(
  options: RedisRevocationPublisherOptions,
): RevocationPublisher {
  const { channel } = checkOptions(
    options,
    options.client,
    'client',
    /^rediss?:\/\//,
    'redis:// or rediss://',
  );
  let owned: Promise<{ client: RedisPublishClient; close: () => void }> | null = null;

  function connection(): Promise<RedisPublishClient> {
    if (options.client !== undefined) return Promise.resolve(options.client);
    owned ??= import('ioredis').then(({ Redis }) => {
      const redis = new Redis(options.url ?? '', {
        enableOfflineQueue: true,
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        commandTimeout: 2_000,
        connectTimeout: 2_000,
        retryStrategy: (attempt: number): number => Math.min(100 * 2 ** Math.min(attempt - 1, 10), 2_000),
      });
      redis.on('error', () => {
        // Failures reach the caller as rejected publishes.
      });
      return { client: redis, close: () => redis.disconnect() };
    });
    return owned.then(({ client }) => client);
  }

  return {
    transport: 'redis',
    channel,
    async publish(record) {
      const client = await connection();
      await client.publish(channel, JSON.stringify(toWireRevocation(record)));
    },
    async ready() {
      const client = await connection();
      await client.ping();
    },
    async close() {
      const current = owned;
      owned = null;
      if (current !== null) (await current).close();
    },
  };
}

/**
 * A publisher over Postgres `NOTIFY` (`SELECT pg_notify($1, $2)`: the channel is a parameter,
 * so it needs no quoting). Notifications are delivered in the database the pool connects to.
 * The pool it opens from `url` runs with `synchronous_commit=off` (the notification does not
 * wait for a WAL flush); a pool of the caller's may want the same.
 *
 * @example
 * const publisher = createPostgresRevocationPublisher({ url: process.env.DATABASE_URL, channel: 'latchkey_revocations' });
 * @see https://www.postgresql.org/docs/current/sql-notify.html
 */
export function createPostgresRevocationPublisher(
  options: PostgresRevocationPublisherOptions,
): RevocationPublisher {
  const { channel } = checkOptions(options, options.pool, 'pool', /^postgres(ql)?:\/\//, 'postgres://');
  if (Buffer.byteLength(channel) > 63) throw new TypeError('"channel" must be at most 63 bytes');
  let owned: Promise<{ pool: PostgresQueryClient; end: () => Promise<void> }> | null = null;

  function connection(): Promise<PostgresQueryClient> {
    if (options.pool !== undefined) return Promise.resolve(options.pool);
    owned ??= import('pg').then(({ default: pg }) => {
      const pool = new pg.Pool({
        connectionString: options.url,
        max: 2,
        connectionTimeoutMillis: 2_000,
        idleTimeoutMillis: 30_000,
        application_name: 'latchkey-revocation-publisher',
        // A NOTIFY-only transaction has nothing to make durable: its commit need not wait for
        // the WAL flush (a busy disk otherwise adds its fsync latency to every publish).
        options: '-c synchronous_commit=off',
      });
      pool.on('error', () => {
        // An idle connection dropped; the pool replaces it. Publishes report their own failures.
      });
      return { pool, end: () => pool.end() };
    });
    return owned.then(({ pool }) => pool);
  }

  return {
    transport: 'postgres',
    channel,
    async publish(record) {
      const payload = JSON.stringify(toWireRevocation(record));
      if (Buffer.byteLength(payload) > MAX_NOTIFY_PAYLOAD_BYTES) {
        throw new Error(`revocation ${record.seq} is too large for NOTIFY`);
      }
      const pool = await connection();
      await pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    async ready() {
      const pool = await connection();
      await pool.query('SELECT 1', []);
    },
    async close() {
      const current = owned;
      owned = null;
      if (current !== null) await (await current).end();
    },
  };
}

/**
 * Publishes every revocation `latchkey` records from now on; returns the function that stops.
 * A failed publish is passed to `onError` (default: a warning in `latchkey.logger`) and never
 * reaches the request that revoked.
 *
 * @example
 * const detach = attachRevocationPublisher(latchkey, publisher);
 */
export function attachRevocationPublisher(
  latchkey: {
    readonly revocations: Pick<RevocationRecorder, 'onRevocation'>;
    readonly logger?: { warn(object: object, message: string): void };
  },
  publisher: RevocationPublisher,
  onError?: (error: unknown, record: RevocationRecord) => void,
): () => void {
  const failed =
    onError ??
    ((error: unknown, record: RevocationRecord): void => {
      latchkey.logger?.warn(
        {
          event: 'revocations.publish_failed',
          transport: publisher.transport,
          seq: record.seq,
          err: error instanceof Error ? { name: error.name, message: error.message } : String(error),
        },
        'revocation publish failed; resource services catch up from the snapshot',
      );
    });
  return latchkey.revocations.onRevocation((record) => {
    publisher.publish(record).catch((error: unknown) => {
      try {
        failed(error, record);
      } catch {
        // A failing error handler must not reach the request either.
      }
    });
  });
}

function checkOptions(
  options: { url?: string; channel: string },
  client: unknown,
  clientName: string,
  scheme: RegExp,
  schemeText: string,
): { channel: string } {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  if ((options.url === undefined) === (client === undefined)) {
    throw new TypeError(`exactly one of "${clientName}" and "url" is required`);
  }
  if (options.url !== undefined && (typeof options.url !== 'string' || !scheme.test(options.url))) {
    throw new TypeError(`"url" must start with ${schemeText}`);
  }
  if (typeof options.channel !== 'string' || options.channel.length === 0) {
    throw new TypeError('"channel" must be a non-empty string');
  }
  return { channel: options.channel };
}
