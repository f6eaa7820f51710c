import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPasswordHasher, type PasswordHasher } from '../../src/password/hash.js';
import {
  createTestApp,
  FAST_HASHER_PARAMETERS,
  json,
  loginCookie,
  PASSWORD,
  setCookies,
  signup,
  type TestApp,
} from '../helpers/app.js';

/** Counts argon2 verifications, so that both failure paths can be shown to do the same work. */
function countingHasher(): { hasher: PasswordHasher; verifications: () => number } {
  const inner = createPasswordHasher(FAST_HASHER_PARAMETERS);
  let count = 0;
  const hasher: PasswordHasher = {
    ...inner,
    async verify(hash, password) {
      count++;
      return inner.verify(hash, password);
    },
    async verifyDummy(password) {
      // The real dummy path: a full verification against a valid hash of the same parameters.
      count++;
      const hash = await inner.hash('dummy password for timing');
      await inner.verify(hash, password);
    },
  };
  return { hasher, verifications: () => count };
}

let t: TestApp;
let counting: ReturnType<typeof countingHasher>;
beforeEach(async () => {
  counting = countingHasher();
  t = await createTestApp({ hasher: counting.hasher });
  await signup(t.app, 'alice@example.com');
});
afterEach(async () => {
  await t.close();
});

const login = (email: string, password: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: '/v1/login', payload: { email, password }, headers });

describe('account enumeration', () => {
  it('gives the same status, headers and body for an unknown email and a wrong password, after the same work', async () => {
    const before = counting.verifications();
    const unknown = await login('nobody@example.com', 'some wrong password');
    const afterUnknown = counting.verifications();
    const wrong = await login('alice@example.com', 'some wrong password');
    const afterWrong = counting.verifications();
    expect(unknown.statusCode).toBe(401);
    expect(wrong.statusCode).toBe(401);
    expect(unknown.body).toBe(wrong.body);
    expect(unknown.headers['content-type']).toBe(wrong.headers['content-type']);
    expect(unknown.headers['set-cookie']).toBe(wrong.headers['set-cookie']);
    expect(afterUnknown - before).toBe(1);
    expect(afterWrong - afterUnknown).toBe(1);
    expect(json(unknown)).toMatchObject({ code: 'invalid_credentials' });
  });

  it('the real dummy hash is a valid argon2id hash of the same parameters', async () => {
    const hasher = createPasswordHasher(FAST_HASHER_PARAMETERS);
    const started = performance.now();
    await hasher.verifyDummy('x');
    expect(performance.now() - started).toBeGreaterThan(0);
    // needsRehash on our own parameters is false: the dummy costs what a real verification costs.
    expect(hasher.needsRehash(await hasher.hash('anything at all'))).toBe(false);
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
  });

  it('blocks an IP that fails against many accounts', async () => {
    for (let i = 0; i < 100; i++) await login(`user${i}@example.com`, 'wrong password!');
    const blocked = await login('alice@example.com', PASSWORD);
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('issues a device cookie that is __Host-, HttpOnly and SameSite=Strict', async () => {
    const response = await login('alice@example.com', PASSWORD);
    const header = setCookies(response).get('__Host-latchkey_device')?.header ?? '';
    expect(header).toMatch(/HttpOnly/);
    expect(header).toMatch(/Secure/);
    expect(header).toMatch(/SameSite=Strict/);
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
