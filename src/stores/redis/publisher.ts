/**
 * The revocation publisher over Redis `PUBLISH`, in the Redis driver's folder: nothing outside
 * `src/stores/redis/` loads ioredis.
 */

import { Redis } from 'ioredis';
import { checkPublisherOptions, type RevocationPublisher } from '../../revocation/publishers.js';
import { toWireRevocation } from '../../revocation/revocation-list.js';

/** The one command a Redis publisher needs: an ioredis `Redis` or `Cluster` fits. */
export interface RedisPublishClient {
  publish(channel: string, message: string): Promise<number>;
  ping(): Promise<string>;
}

/** Options of {@link createRedisRevocationPublisher}: exactly one of `client` and `url`. */
export interface RedisRevocationPublisherOptions {
  /** A client of the caller's; the publisher does not close it. */
  client?: RedisPublishClient;
  /** `redis://` or `rediss://`: the publisher opens a fail-fast client and closes it on `close()`. */
  url?: string;
  channel: string;
}

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
  const { channel } = checkPublisherOptions(
    options,
    options.client,
    'client',
    /^rediss?:\/\//,
    'redis:// or rediss://',
  );
  let owned: Promise<{ client: RedisPublishClient; close: () => void }> | null = null;

  function connection(): Promise<RedisPublishClient> {
    if (options.client !== undefined) return Promise.resolve(options.client);
    owned ??= Promise.resolve().then(() => {
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
