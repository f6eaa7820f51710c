/**
 * The ioredis client of the Redis store, standalone or Cluster: how it is created (fail fast,
 * reconnect by itself),
 * connected, and how its errors are cleaned before they leave the store.
 */

import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { storeUnavailable } from '../../errors.js';
import { parseRedisClusterURL, type RedisClusterURL } from '../../lib/redis-url.js';

/** A standalone or Cluster ioredis client. */
export type RedisClient = Redis | Cluster;

/** Per-command timeout: a command that gets no answer fails after this long. */
const COMMAND_TIMEOUT_MS = 2_000;
const CONNECT_TIMEOUT_MS = 2_000;
/** Reconnection backoff: 100 ms, 200 ms, 400 ms ... capped here. */
const MAX_RECONNECT_DELAY_MS = 2_000;

/** What the fail-fast client of {@link createRedisClient} sets on every connection. */
function failFastOptions(): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
  };
}

/** Capped exponential backoff: 100 ms, 200 ms, 400 ms ... 2 s. */
function backoff(attempt: number): number {
  return Math.min(100 * 2 ** Math.min(attempt - 1, 10), MAX_RECONNECT_DELAY_MS);
}

/**
 * A Cluster client over the startup nodes of a `redis+cluster://` URL, as fail-fast as the
 * standalone one: no offline queue, and no retry of a command whose connection closed while it
 * was in flight (`retryDelayOnFailover: 0`; the script could have run). Redirections (`MOVED`,
 * `ASK`) and refusals that ran nothing (`TRYAGAIN`, `CLUSTERDOWN`) are retried, as ioredis does.
 */
function createClusterClient(url: RedisClusterURL, lazyConnect: boolean): Cluster {
  const { enableOfflineQueue: _nodesQueue, ...nodeOptions } = failFastOptions();
  return new Cluster(url.nodes, {
    lazyConnect,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    clusterRetryStrategy: backoff,
    retryDelayOnFailover: 0,
    slotsRefreshTimeout: CONNECT_TIMEOUT_MS,
    redisOptions: {
      ...nodeOptions,
      ...(url.username === undefined ? {} : { username: url.username }),
      ...(url.password === undefined ? {} : { password: url.password }),
      ...(url.tls ? { tls: {} } : {}),
    },
  });
}

/**
 * Creates an ioredis client that fails fast while disconnected and reconnects by itself: no
 * offline queue, no retry or resend of a command that was in flight when the connection dropped
 * (a retried script could apply twice), a 2 s command timeout, and capped exponential backoff.
 * A `redis+cluster://` or `rediss+cluster://` URL (see `lib/redis-url.ts`) gives a `Cluster`
 * client with the same rules. An `error` listener is attached: failures surface through the
 * commands that fail.
 *
 * @example
 * const store = createRedisStore({ client: createRedisClient('redis://127.0.0.1:6379') });
 * const cluster = createRedisClient('redis+cluster://10.0.0.1:7000,10.0.0.2:7000');
 */
export function createRedisClient(url: string, options: { lazyConnect?: boolean } = {}): RedisClient {
  const cluster = parseRedisClusterURL(url);
  const lazyConnect = options.lazyConnect ?? false;
  const client: RedisClient =
    cluster === null
      ? new Redis(url, {
          ...failFastOptions(),
          enableAutoPipelining: true,
          retryStrategy: backoff,
          lazyConnect,
        })
      : createClusterClient(cluster, lazyConnect);
  client.on('error', () => {
    // Connection errors reach callers as store_unavailable from the commands that fail.
  });
  return client;
}

/**
 * Creates a client (see {@link createRedisClient}) and waits until it is connected (a Cluster
 * client: until it knows the slots). Rejects with `store_unavailable` (and drops the client)
 * when Redis cannot be reached.
 *
 * @example
 * const client = await connectRedisClient('redis://127.0.0.1:6379');
 */
export async function connectRedisClient(url: string): Promise<RedisClient> {
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
 * Checks that Redis answers. On a Cluster: every master the client knows answers, and the
 * cluster says its state is `ok` (a `PING` alone answers on a node while the slots of a dead
 * master refuse every command, so `/healthz` would say 200 while requests get 503).
 *
 * @example
 * await pingRedis(client);
 */
export async function pingRedis(client: RedisClient): Promise<void> {
  if (!client.isCluster) {
    await client.ping();
    return;
  }
  const cluster = client as Cluster;
  const masters = cluster.nodes('master');
  await Promise.all(masters.map((node) => node.ping()));
  const info = String(await (masters[0] ?? cluster).call('CLUSTER', 'INFO'));
  if (!/^cluster_state:ok\s*$/m.test(info))
    throw new Error('The Redis Cluster is down (cluster_state is not ok)');
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
