import type * as Argon2 from '@node-rs/argon2';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPasswordHasher } from '../../src/password/hash.js';
import {
  cookieAttributes,
  createTestApp,
  FAST_HASHER_PARAMETERS,
  json,
  loginCookie,
  PASSWORD,
  setCookies,
  signup,
  type TestApp,
} from '../helpers/app.js';

/**
 * Every call of the real argon2 verification (`@node-rs/argon2`, which `src/password/hash.ts`
 * imports), with the hash it was given and how it ended. The calls still run: nothing is faked.
 */
const argon2 = vi.hoisted(() => ({
  verifications: [] as { hash: string; result?: boolean; error?: unknown }[],
}));
vi.mock('@node-rs/argon2', async (importOriginal) => {
  const actual = await importOriginal<typeof Argon2>();
  return {
    ...actual,
    async verify(...args: Parameters<typeof actual.verify>): Promise<boolean> {
      const hash = typeof args[0] === 'string' ? args[0] : Buffer.from(args[0]).toString('utf8');
      try {
        const result = await actual.verify(...args);
        argon2.verifications.push({ hash, result });
        return result;
      } catch (error) {
        argon2.verifications.push({ hash, error });
        throw error;
      }
    },
  };
});

/** The real verifications made since the last call. */
function takeVerifications(): { hash: string; result?: boolean; error?: unknown }[] {
  return argon2.verifications.splice(0);
}

/** What an argon2 PHC string says about the work it costs: algorithm, version, m, t, p, sizes. */
function workOf(hash: string): Record<string, unknown> {
  const match =
    /^\$(argon2(?:id|i|d))\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(hash);
  if (match === null) return { malformed: hash };
  return {
    algorithm: match[1],
    version: Number(match[2]),
    memoryCost: Number(match[3]),
    timeCost: Number(match[4]),
    parallelism: Number(match[5]),
    saltBytes: Buffer.from(match[6] ?? '', 'base64').length,
    hashBytes: Buffer.from(match[7] ?? '', 'base64').length,
  };
}

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
  await signup(t.app, 'alice@example.com');
});
afterEach(async () => {
  await t.close();
});

const login = (email: string, password: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: '/v1/login', payload: { email, password }, headers });

describe('account enumeration', () => {
  it('gives the same answer for an unknown email and a wrong password, after one real argon2 verification each', async () => {
    const alice = await t.store.getUserByEmail('alice@example.com');
    takeVerifications();
    const unknown = await login('nobody@example.com', 'some wrong password');
    const forUnknown = takeVerifications();
    const wrong = await login('alice@example.com', 'some wrong password');
    const forWrong = takeVerifications();
    expect(unknown.statusCode).toBe(401);
    expect(wrong.statusCode).toBe(401);
    expect(unknown.body).toBe(wrong.body);
    expect(unknown.headers['content-type']).toBe(wrong.headers['content-type']);
    expect(unknown.headers['set-cookie']).toBe(wrong.headers['set-cookie']);
    expect(json(unknown)).toMatchObject({ code: 'invalid_credentials' });

    // One verification each, which ran to the end (a valid hash, not a refused one)...
    expect(forUnknown).toEqual([{ hash: expect.any(String) as string, result: false }]);
    expect(forWrong).toEqual([{ hash: alice?.passwordHash, result: false }]);
    // ...of the same work: the configured argon2id parameters, for the unknown email too.
    const configured = {
      algorithm: 'argon2id',
      version: 19,
      ...FAST_HASHER_PARAMETERS,
      saltBytes: 16,
      hashBytes: 32,
    };
    expect(workOf(forWrong[0]?.hash ?? '')).toEqual(configured);
    expect(workOf(forUnknown[0]?.hash ?? '')).toEqual(configured);
    expect(forUnknown[0]?.hash).not.toBe(alice?.passwordHash);
  });

  it('the dummy verification is a real one against a valid hash of the hasher’s own parameters', async () => {
    const parameters = { memoryCost: 2048, timeCost: 2, parallelism: 1 };
    const hasher = createPasswordHasher(parameters);
    takeVerifications();
    await hasher.verifyDummy('first');
    await hasher.verifyDummy('second');
    const calls = takeVerifications();
    expect(calls).toEqual([
      { hash: expect.any(String) as string, result: false },
      { hash: calls[0]?.hash, result: false },
    ]);
    expect(workOf(calls[0]?.hash ?? '')).toEqual({
      algorithm: 'argon2id',
      version: 19,
      ...parameters,
      saltBytes: 16,
      hashBytes: 32,
    });
    expect(hasher.needsRehash(calls[0]?.hash ?? '')).toBe(false);
  });
});

