/**
 * Issue 13, point 6: lockout without denial of service. Every attack goes through the HTTP
 * server (`app.inject`, each client at its own `remoteAddress`), with the manual clock for time.
 *
 * - Per account and source (address, IPv6 by /64), without a device cookie: 5 free failures,
 *   then a lock of 1 s, 2 s, 4 s, ... up to 1 h; counted over 24 h.
 * - Per account, without a device cookie: a ceiling of 100 failures in 24 h (all sources).
 * - Per device cookie: its own budget (the same backoff); no other lock applies to it.
 */

import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, PASSWORD, setCookies, signup, type TestApp } from '../helpers/app.js';

const ATTACKER = '203.0.113.66';
const OWNER = '198.51.100.7';
const HOUR = 3_600;
const DAY = 24 * HOUR;

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
  await signup(t.app, 'alice@example.com');
});
afterEach(async () => {
  await t.close();
});

function login(
  password: string,
  from: { ip: string; device?: string | undefined },
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: '/v1/login',
    payload: { email: 'alice@example.com', password },
    remoteAddress: from.ip,
    headers: from.device === undefined ? {} : { cookie: `__Host-latchkey_device=${from.device}` },
  });
}

/** Signs the owner in from `ip` and returns the device cookie that browser now holds. */
async function ownerDevice(ip = OWNER): Promise<string> {
  const response = await login(PASSWORD, { ip });
  expect(response.statusCode).toBe(200);
  return setCookies(response).get('__Host-latchkey_device')?.value ?? '';
}

function retryAfter(response: LightMyRequestResponse): number {
  expect(response.statusCode).toBe(429);
  const value = Number(response.headers['retry-after']);
  expect(value).toBeGreaterThan(0);
  return value;
}

function loginEvents(): Record<string, unknown>[] {
  return t.logs
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.event === 'throttle.login_failures');
}

/**
 * An attacker who guesses from `ip` as fast as the server lets him, for `seconds` of the clock:
 * every 429 is waited out exactly. Returns the guesses the server checked and the waits.
 */
async function hammer(ip: string, seconds: number): Promise<{ guesses: number; waits: number[] }> {
  const end = t.clock() + seconds * 1000;
  let guesses = 0;
  const waits: number[] = [];
  while (t.clock() < end) {
    const response = await login(`guess number ${guesses}!`, { ip });
    if (response.statusCode === 401) {
      guesses++;
      continue;
    }
    const wait = retryAfter(response);
    waits.push(wait);
    t.clock.advance(wait * 1000);
  }
  return { guesses, waits };
}

describe('per account and source', () => {
  it('an attacker at one address slows only himself; the owner gets in from elsewhere, with or without a device cookie', async () => {
    const device = await ownerDevice();
    for (let i = 0; i < 5; i++) expect((await login(`wrong ${i}!`, { ip: ATTACKER })).statusCode).toBe(401);
    const waits: number[] = [];
    for (let round = 0; round < 10; round++) {
      const blocked = await login(PASSWORD, { ip: ATTACKER });
      waits.push(retryAfter(blocked));
      // Meanwhile the owner, from another address, with or without the device cookie.
      expect((await login(PASSWORD, { ip: OWNER })).statusCode).toBe(200);
      expect((await login(PASSWORD, { ip: OWNER, device })).statusCode).toBe(200);
      // The owner's browser gets in even from the attacker's own address (a shared NAT).
      expect((await login(PASSWORD, { ip: ATTACKER, device })).statusCode).toBe(200);
      t.clock.advance((waits.at(-1) ?? 0) * 1000);
      expect((await login(`wrong again ${round}!`, { ip: ATTACKER })).statusCode).toBe(401);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
    // Without the device cookie, someone behind the attacker's address waits like him.
    retryAfter(await login(PASSWORD, { ip: ATTACKER }));
    expect(loginEvents()).toEqual([expect.objectContaining({ scope: 'source', ip: ATTACKER, level: 40 })]);
  });

  it('the backoff stops at 1 h: one address gets 16 guesses in the first hour, 39 in a day', async () => {
    const firstHour = await hammer(ATTACKER, HOUR);
    expect(firstHour.guesses).toBe(16);
    const rest = await hammer(ATTACKER, DAY - HOUR);
    expect(firstHour.guesses + rest.guesses).toBe(39);
    expect(Math.max(...rest.waits)).toBe(HOUR);
    // Far below the account ceiling: the owner, from another address and with no device
    // cookie, has never been refused.
    expect((await login(PASSWORD, { ip: OWNER })).statusCode).toBe(200);
  });

  it('an attacker moving through his IPv6 /64 is still one source', async () => {
    for (let i = 0; i < 5; i++) {
      const ip = `2001:db8:7:8:${(i + 1).toString(16)}::1`;
      expect((await login(`wrong ${i}!`, { ip })).statusCode).toBe(401);
    }
    retryAfter(await login('wrong again!', { ip: '2001:db8:7:8:abcd::99' }));
    expect((await login(PASSWORD, { ip: '2001:db8:7:9::1' })).statusCode).toBe(200);
  });
});

describe('the account ceiling and the device budget', () => {
  it('100 failures from 20 addresses close the account to new clients for the window; the owner’s device still gets in', async () => {
    const device = await ownerDevice();
    const attackers = Array.from({ length: 20 }, (_, i) => `203.0.113.${i + 1}`);
    for (const ip of attackers) {
      for (let i = 0; i < 5; i++) expect((await login(`guess ${ip} ${i}!`, { ip })).statusCode).toBe(401);
    }
    // A client without a device cookie, at an address that never failed, is refused.
    const closed = await login(PASSWORD, { ip: OWNER });
    const wait = retryAfter(closed);
    expect(wait).toBeGreaterThan(DAY - 60);
    expect(wait).toBeLessThanOrEqual(DAY);
    // The owner's browser gets in, from its own address or from an attacker's.
    expect((await login(PASSWORD, { ip: OWNER, device })).statusCode).toBe(200);
    expect((await login(PASSWORD, { ip: attackers[0] ?? '', device })).statusCode).toBe(200);
    expect(loginEvents().filter((entry) => entry.scope === 'account')).toHaveLength(1);
    // The window ends.
    t.clock.advance(wait * 1000);
    expect((await login(PASSWORD, { ip: OWNER })).statusCode).toBe(200);
  });

  it('a device holder’s failures count against its own budget, never the account’s', async () => {
    // The owner has 20 browsers; each one mistypes 5 times (100 failures in all).
    const devices: string[] = [];
    for (let i = 0; i < 20; i++) devices.push(await ownerDevice());
    for (const device of devices) {
      for (let i = 0; i < 5; i++)
        expect((await login(`typo ${i}!`, { ip: OWNER, device })).statusCode).toBe(401);
    }
    // Each browser waits for its own budget...
    expect(retryAfter(await login(PASSWORD, { ip: OWNER, device: devices[0] }))).toBe(1);
    // ...but neither the account ceiling nor the owner's address has counted them.
    expect((await login(PASSWORD, { ip: OWNER })).statusCode).toBe(200);
    expect((await login(PASSWORD, { ip: '192.0.2.1' })).statusCode).toBe(200);
    t.clock.advance(1000);
    expect((await login(PASSWORD, { ip: OWNER, device: devices[0] })).statusCode).toBe(200);
  });
});
