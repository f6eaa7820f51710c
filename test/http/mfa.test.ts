/**
 * Second factors through the HTTP API: TOTP set up from a session, login that asks for the
 * second factor, recovery codes, and the attacks on each rule. Codes come from an independent
 * implementation (otpauth) fed the secret the server handed out, at the server's (manual) clock.
 */
import * as OTPAuth from 'otpauth';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, json, PASSWORD, setCookies, signup, type TestApp } from '../helpers/app.js';
import { describeEachStore, probeStores } from '../helpers/stores.js';

const stores = await probeStores();

interface Signed {
  access_token?: string;
  refresh_token?: string;
  csrf_token?: string;
  session: { id: string };
  recovery_codes?: string[];
}

let t: TestApp;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function post(
  url: string,
  payload: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, headers });
}

async function loginToken(email = 'alice@example.com'): Promise<LightMyRequestResponse> {
  return post('/v1/login', { email, password: PASSWORD, mode: 'token' });
}

/** Sets up TOTP for `email` from a token session; returns the app's TOTP and what confirm answered. */
async function enrol(
  email = 'alice@example.com',
): Promise<{ totp: OTPAuth.TOTP; confirmed: Signed; factorId: string }> {
  const session = json<Signed>(await loginToken(email));
  const started = await post('/v1/mfa/totp', { label: 'Phone' }, bearer(session.access_token ?? ''));
  expect(started.statusCode).toBe(201);
  const body = json<{ factor: { id: string; confirmed: boolean }; secret: string; otpauth_uri: string }>(
    started,
  );
  expect(body.factor.confirmed).toBe(false);
  const totp = OTPAuth.URI.parse(body.otpauth_uri) as OTPAuth.TOTP;
  expect(totp.secret.base32).toBe(body.secret);
  const confirm = await post(
    '/v1/mfa/totp/confirm',
    { factor_id: body.factor.id, code: totp.generate({ timestamp: t.clock() }) },
    bearer(session.access_token ?? ''),
  );
  expect(confirm.statusCode).toBe(200);
  return { totp, confirmed: json<Signed>(confirm), factorId: body.factor.id };
}

/** A login that must answer `mfa_required`; returns its challenge. */
async function challenge(email = 'alice@example.com', mode = 'token'): Promise<string> {
  const answer = await post('/v1/login', { email, password: PASSWORD, mode });
  expect(answer.statusCode).toBe(401);
  const problem = json<{ code: string; challenge: string; methods: string[] }>(answer);
  expect(problem.code).toBe('mfa_required');
  expect(problem.methods).toEqual(['totp', 'recovery_code']);
  expect(answer.headers['set-cookie']).toBeUndefined();
  return problem.challenge;
}

/** The next step's code: each code is accepted once, so every login waits for a fresh step. */
function nextCode(totp: OTPAuth.TOTP): string {
  t.clock.advance(30_000);
  return totp.generate({ timestamp: t.clock() });
}

beforeEach(async () => {
  t = await createTestApp();
  await signup(t.app, 'alice@example.com');
  await signup(t.app, 'bob@example.com');
});
afterEach(async () => {
  await t.close();
});

