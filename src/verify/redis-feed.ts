/**
 * The Redis pub/sub transport of the revocation feed (`latchkey/verify/redis`): `SUBSCRIBE`s
 * to the channel the auth server `PUBLISH`es to (`createRedisRevocationPublisher`), on a
 * dedicated connection, and catches up from a snapshot on every (re)connection.
 *
 * ioredis is loaded on demand (`import()`), so the SDK's main entry point never loads it.
 *
 * On a Redis Cluster (`redis+cluster://host:port,host:port`) the feed subscribes on one node,
 * the next one of the URL at every (re)connection: a classic `PUBLISH` on any node reaches the
 * subscribers of every node over the cluster bus, so one node is enough, and a node that is down
 * costs one reconnection.
 *
 * @see ./pubsub-feed.ts the engine: subscribe, catch up, live, reconnect
 * @see https://redis.io/docs/latest/develop/interact/pubsub/
 */

import type { Redis, RedisOptions } from 'ioredis';
import { parseRedisClusterURL, REDIS_URL_SCHEMES, type RedisClusterURL } from '../lib/redis-url.js';
import {
  createPubSubFeed,
  type PubSubConnection,
  type PubSubFeedOptions,
  type PubSubRevocationFeed,
} from './pubsub-feed.js';

export {
  createHTTPRevocationSnapshot,
  type PubSubFeedOptions,
  type PubSubRevocationFeed,
  type RevocationSnapshot,
  type RevocationSnapshotFunction,
} from './pubsub-feed.js';

/** Options of {@link createRedisRevocationFeed}: exactly one of `url` and `client`. */
export interface RedisRevocationFeedOptions extends PubSubFeedOptions {
  /** `redis://`, `rediss://`, or a Cluster's `redis+cluster://host:port,...` (`rediss+cluster://`). */
  url?: string;
  /**
   * A standalone client used as a template: the feed subscribes on its own `duplicate()` (a
   * subscribed connection can do nothing else) and never touches the client itself. For a
   * Cluster, pass its `url`.
   */
  client?: Redis;
  /** The channel the server publishes to. */
  channel: string;
  /** `CLIENT SETNAME` of the subscribing connection. Default `latchkey-revocation-feed`. */
  connectionName?: string;
}

/** Overrides of the subscribing connection: the feed, not ioredis, reconnects and resubscribes. */
function connectionOptions(name: string, timeoutMs: number): Partial<RedisOptions> {
  return {
    lazyConnect: true,
    connectionName: name,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    autoResubscribe: false,
    autoResendUnfulfilledCommands: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 0,
  };
}

/** The connection options of the `index`-th attempt on a Cluster: its nodes in turn. */
function clusterNodeOptions(cluster: RedisClusterURL, index: number): RedisOptions {
  const node = cluster.nodes[index % cluster.nodes.length] ?? { host: '', port: 0 };
  return {
    host: node.host,
    port: node.port,
    ...(cluster.username === undefined ? {} : { username: cluster.username }),
    ...(cluster.password === undefined ? {} : { password: cluster.password }),
    ...(cluster.tls ? { tls: {} } : {}),
  };
}

/**
 * Creates the Redis revocation feed. Pass it as the verifier's `revocation` option.
 *
 * @example
 * import { createVerifier } from 'latchkey/verify';
 * import { createHTTPRevocationSnapshot, createRedisRevocationFeed } from 'latchkey/verify/redis';
 *
 * const verifier = createVerifier({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://orders.example.com',
 *   algorithms: ['EdDSA'],
 *   jwksUri: 'https://auth.example.com/.well-known/jwks.json',
 *   revocation: createRedisRevocationFeed({
 *     url: process.env.REDIS_URL,
 *     channel: 'latchkey:revocations',
 *     snapshot: createHTTPRevocationSnapshot({ url: 'https://auth.example.com/v1/revocations/snapshot' }),
 *   }),
 * });
 */
export function createRedisRevocationFeed(options: RedisRevocationFeedOptions): PubSubRevocationFeed {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  const { url, client, channel } = options;
  if ((url === undefined) === (client === undefined)) {
    throw new TypeError('exactly one of "url" and "client" is required');
  }
  if (url !== undefined && (typeof url !== 'string' || !/^rediss?(\+cluster)?:\/\//i.test(url))) {
    throw new TypeError(`"url" must start with ${REDIS_URL_SCHEMES}`);
  }
  const cluster = url === undefined ? null : parseRedisClusterURL(url);
  if (client !== undefined && typeof client.duplicate !== 'function') {
    throw new TypeError('"client" must be an ioredis client');
  }
  if (client !== undefined && (client as { isCluster?: unknown }).isCluster === true) {
    throw new TypeError('"client" must be a standalone ioredis client: for a Redis Cluster, pass its url');
  }
  if (typeof channel !== 'string' || channel.length === 0) {
    throw new TypeError('"channel" must be a non-empty string');
  }
  const name = options.connectionName ?? 'latchkey-revocation-feed';
  if (typeof name !== 'string' || !/^[!-~]{1,128}$/.test(name)) {
    throw new TypeError('"connectionName" must be 1 to 128 printable characters without spaces');
  }
  const overrides = connectionOptions(name, options.timeoutMs ?? 5_000);

  let attempts = 0;
  async function open(): Promise<Redis> {
    if (client !== undefined) return client.duplicate(overrides);
    const { Redis: RedisClient } = await import('ioredis');
    if (cluster === null) return new RedisClient(url ?? '', overrides);
    attempts += 1;
    return new RedisClient({ ...clusterNodeOptions(cluster, attempts - 1), ...overrides });
  }

  return createPubSubFeed(async (handlers): Promise<PubSubConnection> => {
    const redis = await open();
    let lastError: Error | null = null;
    redis.on('error', (error: unknown) => {
      lastError = error instanceof Error ? error : new Error('redis connection failed');
    });
    redis.on('message', (from: string, message: string) => {
      if (from === channel) handlers.message(message);
    });
    redis.on('end', () => handlers.lost(lastError ?? new Error('redis connection closed')));
    const close = async (): Promise<void> => {
      if (redis.status === 'end') return;
      const ended = new Promise<void>((resolve) => redis.once('end', () => resolve()));
      redis.disconnect();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, 1_000)))]);
      clearTimeout(timer);
    };
    try {
      await redis.connect();
      await redis.subscribe(channel);
    } catch (error) {
      await close();
      throw error;
    }
    return {
      async ping() {
        await redis.ping();
      },
      close,
    };
  }, options);
}
