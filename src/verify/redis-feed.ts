/**
 * The Redis pub/sub transport of the revocation feed (`latchkey/verify/redis`): `SUBSCRIBE`s
 * to the channel the auth server `PUBLISH`es to (`createRedisRevocationPublisher`), on a
 * dedicated connection, and catches up from a snapshot on every (re)connection.
 *
 * ioredis is loaded on demand (`import()`), so the SDK's main entry point never loads it.
 *
 * @see ./pubsub-feed.ts the engine: subscribe, catch up, live, reconnect
 * @see https://redis.io/docs/latest/develop/interact/pubsub/
 */

import type { Redis, RedisOptions } from 'ioredis';
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
  /** `redis://` or `rediss://` URL. */
  url?: string;
  /**
   * A client used as a template: the feed subscribes on its own `duplicate()` (a subscribed
   * connection can do nothing else) and never touches the client itself.
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
  if (url !== undefined && (typeof url !== 'string' || !/^rediss?:\/\//.test(url))) {
    throw new TypeError('"url" must start with redis:// or rediss://');
  }
  if (client !== undefined && typeof client.duplicate !== 'function') {
    throw new TypeError('"client" must be an ioredis client');
  }
  if (typeof channel !== 'string' || channel.length === 0) {
    throw new TypeError('"channel" must be a non-empty string');
  }
  const name = options.connectionName ?? 'latchkey-revocation-feed';
  if (typeof name !== 'string' || !/^[!-~]{1,128}$/.test(name)) {
    throw new TypeError('"connectionName" must be 1 to 128 printable characters without spaces');
  }
  const overrides = connectionOptions(name, options.timeoutMs ?? 5_000);

  async function open(): Promise<Redis> {
    if (client !== undefined) return client.duplicate(overrides);
    const { Redis: RedisClient } = await import('ioredis');
    return new RedisClient(url ?? '', overrides);
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