describe('setting up TOTP', () => {
  it('confirms with a first code, returns 10 recovery codes once, and renews the session', async () => {
    const before = json<Signed>(await loginToken());
    const { confirmed } = await enrol();
    expect(confirmed.recovery_codes).toHaveLength(10);
    expect(confirmed.access_token).toBeDefined();
    // Every other session (the enrolling one was renewed, the one before it revoked) is out.
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(before.access_token ?? '') }))
        .statusCode,
    ).toBe(401);
    const me = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: bearer(confirmed.access_token ?? ''),
    });
    expect(me.statusCode).toBe(200);
    const list = await t.app.inject({
      method: 'GET',
      url: '/v1/mfa',
      headers: bearer(confirmed.access_token ?? ''),
    });
    const factors = json<{ factors: Record<string, unknown>[] }>(list).factors;
    expect(factors).toHaveLength(1);
    expect(factors[0]).toMatchObject({ kind: 'totp', label: 'Phone', confirmed: true });
    expect(JSON.stringify(factors)).not.toMatch(/secret|v1\./);
  });

  it('keeps the secret sealed in the store, never in the clear', async () => {
    const { totp } = await enrol();
    const user = await t.store.getUserByEmail('alice@example.com');
    const [factor] = await t.store.listFactors(user?.id ?? '');
    expect(factor?.secret).toMatch(/^v1\./);
    expect(factor?.secret).not.toContain(totp.secret.base32);
    expect(Buffer.from(factor?.secret ?? '').includes(Buffer.from(totp.secret.bytes))).toBe(false);
  });

  it('refuses a wrong first code and leaves the factor pending (login asks no second factor)', async () => {
    const session = json<Signed>(await loginToken());
    const started = json<{ factor: { id: string } }>(
      await post('/v1/mfa/totp', null, bearer(session.access_token ?? '')),
    );
    const wrong = await post(
      '/v1/mfa/totp/confirm',
      { factor_id: started.factor.id, code: '000000' },
      bearer(session.access_token ?? ''),
    );
    expect(wrong.statusCode).toBe(401);
    expect(json(wrong)).toMatchObject({ code: 'invalid_code' });
    expect((await loginToken()).statusCode).toBe(200);
  });

  it('refuses a second TOTP factor while one is confirmed', async () => {
    const { confirmed } = await enrol();
    const again = await post('/v1/mfa/totp', null, bearer(confirmed.access_token ?? ''));
    expect(again.statusCode).toBe(409);
    expect(json(again)).toMatchObject({ code: 'factor_exists' });
  });

  it('needs a session, and the CSRF token for a cookie session', async () => {
    expect((await post('/v1/mfa/totp', null)).statusCode).toBe(401);
    const login = await post('/v1/login', { email: 'alice@example.com', password: PASSWORD });
    const cookie = setCookies(login).get('__Host-latchkey_session')?.value ?? '';
    const withoutCsrf = await post('/v1/mfa/totp', null, { cookie: `__Host-latchkey_session=${cookie}` });
    expect(withoutCsrf.statusCode).toBe(403);
    const withCsrf = await post('/v1/mfa/totp', null, {
      cookie: `__Host-latchkey_session=${cookie}`,
      'x-csrf-token': json<Signed>(login).csrf_token ?? '',
    });
    expect(withCsrf.statusCode).toBe(201);
  });
});

