/**
 * The ioredis client of the Redis store: how it is created (fail fast, reconnect by itself),
 * connected, and how its errors are cleaned before they leave the store.
 */

import { Redis } from 'ioredis';
import type { Cluster } from 'ioredis';
import { storeUnavailable } from '../../errors.js';

/** A standalone or Cluster ioredis client. */
export type RedisClient = Redis | Cluster;

/** Per-command timeout: a command that gets no answer fails after this long. */
const COMMAND_TIMEOUT_MS = 2_000;
const CONNECT_TIMEOUT_MS = 2_000;
/** Reconnection backoff: 100 ms, 200 ms, 400 ms ... capped here. */
const MAX_RECONNECT_DELAY_MS = 2_000;

/**
 * Creates an ioredis client that fails fast while disconnected and reconnects by itself: no
 * offline queue, no retry or resend of a command that was in flight when the connection dropped
 * (a retried script could apply twice), a 2 s command timeout, and capped exponential backoff.
 * An `error` listener is attached: failures surface through the commands that fail.
 *
 * @example
 * const store = createRedisStore({ client: createRedisClient('redis://127.0.0.1:6379') });
 */
export function createRedisClient(url: string, options: { lazyConnect?: boolean } = {}): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (attempt: number): number =>
      Math.min(100 * 2 ** Math.min(attempt - 1, 10), MAX_RECONNECT_DELAY_MS),
    lazyConnect: options.lazyConnect ?? false,
  });
  client.on('error', () => {
    // Connection errors reach callers as store_unavailable from the commands that fail.
  });
  return client;
}

/**
 * Creates a client (see {@link createRedisClient}) and waits until it is connected. Rejects with
 * `store_unavailable` (and drops the client) when Redis cannot be reached.
 *
 * @example
 * const client = await connectRedisClient('redis://127.0.0.1:6379');
 */
export async function connectRedisClient(url: string): Promise<Redis> {
  const client = createRedisClient(url, { lazyConnect: true });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw storeUnavailable(sanitize(error));
  }
  return client;
}

/**
 * Checks a key prefix: non-empty, and without `{` or `}`, which would move the hash tag.
 *
 * @example
 * validatePrefix('latchkey'); // ok; validatePrefix('a{b') throws a TypeError
 */
export function validatePrefix(prefix: string): void {
  if (prefix.length === 0 || /[{}]/.test(prefix)) {
    throw new TypeError('"prefix" must be a non-empty string without "{" or "}"');
  }
}

/**
 * Keeps only the name and message of a driver error: ioredis attaches command arguments, which
 * may hold hashes, to its errors.
 *
 * @example
 * throw storeUnavailable(sanitize(error));
 */
export function sanitize(error: unknown): Error {
  if (!(error instanceof Error)) return new Error('Redis command failed');
  const clean = new Error(error.message);
  clean.name = error.name;
  return clean;
}
