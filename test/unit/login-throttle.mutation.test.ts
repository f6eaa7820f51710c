/**
 * The login throttle (`src/throttle/login-throttle.ts`) on its own, over the memory store's
 * counters, with its default numbers (`docs/security.md`, "What a user under attack
 * experiences"): what each scope counts, for how long, how a device cookie is recognised, and
 * the warning each lock logs. `test/http/lockout.test.ts` and `abuse.test.ts` attack the same
 * rules through login requests.
 */
import { Writable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import { LatchkeyError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import {
  createLoginThrottle,
  type LoginAttempt,
  type LoginThrottle,
  type LoginThrottleOptions,
} from '../../src/throttle/login-throttle.js';

const HOUR = 3_600_000;
const deviceKey = new Uint8Array(32).fill(3);

let clock: ManualClock;
let logs: Record<string, unknown>[];
let throttle: LoginThrottle;

function make(options: Partial<LoginThrottleOptions> = {}): LoginThrottle {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  return createLoginThrottle({
    counters: createMemoryStore(),
    clock,
    deviceKey,
    logger: createLogger({ level: 'info', destination }),
    ...options,
  });
}

beforeEach(() => {
  clock = createManualClock(Date.UTC(2026, 0, 1));
  logs = [];
  throttle = make();
});

const attempt = (email: string, ip: string, deviceCookie?: string): LoginAttempt => ({
  email,
  ip,
  deviceCookie,
});

/** The refusal of `check`, or undefined when the attempt may go ahead. */
async function refusal(
  login: LoginAttempt,
  on: LoginThrottle = throttle,
): Promise<LatchkeyError | undefined> {
  try {
    await on.check(login);
    return undefined;
  } catch (error) {
    if (!(error instanceof LatchkeyError)) throw error;
    return error;
  }
}

async function fail(times: number, login: (i: number) => LoginAttempt, on = throttle): Promise<void> {
  for (let i = 0; i < times; i++) await on.recordFailure(login(i));
}

const warnings = (scope: string): Record<string, unknown>[] =>
  logs.filter((line) => line.event === 'throttle.login_failures' && line.scope === scope);

describe('per account and source', () => {
  it('counts failures for 24 hours from the first: the fifth within them locks', async () => {
    await fail(4, () => attempt('alice@example.com', '203.0.113.7'));
    clock.advance(24 * HOUR - 1);
    await fail(1, () => attempt('alice@example.com', '203.0.113.7'));
    expect(await refusal(attempt('alice@example.com', '203.0.113.7'))).toMatchObject({
      code: 'too_many_requests',
      retryAfter: 1,
    });
    expect(warnings('source')).toHaveLength(1);
    expect(warnings('source')[0]?.msg).toMatch(/failed logins/);
  });

  it('forgets failures older than 24 hours', async () => {
    await fail(4, () => attempt('alice@example.com', '203.0.113.7'));
    clock.advance(24 * HOUR);
    await fail(1, () => attempt('alice@example.com', '203.0.113.7'));
    expect(await refusal(attempt('alice@example.com', '203.0.113.7'))).toBeUndefined();
  });
});

describe('the account ceiling', () => {
  it('closes one account after 100 failures from any addresses, and no other account', async () => {
    await fail(100, (i) => attempt('alice@example.com', `198.51.100.${i}`));
    expect(await refusal(attempt('alice@example.com', '192.0.2.1'))).toMatchObject({
      code: 'too_many_requests',
    });
    expect(await refusal(attempt('bob@example.com', '192.0.2.1'))).toBeUndefined();
    expect(await refusal(attempt('bob@example.com', '198.51.100.1'))).toBeUndefined();
    expect(warnings('account')).toHaveLength(1);
    expect(warnings('account')[0]?.msg).toMatch(/ceiling/);
  });
});

describe('per address, across accounts', () => {
  const failFrom = (ip: string, times: number, from = 0): Promise<void> =>
    fail(times, (i) => attempt(`user${from + i}@example.com`, ip));

  it('locks the address after 100 failures in a day for 1 min; each failure after a lock doubles it', async () => {
    await failFrom('203.0.113.7', 100);
    expect(await refusal(attempt('new@example.com', '203.0.113.7'))).toMatchObject({ retryAfter: 60 });
    let next = 100;
    for (const lock of [120, 240]) {
      clock.advance((lock / 2) * 1000);
      expect(await refusal(attempt('new@example.com', '203.0.113.7'))).toBeUndefined();
      await failFrom('203.0.113.7', 1, next++);
      expect(await refusal(attempt('new@example.com', '203.0.113.7'))).toMatchObject({ retryAfter: lock });
    }
    expect(warnings('ip')).toHaveLength(1);
    expect(warnings('ip')[0]).toMatchObject({ ip: '203.0.113.7' });
  });

  it('doubles a patient address up to an hour, and never more', async () => {
    const patient = make();
    await fail(100, (i) => attempt(`user${i}@example.com`, '203.0.113.7'), patient);
    const locks: number[] = [];
    for (let i = 0; i < 9; i++) {
      const lock = (await refusal(attempt('new@example.com', '203.0.113.7'), patient))?.retryAfter ?? 0;
      locks.push(lock);
      clock.advance(lock * 1000);
      await patient.recordFailure(attempt(`late${i}@example.com`, '203.0.113.7'));
    }
    expect(locks).toEqual([60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
  });

  it('locks only that address', async () => {
    await failFrom('203.0.113.7', 100);
    expect(await refusal(attempt('new@example.com', '203.0.113.7'))).toBeDefined();
    expect(await refusal(attempt('new@example.com', '203.0.113.8'))).toBeUndefined();
    await failFrom('203.0.113.8', 1, 200);
    expect(await refusal(attempt('new@example.com', '203.0.113.8'))).toBeUndefined();
  });

  it('forgets failures older than a day, and not before', async () => {
    await failFrom('203.0.113.7', 98);
    clock.advance(24 * HOUR - 1);
    await failFrom('203.0.113.7', 1, 98);
    expect(await refusal(attempt('new@example.com', '203.0.113.7'))).toBeUndefined();
    clock.advance(1);
    await failFrom('203.0.113.7', 1, 99);
    expect(await refusal(attempt('new@example.com', '203.0.113.7'))).toBeUndefined();
  });
});

describe('device cookies', () => {
  /** A device cookie for alice, and her source locked by 5 failures without it. */
  async function lockedOutWithDevice(): Promise<string> {
    const cookie = await throttle.recordSuccess(attempt('alice@example.com', '192.0.2.1'));
    await fail(5, () => attempt('alice@example.com', '203.0.113.7'));
    expect(await refusal(attempt('alice@example.com', '203.0.113.7'))).toBeDefined();
    return cookie;
  }

  it('a valid one skips the source lock; it works for its account only', async () => {
    const cookie = await lockedOutWithDevice();
    expect(await refusal(attempt('alice@example.com', '203.0.113.7', cookie))).toBeUndefined();
    await fail(5, () => attempt('bob@example.com', '203.0.113.7'));
    expect(await refusal(attempt('bob@example.com', '203.0.113.7', cookie))).toBeDefined();
  });

  it('a malformed one counts as none, and is never an error', async () => {
    const cookie = await lockedOutWithDevice();
    const [nonce = '', mac = ''] = cookie.split('.');
    for (const bad of ['', 'x', nonce, `${nonce}.`, `.${mac}`, `${cookie}.${mac}`, `${cookie}.`, 'a.b.c']) {
      const login = attempt('alice@example.com', '203.0.113.7', bad);
      expect(await refusal(login), JSON.stringify(bad)).toMatchObject({ code: 'too_many_requests' });
      await expect(throttle.recordFailure(login)).resolves.toBeUndefined();
    }
  });

  it('its failures lock only the device, which a success clears and keeps', async () => {
    const cookie = await throttle.recordSuccess(attempt('alice@example.com', '192.0.2.1'));
    const login = attempt('alice@example.com', '192.0.2.1', cookie);
    await fail(4, () => login);
    expect(await throttle.recordSuccess(login)).toBe(cookie);
    await fail(4, () => login);
    expect(await refusal(login)).toBeUndefined();
    await fail(1, () => login);
    expect(await refusal(login)).toMatchObject({ code: 'too_many_requests', retryAfter: 1 });
    expect(warnings('device')).toHaveLength(1);
    // The source without the cookie was never counted.
    expect(await refusal(attempt('alice@example.com', '192.0.2.1'))).toBeUndefined();
  });
});

describe('without a logger', () => {
  it('locks as usual, logging nothing', async () => {
    const quiet = createLoginThrottle({ counters: createMemoryStore(), clock, deviceKey });
    await fail(100, (i) => attempt('alice@example.com', `198.51.100.${i % 20}`), quiet);
    await fail(100, (i) => attempt(`user${i}@example.com`, '203.0.113.7'), quiet);
    expect(await refusal(attempt('alice@example.com', '192.0.2.1'), quiet)).toBeDefined();
    expect(await refusal(attempt('new@example.com', '203.0.113.7'), quiet)).toBeDefined();
  });
});
