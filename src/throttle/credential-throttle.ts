import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { CounterStore } from '../store.js';
import { clientKey } from './client-key.js';
import { tooManyRequests } from './retry.js';

/**
 * The throttles of the credentials a client presents once logged in, counted in the store's
 * counters (atomic, shared by every node, each with its expiry: nothing per client stays in
 * process memory). Each is a fixed window: the first count starts it, and past the limit the
 * attempts it covers answer `too_many_requests` with `Retry-After` until the window ends.
 *
 * - Failed authentications per client (guessing): a session cookie, an access token (Bearer or
 *   hybrid cookie) or a refresh token that we never issued: malformed, unknown, a wrong secret,
 *   a bad signature. Only failures are counted, after the credential was checked, so a valid
 *   credential from a throttled client still works, and a successful request costs nothing
 *   more. Credentials we did issue that have expired or were revoked are not guesses and do not
 *   count: a busy NAT full of expired access tokens must keep getting the 401 that makes its
 *   clients refresh.
 * - Refresh floods, per client and per token family (the session): every refresh counts.
 *
 * A client is its address, an IPv6 address by its /64 ({@link clientKey}).
 */
export interface CredentialLimits {
  /** Failed authentications a client may make per `failureWindow`. */
  failures: number;
  failureWindow: number;
  /** Refreshes a client may make per `clientRefreshWindow` (all its sessions together); 0 = no limit. */
  clientRefreshes: number;
  clientRefreshWindow: number;
  /** Refreshes of one token family (session) per `familyRefreshWindow`; 0 = no limit. */
  familyRefreshes: number;
  familyRefreshWindow: number;
}

/**
 * Why these numbers:
 * - 100 failures per 10 min: a real client fails with a credential we never issued only when
 *   something is broken (a cookie from a wiped store, a token signed by a retired key), a few
 *   times before it signs in again; 100 leaves room for a NAT full of such clients, and stops a
 *   guessing loop within seconds. (Guessing cannot succeed anyway: the secrets are 256-bit and
 *   the tokens signed; the limit is about the noise and the cost of the reads.)
 * - 600 refreshes per minute per client (`LATCHKEY_REFRESH_LIMIT_IP`): an SPA refreshes once
 *   per access-token lifetime (15 min by default), so one address can hold about 9,000 such
 *   sessions (a large office behind one NAT) before it is throttled; a loop over many sessions
 *   from one host is held to 10 per second. A backend-for-frontend that refreshes for all its
 *   users from one address raises it.
 * - 100 refreshes per 10 min per family (`LATCHKEY_REFRESH_LIMIT_SESSION`): one refresh per tab
 *   per access-token lifetime, and a burst when a browser restores its tabs, leave a session far
 *   below it; a refresh loop hits it within seconds and is then held to 100 per 10 min.
 */
export const DEFAULT_CREDENTIAL_LIMITS: CredentialLimits = {
  failures: 100,
  failureWindow: 10 * 60_000,
  clientRefreshes: 600,
  clientRefreshWindow: 60_000,
  familyRefreshes: 100,
  familyRefreshWindow: 10 * 60_000,
};

export interface CredentialThrottle {
  /**
   * Counts a credential of `ip` that failed as a guess fails. Throws `too_many_requests` past
   * the limit; returns otherwise (the caller then throws its own refusal).
   */
  failed(ip: string): Promise<void>;
  /** Counts a refresh from `ip`; throws `too_many_requests` past the limit. */
  refreshByClient(ip: string): Promise<void>;
  /** Counts a refresh of the family (session) `sessionId`; throws `too_many_requests` past the limit. */
  refreshOfFamily(sessionId: string, ip: string): Promise<void>;
}

export interface CredentialThrottleOptions {
  counters: CounterStore;
  clock: Clock;
  logger: Logger;
  limits?: Partial<CredentialLimits>;
}

/**
 * @example
 * const throttle = createCredentialThrottle({ counters: store, clock, logger });
 * await throttle.failed(request.ip); // then throw the 401
 */
export function createCredentialThrottle(options: CredentialThrottleOptions): CredentialThrottle {
  const { counters, clock, logger } = options;
  const limits = { ...DEFAULT_CREDENTIAL_LIMITS, ...options.limits };

  /** One count; the attempt that first goes past the limit logs the event (once per window). */
  async function count(
    key: string,
    limit: number,
    window: number,
    log: { event: string; fields: Record<string, unknown>; message: string },
  ): Promise<void> {
    if (limit <= 0) return; // no limit: not even counted
    const now = clock();
    const counted = await counters.increment(key, window, now);
    if (counted.count <= limit) return;
    if (counted.count === limit + 1) {
      logger.warn({ event: log.event, ...log.fields, limit, windowSeconds: window / 1000 }, log.message);
    }
    throw tooManyRequests(counted.expiresAt, now);
  }

  return {
    failed: (ip) =>
      count(`auth:fail:${clientKey(ip)}`, limits.failures, limits.failureWindow, {
        event: 'throttle.auth_failures',
        fields: { ip },
        message: 'too many failed authentications: client throttled',
      }),

    refreshByClient: (ip) =>
      count(`refresh:ip:${clientKey(ip)}`, limits.clientRefreshes, limits.clientRefreshWindow, {
        event: 'throttle.refresh_flood',
        fields: { scope: 'client', ip },
        message: 'too many refreshes from one client: throttled',
      }),

    refreshOfFamily: (sessionId, ip) =>
      count(`refresh:family:${sessionId}`, limits.familyRefreshes, limits.familyRefreshWindow, {
        event: 'throttle.refresh_flood',
        fields: { scope: 'family', sessionId, ip },
        message: 'too many refreshes of one session: throttled',
      }),
  };
}
