/**
 * The revocation side of the verifier: the in-memory `RevocationList` the feed fills, where the
 * feed stands, the staleness rule, and the check of a verified token against the list.
 *
 * The transport only delivers records and says whether it is up to date (`feed.ts`); this
 * module owns the list, decides when the feed is stale and, with `onStale: 'fail-closed'`,
 * refuses rather than miss a revocation.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7009 OAuth 2.0 Token Revocation
 */

import type { Clock } from '../clock.js';
import { LatchkeyError } from '../errors.js';
import type { RevocationRecord } from '../records.js';
import { createRevocationList, type RevocationMatch } from '../revocation/revocation-list.js';
import type { VerifiedAccessTokenClaims } from '../token/jwt.js';
import type { RevocationFeed, RevocationFeedState } from './feed.js';
import type { IntrospectionCache } from './introspection.js';
import type { VerifierHealth } from './verifier-types.js';

const PRUNE_INTERVAL = 60_000;

const REVOKED: Record<RevocationMatch, string> = {
  session: 'The session has been revoked',
  user: "The user's sessions have been revoked",
  token: 'The token has been revoked',
};

/**
 * What `createRevocationTracker` reads: the feed (or `false`), the clock, and the staleness
 * rule, all checked by `readVerifierOptions`.
 *
 * @example
 * const options: RevocationTrackerOptions = {
 *   revocation: feed,
 *   clock,
 *   maxStaleness: 30_000,
 *   onStale: 'fail-closed',
 *   introspection: null,
 * };
 * @see https://www.rfc-editor.org/rfc/rfc7009
 */
export interface RevocationTrackerOptions {
  readonly revocation: RevocationFeed | false;
  readonly clock: Clock;
  readonly maxStaleness: number;
  readonly onStale: 'fail-closed' | 'allow';
  /** Told of every record, so that it drops the introspection answers the record makes wrong. */
  readonly introspection: Pick<IntrospectionCache, 'revoke'> | null;
}

/**
 * The revocation state of one verifier. After `close()`, records and states from the feed are
 * ignored.
 *
 * @example
 * tracker.check(verified.claims, clock()); // throws when revoked, or when stale and fail-closed
 * @see https://www.rfc-editor.org/rfc/rfc7009
 */
export interface RevocationTracker {
  /** Waiters of `ready()`: woken, and forgotten, when the feed goes live. */
  readonly liveWaiters: Set<() => void>;
  /** True without a feed, or while the feed is live: `ready()` need not wait for it. */
  isLive(): boolean;
  /** True when the feed has been down longer than `maxStaleness` (or never caught up). */
  isStale(now: number): boolean;
  /**
   * Throws `store_unavailable` (503) when stale and `fail-closed`, `invalid_token` when the list
   * revokes the token; prunes the list once a minute. Only called with a feed.
   */
  check(claims: VerifiedAccessTokenClaims, now: number): void;
  health(now: number): VerifierHealth['revocation'];
  close(): void;
}

/**
 * Creates the revocation state and starts the feed (unless `revocation` is `false`).
 *
 * @example
 * const tracker = createRevocationTracker({ ...options, revocation: createSSERevocationFeed({ url }) });
 * @see https://www.rfc-editor.org/rfc/rfc7009
 */
export function createRevocationTracker(options: RevocationTrackerOptions): RevocationTracker {
  const { revocation, clock, maxStaleness, onStale, introspection } = options;
  const list = createRevocationList();
  let status: RevocationFeedState['status'] | 'disabled' = revocation === false ? 'disabled' : 'connecting';
  /** The last moment the feed was known to be live; null before it first caught up. */
  let lastLiveAt: number | null = null;
  let lastContactAt: number | null = null;
  let lastEventAt: number | null = null;
  let lastFeedError: string | null = null;
  let lastPrune = clock();
  let closed = false;
  const liveWaiters = new Set<() => void>();

  if (revocation !== false) {
    revocation.start(
      (record: RevocationRecord) => {
        if (closed) return;
        list.apply(record);
        introspection?.revoke(record);
        const now = clock();
        lastEventAt = now;
        lastContactAt = now;
      },
      (state: RevocationFeedState) => {
        if (closed) return;
        const now = clock();
        if (state.status === 'live') {
          lastLiveAt = now;
          lastContactAt = now;
          for (const wake of liveWaiters) wake();
          liveWaiters.clear();
        } else if (status === 'live') {
          // It was live until now: staleness counts from here.
          lastLiveAt = now;
        }
        if (state.status === 'disconnected') lastFeedError = state.reason;
        status = state.status;
      },
    );
  }

  function isStale(now: number): boolean {
    if (revocation === false || status === 'live') return false;
    return lastLiveAt === null || now - lastLiveAt > maxStaleness;
  }

  return {
    liveWaiters,
    isLive(): boolean {
      return revocation === false || status === 'live';
    },
    isStale,
    check(claims: VerifiedAccessTokenClaims, now: number): void {
      if (isStale(now) && onStale === 'fail-closed') {
        throw new LatchkeyError('store_unavailable', 'The revocation feed is stale', { retryAfter: 1 });
      }
      if (now - lastPrune >= PRUNE_INTERVAL) {
        lastPrune = now;
        list.prune(now);
      }
      const match = list.isRevoked({ sid: claims.sid, sub: claims.sub, iat: claims.iat, jti: claims.jti });
      if (match !== null)
        throw new LatchkeyError('invalid_token', REVOKED[match], { detail: REVOKED[match] });
    },
    health(now: number): VerifierHealth['revocation'] {
      return {
        enabled: revocation !== false,
        connected: status === 'live',
        status,
        lastEventAt,
        lag: lastContactAt === null ? null : now - lastContactAt,
        stale: isStale(now),
        lastSeq: list.lastSeq,
        entries: list.size,
        lastError: lastFeedError,
      };
    },
    close(): void {
      closed = true;
      liveWaiters.clear();
    },
  };
}