describe('login with a second factor', () => {
  it('answers mfa_required with no session, then signs in with a code in the mode asked for', async () => {
    const { totp } = await enrol();
    const sessionsBefore = (
      await t.store.listUserSessions((await t.store.getUserByEmail('alice@example.com'))?.id ?? '', t.clock())
    ).length;
    for (const mode of ['token', 'cookie', 'hybrid']) {
      const done = await post('/v1/mfa/verify', {
        challenge: await challenge('alice@example.com', mode),
        code: nextCode(totp),
      });
      expect(done.statusCode).toBe(200);
      // Two factors, just now (RFC 8176 amr; the session keeps them, in every store).
      const { session } = json<{ session: { id: string } }>(done);
      expect(session).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], acr: 'mfa', auth_time: t.clock() / 1000 });
      expect(await t.store.getSession(session.id)).toMatchObject({
        amr: ['pwd', 'otp', 'mfa'],
        acr: 'mfa',
        authTime: t.clock(),
      });
      const cookies = setCookies(done);
      if (mode === 'token') expect(json<Signed>(done).access_token).toBeDefined();
      if (mode === 'cookie') expect(cookies.has('__Host-latchkey_session')).toBe(true);
      if (mode === 'hybrid') expect(cookies.has('__Host-latchkey_access')).toBe(true);
    }
    const user = await t.store.getUserByEmail('alice@example.com');
    expect((await t.store.listUserSessions(user?.id ?? '', t.clock())).length).toBe(sessionsBefore + 3);
  });

  it('refuses a replayed code, even on a new challenge', async () => {
    const { totp } = await enrol();
    const code = nextCode(totp);
    expect((await post('/v1/mfa/verify', { challenge: await challenge(), code })).statusCode).toBe(200);
    const replay = await post('/v1/mfa/verify', { challenge: await challenge(), code });
    expect(replay.statusCode).toBe(401);
    expect(json(replay)).toMatchObject({ code: 'invalid_code' });
  });

  it('accepts one step of clock drift either way, not two', async () => {
    const { totp } = await enrol();
    t.clock.advance(5 * 60_000);
    const at = (offset: number): string => totp.generate({ timestamp: t.clock() + offset * 30_000 });
    expect((await post('/v1/mfa/verify', { challenge: await challenge(), code: at(-2) })).statusCode).toBe(
      401,
    );
    expect((await post('/v1/mfa/verify', { challenge: await challenge(), code: at(2) })).statusCode).toBe(
      401,
    );
    expect((await post('/v1/mfa/verify', { challenge: await challenge(), code: at(-1) })).statusCode).toBe(
      200,
    );
    expect((await post('/v1/mfa/verify', { challenge: await challenge(), code: at(1) })).statusCode).toBe(
      200,
    );
  });

  it('uses a challenge once, and not after 5 minutes', async () => {
    const { totp } = await enrol();
    const first = await challenge();
    expect((await post('/v1/mfa/verify', { challenge: first, code: nextCode(totp) })).statusCode).toBe(200);
    const reused = await post('/v1/mfa/verify', { challenge: first, code: nextCode(totp) });
    expect(json(reused)).toMatchObject({ code: 'challenge_invalid' });
    const late = await challenge();
    t.clock.advance(5 * 60_000);
    expect(json(await post('/v1/mfa/verify', { challenge: late, code: nextCode(totp) }))).toMatchObject({
      code: 'challenge_invalid',
    });
  });

  it('lets a challenge take 5 wrong codes, then it is gone', async () => {
    const { totp } = await enrol();
    const pending = await challenge();
    for (let left = 4; left >= 0; left--) {
      const wrong = await post('/v1/mfa/verify', { challenge: pending, code: '000000' });
      expect(json(wrong)).toMatchObject({ code: 'invalid_code', attempts_left: left });
    }
    const after = await post('/v1/mfa/verify', { challenge: pending, code: nextCode(totp) });
    expect(json(after)).toMatchObject({ code: 'challenge_invalid' });
  });

  it("refuses user A's challenge with user B's code", async () => {
    const alice = await enrol('alice@example.com');
    const bob = await enrol('bob@example.com');
    const aliceChallenge = await challenge('alice@example.com');
    t.clock.advance(30_000);
    const bobCode = bob.totp.generate({ timestamp: t.clock() });
    const aliceCode = alice.totp.generate({ timestamp: t.clock() });
    if (bobCode !== aliceCode) {
      expect(json(await post('/v1/mfa/verify', { challenge: aliceChallenge, code: bobCode }))).toMatchObject({
        code: 'invalid_code',
      });
    }
    const done = await post('/v1/mfa/verify', { challenge: aliceChallenge, code: aliceCode });
    expect(done.statusCode).toBe(200);
    expect(json<{ user: { email: string } }>(done).user.email).toBe('alice@example.com');
  });

  it('throttles wrong codes per account across challenges: 10 in 15 minutes, then 429', async () => {
    const { totp } = await enrol();
    for (let i = 0; i < 10; i++) {
      const wrong = await post('/v1/mfa/verify', { challenge: await challenge(), code: '000000' });
      expect(wrong.statusCode).toBe(401);
    }
    const pending = await challenge();
    const blocked = await post('/v1/mfa/verify', { challenge: pending, code: nextCode(totp) });
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // The challenge was not used up by the refusal: after the window it still works.
    t.clock.advance(15 * 60_000 - 30_000);
    expect(
      (await post('/v1/mfa/verify', { challenge: pending, code: totp.generate({ timestamp: t.clock() }) }))
        .statusCode,
    ).toBe(401);
  });

  it('refuses a malformed challenge or code with a 4xx and changes nothing', async () => {
    await enrol();
    for (const payload of [
      { challenge: 'x', code: '123456' },
      { challenge: 'a'.repeat(201), code: '123456' },
      { challenge: await challenge() },
      { challenge: await challenge(), code: '123456', recovery_code: 'ABCD-EFGH-JKMN-PQRS' },
      { challenge: await challenge(), code: 'x'.repeat(17) },
    ]) {
      const answer = await post('/v1/mfa/verify', payload);
      expect(answer.statusCode).toBeGreaterThanOrEqual(400);
      expect(answer.statusCode).toBeLessThan(500);
    }
  });
});

