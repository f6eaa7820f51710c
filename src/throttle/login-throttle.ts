import type { Clock } from '../clock.js';
import { LatchkeyError } from '../errors.js';
import { constantTimeEqual, hmacSha256, randomSecret, sha256 } from '../lib/secrets.js';
import type { CounterStore } from '../store.js';

/**
 * Login throttling that slows guessing without letting a third party lock out the real user.
 *
 * - Per client IP: many failures in a window block that IP for a growing time.
 * - Per account, for clients the account does not know: after a few failures, each further
 *   failure doubles a wait (1 s, 2 s, 4 s, ... up to 15 min) before the next attempt.
 * - Per device: a client that logged in to this account before holds a signed device cookie
 *   (OWASP "device cookies"); its attempts count against its own budget, not the account's,
 *   so an attacker hammering the account cannot shut out the owner's browser.
 *
 * Keys are derived from the normalized email whether or not an account exists, so the
 * throttle itself does not reveal which emails are registered.
 * @see https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies
 */
export interface LoginThrottleOptions {
  counters: CounterStore;
  clock: Clock;
  /** Key for device cookies (derived from the master secret). */
  deviceKey: Uint8Array;
  /** Failures per account (untrusted clients) or per device before backoff starts. Default 5. */
  freeAttempts?: number;
  /** Failures per IP in `window` before the IP is blocked. Default 100. */
  ipLimit?: number;
  /** Counting window. Default 1 h. */
  window?: number;
  /** Longest backoff. Default 15 min. */
  maxBackoff?: number;
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
  counter: string;
  lock: string;
}

export function createLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  const { counters, clock, deviceKey } = options;
  const freeAttempts = options.freeAttempts ?? 5;
  const ipLimit = options.ipLimit ?? 100;
  const window = options.window ?? 3_600_000;
  const maxBackoff = options.maxBackoff ?? 15 * 60_000;

  const emailKey = (email: string): string => sha256(`email:${email}`).slice(0, 22);

  /** A device cookie is `nonce.mac`, the MAC binding it to one account. */
  function deviceNonce(email: string, cookie: string | undefined): string | null {
    if (cookie === undefined || cookie.length > 128) return null;
    const [nonce, mac, extra] = cookie.split('.');
    if (
      nonce === undefined ||
      mac === undefined ||
      extra !== undefined ||
      !/^[A-Za-z0-9_-]{22}$/.test(nonce)
    ) {
      return null;
    }
    return constantTimeEqual(hmacSha256(deviceKey, `device:${emailKey(email)}:${nonce}`), mac) ? nonce : null;
  }

  function accountScope(attempt: LoginAttempt): Scope {
    const nonce = deviceNonce(attempt.email, attempt.deviceCookie);
    if (nonce !== null) return { counter: `login:dev:${nonce}`, lock: `login:devlock:${nonce}` };
    const key = emailKey(attempt.email);
    return { counter: `login:acct:${key}`, lock: `login:acctlock:${key}` };
  }

  const ipScope = (ip: string): Scope => ({ counter: `login:ip:${ip}`, lock: `login:iplock:${ip}` });

  async function assertUnlocked(lockKey: string, now: number): Promise<void> {
    const lock = await counters.getCounter(lockKey, now);
    if (lock !== null) {
      throw new LatchkeyError('too_many_requests', undefined, {
        retryAfter: Math.max(1, Math.ceil((lock.expiresAt - now) / 1000)),
      });
    }
  }

  return {
    async check(attempt) {
      const now = clock();
      const hasDevice = deviceNonce(attempt.email, attempt.deviceCookie) !== null;
      if (!hasDevice) await assertUnlocked(ipScope(attempt.ip).lock, now);
      await assertUnlocked(accountScope(attempt).lock, now);
    },

    async recordFailure(attempt) {
      const now = clock();
      const scope = accountScope(attempt);
      const { count } = await counters.increment(scope.counter, window, now);
      if (count >= freeAttempts) {
        const backoff = Math.min(maxBackoff, 1000 * 2 ** Math.min(30, count - freeAttempts));
        await counters.increment(scope.lock, backoff, now);
      }
      if (deviceNonce(attempt.email, attempt.deviceCookie) === null) {
        const ip = ipScope(attempt.ip);
        const ipCount = (await counters.increment(ip.counter, window, now)).count;
        if (ipCount >= ipLimit) {
          const backoff = Math.min(maxBackoff * 4, 60_000 * 2 ** Math.min(20, ipCount - ipLimit));
          await counters.increment(ip.lock, backoff, now);
        }
      }
    },

    async recordSuccess(attempt) {
      const nonce = deviceNonce(attempt.email, attempt.deviceCookie);
      if (nonce !== null) {
        await counters.deleteCounter(`login:dev:${nonce}`);
        return attempt.deviceCookie ?? '';
      }
      const fresh = randomSecret(16);
      return `${fresh}.${hmacSha256(deviceKey, `device:${emailKey(attempt.email)}:${fresh}`)}`;
    },
  };
}
