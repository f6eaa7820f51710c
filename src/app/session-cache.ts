/**
 * The near session cache (`LATCHKEY_SESSION_CACHE`), wired: on by default wherever it cannot
 * serve a revoked session once the revocation reached this node, fed by every local revocation
 * and, on a shared store, by the revocation channel (Redis pub/sub or Postgres LISTEN/NOTIFY).
 */

import type { Clock } from '../clock.js';
import type { LatchkeyConfig } from '../config/config.js';
import type { Logger } from '../log.js';
import type { RevocationRecorder } from '../revocation/revocations.js';
import { createSessionCache, type SessionCache } from '../session/session-cache.js';
import type { RevocationFeed } from '../verify/feed.js';

/** Stores that only this process writes while it runs (the embedded ones: the data-directory lock). */
const PROCESS_LOCAL_STORES = new Set(['memory', 'sqlite', 'pglite']);
/**
 * The near cache's max age when `LATCHKEY_SESSION_CACHE` is `auto`: a backstop, not the
 * freshness rule. Revocations and user changes reach the cache through the channel (or, on an
 * embedded store, before the response that made them), and the cache is bypassed while the
 * channel is down, so the max age only bounds what no channel carries: a change written into the
 * store behind Latchkey's back (an operator's SQL, a restore). One minute is also the sliding
 * expiry's write interval (`touchSession`), so a cached session is re-read about as often as it
 * is written anyway.
 */
export const AUTO_SESSION_CACHE_MS = 60_000;

/**
 * The cache the configuration asks for, or null when off. `auto` (null in the configuration) and
 * a duration alike: on where every write goes through this process (no channel needed), and on a
 * shared store when a channel (`feed`) is open; off, with a warning, on a shared store without
 * one (MySQL alone).
 *
 * @example
 * const cache = createConfiguredSessionCache({ config, storeKind: store.kind, clock, logger, feed });
 */
export function createConfiguredSessionCache(options: {
  config: LatchkeyConfig;
  storeKind: string;
  clock: Clock;
  logger: Logger;
  feed: RevocationFeed | undefined;
}): SessionCache | null {
  const { config, storeKind, clock, logger, feed } = options;
  const processLocal = PROCESS_LOCAL_STORES.has(storeKind);
  const maxAge = config.sessionCache ?? AUTO_SESSION_CACHE_MS;
  if (maxAge <= 0) return null;
  if (feed === undefined && !processLocal) {
    logger.warn({ event: 'config.session_cache', store: storeKind }, noChannelWarning(storeKind));
    return null;
  }
  // With a channel, the cache starts bypassed and serves once the channel is live (caught up).
  return createSessionCache({ maxAge, clock, live: feed === undefined });
}

/** Why the cache stays off on a shared store: MySQL alone has no channel at all (no LISTEN/NOTIFY). */
function noChannelWarning(storeKind: string): string {
  if (storeKind === 'mysql') {
    return (
      'the session near cache is off: MySQL has no revocation channel (no LISTEN/NOTIFY), so ' +
      'every request reads the store; set REDIS_URL as well to carry revocations over Redis pub/sub'
    );
  }
  return 'the session near cache is off: this store is shared and no revocation channel is open';
}

/**
 * Keeps the cache right: revocations made here empty it before the request that made them
 * answers; those of other nodes arrive over `feed`, and while the feed is not live (connecting,
 * dropped, catching up after a reconnection) the cache is empty and bypassed.
 *
 * @example
 * connectSessionCache(cache, { revocations, feed, logger });
 */
export function connectSessionCache(
  cache: SessionCache,
  options: { revocations: RevocationRecorder; feed: RevocationFeed | undefined; logger: Logger },
): void {
  const { revocations, feed, logger } = options;
  revocations.onRevocation((record) => cache.apply(record));
  let everLive = false;
  feed?.start(
    (record) => {
      cache.apply(record);
      // At debug (no line at the default level): the metrics tap turns it into the feed's lag.
      logger.debug(
        { event: 'session_cache.record', kind: record.kind, lagMs: Date.now() - record.createdAt },
        'revocation delivered to the session cache',
      );
    },
    (state) => {
      const wasLive = cache.live;
      cache.setLive(state.status === 'live');
      if (state.status === 'live' && !wasLive) {
        logger.info(
          { event: 'session_cache.channel_up', reconnected: everLive },
          'revocation channel live: the session cache serves',
        );
        everLive = true;
      } else if (state.status !== 'live' && wasLive) {
        logger.warn(
          {
            event: 'session_cache.channel_down',
            reason: state.status === 'disconnected' ? state.reason : state.status,
          },
          'revocation channel down: the session cache is bypassed until it is back and caught up',
        );
      }
    },
  );
}
