import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCSRFToken } from '../../src/csrf/csrf.js';
import {
  createTestApp,
  json,
  loginCookie,
  PASSWORD,
  signup,
  type TestApp,
  type CookieLogin,
} from '../helpers/app.js';

let t: TestApp;
let alice: CookieLogin;
let bob: CookieLogin;
beforeAll(async () => {
  t = await createTestApp({ config: { allowedOrigins: ['https://app.example.test'] } });
  await signup(t.app, 'alice@example.com');
  await signup(t.app, 'bob@example.com');
  alice = await loginCookie(t.app, 'alice@example.com');
  bob = await loginCookie(t.app, 'bob@example.com');
});
afterAll(async () => {
  await t.close();
});

async function stillLoggedIn(login: CookieLogin): Promise<boolean> {
  return (
    (await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie: login.cookie } })).statusCode ===
    200
  );
}

describe('CSRF defence for cookie sessions', () => {
  it('refuses an unsafe request with the session cookie but no X-CSRF-Token', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { cookie: alice.cookie },
    });
    expect(response.statusCode).toBe(403);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(json(response)).toMatchObject({ code: 'csrf_failed' });
    expect(await stillLoggedIn(alice)).toBe(true);
  });

  it('refuses a wrong token, a token of another session, and an empty one', async () => {
    for (const token of [
      'x'.repeat(43),
      bob.csrf,
      '',
      createCSRFToken(Buffer.from('other key'), alice.sessionId),
    ]) {
      const response = await t.app.inject({
        method: 'DELETE',
        url: '/v1/sessions',
        headers: { cookie: alice.cookie, 'x-csrf-token': token },
      });
      expect(response.statusCode, `token ${token.slice(0, 8)}`).toBe(403);
      expect(json(response)).toMatchObject({ code: 'csrf_failed' });
    }
    expect(await stillLoggedIn(alice)).toBe(true);
  });

  it('checks every unsafe route: POST /v1/password, DELETE /v1/sessions/:id', async () => {
    const hashBefore = (await t.store.getUserByEmail('alice@example.com'))?.passwordHash;
    for (const token of [undefined, bob.csrf]) {
      const password = await t.app.inject({
        method: 'POST',
        url: '/v1/password',
        headers: { cookie: alice.cookie, ...(token === undefined ? {} : { 'x-csrf-token': token }) },
        payload: { current_password: PASSWORD, new_password: 'another long passphrase' },
      });
      expect(password.statusCode).toBe(403);
      expect(json(password)).toMatchObject({ code: 'csrf_failed' });
    }
    // The password is unchanged: the same stored hash, the new one refused, the old one accepted.
    expect((await t.store.getUserByEmail('alice@example.com'))?.passwordHash).toBe(hashBefore);
    const withNew = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: 'another long passphrase' },
    });
    expect(withNew.statusCode).toBe(401);
    await loginCookie(t.app, 'alice@example.com', PASSWORD);
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${alice.sessionId}`,
      headers: { cookie: alice.cookie },
    });
    expect(del.statusCode).toBe(403);
    expect(await stillLoggedIn(alice)).toBe(true);
  });

  it('refuses cross-site requests by Origin, including Origin: null, even with a valid token', async () => {
    for (const origin of [
      'https://evil.example',
      'null',
      'https://auth.example.test.evil.example',
      'http://auth.example.test',
    ]) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/logout',
        headers: { cookie: alice.cookie, 'x-csrf-token': alice.csrf, origin },
      });
      expect(response.statusCode, origin).toBe(403);
      expect(json(response)).toMatchObject({ code: 'cross_site_request' });
    }
    expect(await stillLoggedIn(alice)).toBe(true);
  });

  it('refuses cross-site and same-site requests by Sec-Fetch-Site when there is no Origin', async () => {
    for (const site of ['cross-site', 'same-site']) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/logout',
        headers: { cookie: alice.cookie, 'x-csrf-token': alice.csrf, 'sec-fetch-site': site },
      });
      expect(response.statusCode, site).toBe(403);
    }
    expect(await stillLoggedIn(alice)).toBe(true);
  });

  it('refuses login CSRF: a cross-site login, a login from Origin null, and a form-encoded login', async () => {
    const crossSite = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      headers: { origin: 'https://evil.example' },
      payload: { email: 'bob@example.com', password: PASSWORD },
    });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.headers['set-cookie']).toBeUndefined();
    const nullOrigin = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      headers: { origin: 'null' },
      payload: { email: 'bob@example.com', password: PASSWORD },
    });
    expect(nullOrigin.statusCode).toBe(403);
    const form = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `email=bob%40example.com&password=${encodeURIComponent(PASSWORD)}`,
    });
    expect(form.statusCode).toBe(415);
    expect(form.headers['set-cookie']).toBeUndefined();
  });

  it('allows same-origin and allow-listed origins with a valid token', async () => {
    const me = await loginCookie(t.app, 'alice@example.com');
    const sameOrigin = await t.app.inject({
      method: 'DELETE',
      url: '/v1/sessions?keep_current=true',
      headers: {
        cookie: me.cookie,
        'x-csrf-token': me.csrf,
        origin: 'https://auth.example.test',
        'sec-fetch-site': 'same-origin',
      },
    });
    expect(sameOrigin.statusCode).toBe(200);
    const listed = await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: {
        cookie: me.cookie,
        'x-csrf-token': me.csrf,
        origin: 'https://app.example.test',
        'sec-fetch-site': 'cross-site',
      },
    });
    expect(listed.statusCode).toBe(204);
  });

  it('does not need a CSRF token for safe methods', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/v1/sessions',
      headers: { cookie: bob.cookie },
    });
    expect(response.statusCode).toBe(200);
  });
});
