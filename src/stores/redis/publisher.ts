/**
 * The revocation publisher over Redis `PUBLISH`, in the Redis driver's folder: nothing outside
 * `src/stores/redis/` loads ioredis.
 */

import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { parseRedisClusterURL, REDIS_URL_SCHEMES } from '../../lib/redis-url.js';
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
  /**
   * `redis://`, `rediss://`, or a Cluster's `redis+cluster://host:port,...` (`rediss+cluster://`):
   * the publisher opens a fail-fast client and closes it on `close()`.
   */
  url?: string;
  channel: string;
}

const RECONNECT = (attempt: number): number => Math.min(100 * 2 ** Math.min(attempt - 1, 10), 2_000);

/**
 * The publisher's own client: commands wait (2 s at most) while it connects, nothing in flight
 * is resent. On a Cluster, `PUBLISH` goes to any node, which broadcasts it over the cluster bus
 * to the subscribers of every node (classic pub/sub, not the sharded `SPUBLISH`: one channel
 * would put every message on one shard anyway, and a subscriber connected to any one node,
 * standalone client or not, hears it).
 */
function openClient(url: string): Redis | Cluster {
  const options: RedisOptions = {
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: 2_000,
    connectTimeout: 2_000,
  };
  const cluster = parseRedisClusterURL(url);
  const client =
    cluster === null
      ? new Redis(url, { ...options, enableOfflineQueue: true, retryStrategy: RECONNECT })
      : new Cluster(cluster.nodes, {
          enableOfflineQueue: true,
          clusterRetryStrategy: RECONNECT,
          retryDelayOnFailover: 0,
          redisOptions: {
            ...options,
            ...(cluster.username === undefined ? {} : { username: cluster.username }),
            ...(cluster.password === undefined ? {} : { password: cluster.password }),
            ...(cluster.tls ? { tls: {} } : {}),
          },
        });
  client.on('error', () => {
    // Failures reach the caller as rejected publishes.
  });
  return client;
}

/**
 * A publisher over Redis `PUBLISH`, on a standalone Redis or a Redis Cluster.
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
    /^rediss?(\+cluster)?:\/\//i,
    REDIS_URL_SCHEMES,
  );
  if (options.url !== undefined) parseRedisClusterURL(options.url); // a malformed Cluster URL throws now
  let owned: Promise<{ client: RedisPublishClient; close: () => void }> | null = null;

  function connection(): Promise<RedisPublishClient> {
    if (options.client !== undefined) return Promise.resolve(options.client);
    owned ??= Promise.resolve().then(() => {
      const redis = openClient(options.url ?? '');
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
