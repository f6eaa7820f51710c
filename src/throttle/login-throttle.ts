import type { Clock } from '../clock.js';
import { constantTimeEqual, hmacSha256, randomSecret, sha256 } from '../lib/secrets.js';
import type { Logger } from '../log.js';
import type { CounterValue } from '../records.js';
import type { CounterStore } from '../store.js';
import { clientKey } from './client-key.js';
import { tooManyRequests } from './retry.js';

/**
 * Login throttling that slows guessing without letting a third party lock out the real user.
 *
 * - Per account *and source* (client address, an IPv6 one by its /64), for clients without a
 *   device cookie of the account: `freeAttempts` failures, then each further failure locks that
 *   pair for a doubling time (1 s, 2 s, 4 s, ... up to `maxBackoff`). An attacker slows only
 *   himself: the owner, from any other address, is not touched.
 * - Per account, a ceiling: `accountCeiling` failures from clients without a device cookie (all
 *   sources together) in `accountWindow` close the account to those clients until the window
 *   ends. The per-source backoff keeps one source far below it (see the numbers below).
 * - Per device: a client that logged in to this account before holds a signed device cookie
 *   (OWASP "device cookies"); its attempts count against its own budget (the same backoff),
 *   never against the account's, and no source, address or ceiling lock applies to it. So even
 *   an attack that reaches the ceiling does not shut out the owner's browser.
 * - Per address, across accounts (credential stuffing): `ipLimit` failures in `ipWindow` lock
 *   the address (not its device-cookie holders) for 1 min, doubling, up to 1 h.
 *
 * Every count lives in the store's counters (atomic, shared between nodes, expiring). Keys are
 * derived from the normalized email whether or not an account exists, so the throttle does not
 * reveal which emails are registered.
 * @see https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies
 * @see https://pages.nist.gov/800-63-3/sp800-63b.html#throttle (at most 100 failures per account)
 */
export interface LoginThrottleOptions {
  counters: CounterStore;
  clock: Clock;
  /** Key for device cookies (derived from the master secret). */
  deviceKey: Uint8Array;
  /** Gets one `throttle.login_failures` warning when a lock starts. */
  logger?: Logger | undefined;
  /** Failures per (account, source) or per device before backoff starts. Default 5. */
  freeAttempts?: number;
  /** Counting window of a source's and a device's failures. Default 24 h. */
  window?: number;
  /** Longest backoff of a source or a device. Default 1 h. */
  maxBackoff?: number;
  /** Failures per account (clients without a device cookie) that close it. Default 100. */
  accountCeiling?: number;
  /** Counting window of the account ceiling. Default 24 h. */
  accountWindow?: number;
  /** Failures per address (any account) before the address is locked. Default 100. */
  ipLimit?: number;
  /**
   * Counting window of an address's failures. Default 24 h: longer than the doubling locks take to
   * reach their 1-h cap (63 min), so a patient address reaches it instead of starting over.
   */
  ipWindow?: number;
}

export interface LoginAttempt {
  email: string;
  ip: string;
  /** The raw device cookie, if the client sent one. */
  deviceCookie: string | undefined;
}

export interface LoginThrottle {
  /** Throws `too_many_requests` (with retryAfter) when this attempt must wait. */
  check(attempt: LoginAttempt): Promise<void>;
  recordFailure(attempt: LoginAttempt): Promise<void>;
  /** Clears the device budget and returns a fresh device cookie value for this account. */
  recordSuccess(attempt: LoginAttempt): Promise<string>;
}

interface Scope {
  name: 'source' | 'device' | 'ip';
  counter: string;
  lock: string;
}

const HOUR = 3_600_000;
/** The first lock of an address that failed against many accounts, doubling from there. */
const IP_FIRST_LOCK = 60_000;
const IP_MAX_LOCK = HOUR;

const emailKey = (email: string): string => sha256(`email:${email}`).slice(0, 22);
const accountCounter = (email: string): string => `login:acct:${emailKey(email)}`;
const deviceMac = (deviceKey: Uint8Array, email: string, nonce: string): string =>
  hmacSha256(deviceKey, `device:${emailKey(email)}:${nonce}`);

/** A device cookie is `nonce.mac`, the MAC binding it to one account; its nonce when it is valid. */
function deviceNonce(deviceKey: Uint8Array, email: string, cookie: string | undefined): string | null {
  if (cookie === undefined || cookie.length > 128) return null;
  const [nonce, mac, extra] = cookie.split('.');
  if (nonce === undefined || mac === undefined || extra !== undefined || !/^[A-Za-z0-9_-]{22}$/.test(nonce)) {
    return null;
  }
  return constantTimeEqual(deviceMac(deviceKey, email, nonce), mac) ? nonce : null;
}

