/**
 * The near session cache (`LATCHKEY_SESSION_CACHE`), wired: on where it cannot serve a stale
 * answer, fed by every local revocation and, on a shared store, by the revocation channel.
 */

import type { Clock } from '../clock.js';
import type { LatchkeyConfig } from '../config/config.js';
import type { Logger } from '../log.js';
import type { RevocationRecorder } from '../revocation/revocations.js';
import { createSessionCache, type SessionCache } from '../session/session-cache.js';
import type { RevocationFeed } from '../verify/feed.js';

/** Stores that only this process writes while it runs (the embedded ones: the data-directory lock). */
const PROCESS_LOCAL_STORES = new Set(['memory', 'sqlite', 'pglite']);
/** The near cache's max age when `LATCHKEY_SESSION_CACHE` is `auto` on a process-local store. */
export const AUTO_SESSION_CACHE_MS = 5_000;

/**
 * The cache the configuration asks for, or null when off. `auto` (null in the configuration):
 * on where every write goes through this process, so every revocation reaches the cache before
 * its response; off on a shared store unless a duration is set and a channel (`feed`) is open.
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
  const maxAge = config.sessionCache ?? (processLocal ? AUTO_SESSION_CACHE_MS : 0);
  if (maxAge <= 0) return null;
  const cache = createSessionCache({ maxAge, clock, live: feed === undefined && processLocal });
  if (feed === undefined && !cache.live) {
    logger.warn({ event: 'config.session_cache', store: storeKind }, noChannelWarning(storeKind));
  }
  return cache;
}

/** Why the cache stays off on a shared store: MySQL alone has no channel at all (no LISTEN/NOTIFY). */
function noChannelWarning(storeKind: string): string {
  if (storeKind === 'mysql') {
    return (
      'LATCHKEY_SESSION_CACHE is set but MySQL has no revocation channel (it has no LISTEN/NOTIFY): ' +
      'the cache stays off; set REDIS_URL as well to carry revocations over Redis pub/sub'
    );
  }
  return 'LATCHKEY_SESSION_CACHE is set but this store is shared and no revocation channel is open: the cache stays off';
}

/**
 * Keeps the cache right: revocations made here empty it before the request that made them
 * answers; those of other nodes arrive over `feed`, and while the feed is not live the cache is
 * bypassed.
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
  feed?.start(
    (record) => cache.apply(record),
    (state) => {
      cache.setLive(state.status === 'live');
      if (state.status === 'disconnected') {
        logger.warn(
          { event: 'session_cache.channel_down', reason: state.reason },
          'revocation channel down: the session cache is bypassed until it is back',
        );
      }
    },
  );
}