describe('recovery codes', () => {
  it('sign in once each, typed in any case and spacing', async () => {
    const { confirmed } = await enrol();
    const [code = ''] = confirmed.recovery_codes ?? [];
    const typed = code.toLowerCase().replace(/-/g, ' ');
    expect(
      (await post('/v1/mfa/verify', { challenge: await challenge(), recovery_code: typed })).statusCode,
    ).toBe(200);
    const again = await post('/v1/mfa/verify', { challenge: await challenge(), recovery_code: code });
    expect(json(again)).toMatchObject({ code: 'invalid_code' });
  });

  it('are worth nothing to another account, or with a character changed', async () => {
    const alice = await enrol('alice@example.com');
    await enrol('bob@example.com');
    const [code = ''] = alice.confirmed.recovery_codes ?? [];
    expect(
      json(
        await post('/v1/mfa/verify', { challenge: await challenge('bob@example.com'), recovery_code: code }),
      ),
    ).toMatchObject({
      code: 'invalid_code',
    });
    const changed = (code.startsWith('2') ? '3' : '2') + code.slice(1);
    expect(
      json(await post('/v1/mfa/verify', { challenge: await challenge(), recovery_code: changed })),
    ).toMatchObject({
      code: 'invalid_code',
    });
    expect(
      (await post('/v1/mfa/verify', { challenge: await challenge(), recovery_code: code })).statusCode,
    ).toBe(200);
  });
});

describe('removing TOTP', () => {
  it('needs the password and a code; then login asks no second factor and the codes are void', async () => {
    const { totp, confirmed, factorId } = await enrol();
    const token = confirmed.access_token ?? '';
    const noPassword = await post(
      '/v1/mfa/remove',
      { factor_id: factorId, password: 'wrong password!!', code: nextCode(totp) },
      bearer(token),
    );
    expect(noPassword.statusCode).toBe(401);
    const noCode = await post(
      '/v1/mfa/remove',
      { factor_id: factorId, password: PASSWORD, code: '000000' },
      bearer(token),
    );
    expect(json(noCode)).toMatchObject({ code: 'invalid_code' });
    const removed = await post(
      '/v1/mfa/remove',
      { factor_id: factorId, password: PASSWORD, code: nextCode(totp) },
      bearer(token),
    );
    expect(removed.statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })).statusCode).toBe(
      401,
    );
    expect((await loginToken()).statusCode).toBe(200);
    const user = await t.store.getUserByEmail('alice@example.com');
    expect(await t.store.deleteOneTimeTokens(user?.id ?? '', 'recovery_code')).toBe(0);
  });
});

describeEachStore('second factor', stores, (factory) => {
  it('enrols, asks, and refuses a replay', async () => {
    await t.close();
    t = await createTestApp({ store: await factory.open() });
    await signup(t.app, 'alice@example.com');
    const { totp } = await enrol();
    const code = nextCode(totp);
    expect((await post('/v1/mfa/verify', { challenge: await challenge(), code })).statusCode).toBe(200);
    expect((await post('/v1/mfa/verify', { challenge: await challenge(), code })).statusCode).toBe(401);
  });
});