describe('login throttling', () => {
  it('backs off an account from one address after 5 failures with a growing Retry-After, for unknown emails alike', async () => {
    for (const email of ['alice@example.com', 'ghost@example.com']) {
      const retries: number[] = [];
      for (let i = 0; i < 5; i++) expect((await login(email, 'wrong password!')).statusCode).toBe(401);
      for (let round = 0; round < 3; round++) {
        const blocked = await login(email, PASSWORD);
        expect(blocked.statusCode).toBe(429);
        expect(json(blocked)).toMatchObject({ code: 'too_many_requests' });
        const retry = Number(blocked.headers['retry-after']);
        retries.push(retry);
        t.clock.advance(retry * 1000);
        expect((await login(email, 'wrong password!')).statusCode).toBe(401);
      }
      expect(retries[1]).toBeGreaterThan(retries[0] ?? 0);
      expect(retries[2]).toBeGreaterThan(retries[1] ?? 0);
    }
  });

  it('blocks even the right password from that address during backoff, then lets it in', async () => {
    for (let i = 0; i < 5; i++) await login('alice@example.com', 'wrong password!');
    const blocked = await login('alice@example.com', PASSWORD);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.headers['set-cookie']).toBeUndefined();
    t.clock.advance(Number(blocked.headers['retry-after']) * 1000);
    expect((await login('alice@example.com', PASSWORD)).statusCode).toBe(200);
  });

  it('a known device keeps its own budget, even behind the attacker’s address', async () => {
    const owner = await loginCookie(t.app, 'alice@example.com');
    const deviceCookie = `__Host-latchkey_device=${owner.device}`;
    // An attacker at the owner's own address hammers the account (every request here comes from
    // 127.0.0.1; attackers at other addresses are in lockout.test.ts).
    for (let i = 0; i < 30; i++) await login('alice@example.com', `guess number ${i}!`);
    // Without the device cookie, the owner waits like anyone at that address.
    expect((await login('alice@example.com', PASSWORD)).statusCode).toBe(429);
    // The owner's browser, which logged in before, is not locked out.
    const ownerLogin = await login('alice@example.com', PASSWORD, { cookie: deviceCookie });
    expect(ownerLogin.statusCode).toBe(200);
    // A device cookie for another account, or a forged one, earns nothing.
    await signup(t.app, 'mallory@example.com');
    const mallory = await loginCookie(t.app, 'mallory@example.com');
    const stolen = await login('alice@example.com', PASSWORD, {
      cookie: `__Host-latchkey_device=${mallory.device}`,
    });
    expect(stolen.statusCode).toBe(429);
    const forged = await login('alice@example.com', PASSWORD, {
      cookie: `__Host-latchkey_device=${'A'.repeat(22)}.${'B'.repeat(43)}`,
    });
    expect(forged.statusCode).toBe(429);
    // The device's own budget is spent by its own failures: past 5 it waits too, for itself only.
    for (let i = 0; i < 5; i++) {
      expect((await login('alice@example.com', `typo ${i}!`, { cookie: deviceCookie })).statusCode).toBe(401);
    }
    const deviceLocked = await login('alice@example.com', PASSWORD, { cookie: deviceCookie });
    expect(deviceLocked.statusCode).toBe(429);
    expect(deviceLocked.headers['retry-after']).toBe('1');
    t.clock.advance(1_000);
    expect((await login('alice@example.com', PASSWORD, { cookie: deviceCookie })).statusCode).toBe(200);
  });

  it('blocks an IP that fails against many accounts', async () => {
    for (let i = 0; i < 100; i++) await login(`user${i}@example.com`, 'wrong password!');
    const blocked = await login('alice@example.com', PASSWORD);
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('issues a device cookie that is __Host- (Secure, Path=/, no Domain), HttpOnly and SameSite=Strict', async () => {
    const response = await login('alice@example.com', PASSWORD);
    const header = setCookies(response).get('__Host-latchkey_device')?.header ?? '';
    expect(cookieAttributes(header)).toEqual({
      path: ['/'],
      'max-age': ['31536000'],
      httponly: [''],
      secure: [''],
      samesite: ['Strict'],
    });
  });
});

describe('client IP and trusted proxies', () => {
  it('ignores X-Forwarded-For from an untrusted peer', async () => {
    const a = await loginCookie(t.app, 'alice@example.com', PASSWORD, { 'x-forwarded-for': '198.51.100.7' });
    const list = await t.app.inject({ method: 'GET', url: '/v1/sessions', headers: { cookie: a.cookie } });
    expect(json<{ sessions: { ip: string }[] }>(list).sessions[0]?.ip).toBe('127.0.0.1');
  });

  it('believes X-Forwarded-For from a configured trusted proxy', async () => {
    const trusted = await createTestApp({ config: { trustedProxies: ['127.0.0.1'] } });
    try {
      await signup(trusted.app, 'bob@example.com');
      const b = await loginCookie(trusted.app, 'bob@example.com', PASSWORD, {
        'x-forwarded-for': '198.51.100.7',
      });
      const list = await trusted.app.inject({
        method: 'GET',
        url: '/v1/sessions',
        headers: { cookie: b.cookie },
      });
      expect(json<{ sessions: { ip: string }[] }>(list).sessions[0]?.ip).toBe('198.51.100.7');
    } finally {
      await trusted.close();
    }
  });
});