const deviceScope = (nonce: string): Scope => ({
  name: 'device',
  counter: `login:dev:${nonce}`,
  lock: `login:devlock:${nonce}`,
});

function sourceScope(attempt: LoginAttempt): Scope {
  const key = `${emailKey(attempt.email)}:${clientKey(attempt.ip)}`;
  return { name: 'source', counter: `login:src:${key}`, lock: `login:srclock:${key}` };
}

function ipScope(ip: string): Scope {
  const key = clientKey(ip);
  return { name: 'ip', counter: `login:ip:${key}`, lock: `login:iplock:${key}` };
}

/** Throws for the longest of the live locks (the client must wait for all of them). */
function assertOpen(locks: (CounterValue | null)[], now: number): void {
  const until = Math.max(...locks.map((lock) => lock?.expiresAt ?? 0));
  if (until > now) throw tooManyRequests(until, now);
}

export function createLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  const { counters, clock, deviceKey, logger } = options;
  const freeAttempts = options.freeAttempts ?? 5;
  const window = options.window ?? 24 * HOUR;
  const maxBackoff = options.maxBackoff ?? HOUR;
  const accountCeiling = options.accountCeiling ?? 100;
  const accountWindow = options.accountWindow ?? 24 * HOUR;
  const ipLimit = options.ipLimit ?? 100;
  const ipWindow = options.ipWindow ?? 24 * HOUR;

  /** Counts a failure in `scope` and, past its free attempts, locks it for `backoff(count)`. */
  async function countFailure(
    scope: Scope,
    attempt: LoginAttempt,
    rule: { window: number; free: number; backoff: (excess: number) => number },
    now: number,
  ): Promise<void> {
    const { count } = await counters.increment(scope.counter, rule.window, now);
    if (count < rule.free) return;
    await counters.increment(scope.lock, rule.backoff(count - rule.free), now);
    if (count === rule.free) {
      logger?.warn(
        { event: 'throttle.login_failures', scope: scope.name, ip: attempt.ip },
        'too many failed logins: throttled',
      );
    }
  }

  /** 1 s after the free attempts, doubling with each further failure, up to `maxBackoff`. */
  const budget = {
    window,
    free: freeAttempts,
    backoff: (excess: number) => Math.min(maxBackoff, 1000 * 2 ** Math.min(30, excess)),
  };
  const addressRule = {
    window: ipWindow,
    free: ipLimit,
    backoff: (excess: number) => Math.min(IP_MAX_LOCK, IP_FIRST_LOCK * 2 ** Math.min(20, excess)),
  };

  async function countAccount(attempt: LoginAttempt, now: number): Promise<void> {
    const { count } = await counters.increment(accountCounter(attempt.email), accountWindow, now);
    if (count === accountCeiling) {
      logger?.warn(
        { event: 'throttle.login_failures', scope: 'account', ip: attempt.ip },
        'account failure ceiling reached: closed to clients without a device cookie',
      );
    }
  }

  return {
    async check(attempt) {
      const now = clock();
      const nonce = deviceNonce(deviceKey, attempt.email, attempt.deviceCookie);
      if (nonce !== null) {
        assertOpen([await counters.getCounter(deviceScope(nonce).lock, now)], now);
        return;
      }
      const [source, address, account] = await Promise.all([
        counters.getCounter(sourceScope(attempt).lock, now),
        counters.getCounter(ipScope(attempt.ip).lock, now),
        counters.getCounter(accountCounter(attempt.email), now),
      ]);
      assertOpen(
        [source, address, account !== null && account.count >= accountCeiling ? account : null],
        now,
      );
    },

    async recordFailure(attempt) {
      const now = clock();
      const nonce = deviceNonce(deviceKey, attempt.email, attempt.deviceCookie);
      if (nonce !== null) {
        await countFailure(deviceScope(nonce), attempt, budget, now);
        return;
      }
      await Promise.all([
        countFailure(sourceScope(attempt), attempt, budget, now),
        countFailure(ipScope(attempt.ip), attempt, addressRule, now),
        countAccount(attempt, now),
      ]);
    },

    async recordSuccess(attempt) {
      const nonce = deviceNonce(deviceKey, attempt.email, attempt.deviceCookie);
      if (nonce !== null) {
        await counters.deleteCounter(deviceScope(nonce).counter);
        return attempt.deviceCookie ?? '';
      }
      const fresh = randomSecret(16);
      return `${fresh}.${deviceMac(deviceKey, attempt.email, fresh)}`;
    },
  };
}
