/**
 * The revocation channels of a server: the publisher that pushes every revocation to resource
 * services (Redis pub/sub with `REDIS_URL`, else Postgres NOTIFY with a `postgres://`
 * `DATABASE_URL`), and the feed a node's near session cache listens to on the same channel. Each
 * driver is loaded only when its URL is configured.
 *
 * MySQL and MariaDB have no LISTEN/NOTIFY: with a `mysql://` `DATABASE_URL` alone there is no
 * channel (resource services read the HTTP feed, and the near cache of a node stays off, which
 * `createConfiguredSessionCache` logs); with `REDIS_URL` too, Redis pub/sub is the channel.
 */

import type { LatchkeyConfig } from '../config/config.js';
import { DEFAULT_REVOCATION_CHANNEL, type RevocationPublisher } from '../revocation/publishers.js';
import type { Store } from '../store.js';
import { importDriver } from './drivers.js';
import type { RevocationFeed } from '../verify/feed.js';
import type { RevocationSnapshot } from '../verify/pubsub-feed.js';

/**
 * The channel `latchkey serve` publishes revocations to and its nodes listen on:
 * `latchkey_revocations`, except on Redis with a `LATCHKEY_REDIS_PREFIX` of its own, where it
 * is `<prefix>:revocations`, so that deployments sharing a Redis do not hear each other's
 * revocations (the default prefix keeps the default channel, so existing resource services
 * keep hearing it).
 *
 * @example
 * revocationChannel(config); // 'tenant-a:revocations' with REDIS_URL and LATCHKEY_REDIS_PREFIX=tenant-a
 */
export function revocationChannel(config: Pick<LatchkeyConfig, 'redisURL' | 'redisPrefix'>): string {
  if (config.redisURL === null || config.redisPrefix === 'latchkey') return DEFAULT_REVOCATION_CHANNEL;
  return `${config.redisPrefix}:revocations`;
}

/** Whether `DATABASE_URL` is a Postgres server, the one SQL server with a push channel (NOTIFY). */
function isPostgresURL(url: string | null): url is string {
  return url !== null && /^postgres(ql)?:\/\//i.test(url);
}

/**
 * The publisher the configuration selects, or null (memory and the embedded stores: no other
 * process to tell but resource services, which read the HTTP feed; MySQL alone: no push channel). Services always catch up from the HTTP
 * snapshot, so a missed publish is recovered.
 *
 * @example
 * const publisher = await openRevocationPublisher(config, DEFAULT_REVOCATION_CHANNEL);
 */
export async function openRevocationPublisher(
  config: LatchkeyConfig,
  channel: string,
): Promise<RevocationPublisher | null> {
  if (config.redisURL !== null) {
    const { createRedisRevocationPublisher } = await importDriver(
      'redis',
      () => import('../stores/redis/publisher.js'),
    );
    return createRedisRevocationPublisher({ url: config.redisURL, channel });
  }
  if (isPostgresURL(config.databaseURL)) {
    const { createPostgresRevocationPublisher } = await importDriver(
      'postgres',
      () => import('../stores/postgres/publisher.js'),
    );
    return createPostgresRevocationPublisher({ url: config.databaseURL, channel });
  }
  return null;
}

/**
 * The revocation channel a node listens to so that its near session cache
 * (`LATCHKEY_SESSION_CACHE`) hears of revocations made by other nodes: the channel `latchkey
 * serve` publishes to (Redis pub/sub with `REDIS_URL`, else Postgres LISTEN/NOTIFY), caught up
 * from the store itself after every (re)subscription and re-read every second. Undefined when
 * the cache is off (`0`), the store is process-local (memory, SQLite, PGlite), where none is
 * needed, or MySQL alone, which has no channel (the cache then stays off, with a warning).
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
  // `auto` (null) and a duration alike: the cache is on wherever a channel can keep it right.
  if (config.sessionCache === 0) return undefined;
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
    const { createRedisRevocationFeed } = await importDriver(
      'redis',
      () => import('../verify/redis-feed.js'),
    );
    return createRedisRevocationFeed({
      url: config.redisURL,
      channel,
      snapshot,
      connectionName: 'latchkey-session-cache',
      ...timing,
    });
  }
  if (isPostgresURL(config.databaseURL) && config.store !== 'memory') {
    const { createPostgresRevocationFeed } = await importDriver(
      'postgres',
      () => import('../verify/postgres-feed.js'),
    );
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
