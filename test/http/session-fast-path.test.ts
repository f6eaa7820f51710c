/**
 * The synchronous answer of a cookie request from the near cache (`authenticateRequestFromCache`)
 * must never answer what the full path would refuse: a Bearer header still comes first, an
 * unsafe method still needs its CSRF token, and what it answers is what the full path answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, loginCookie, signup, type TestApp } from '../helpers/app.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function cachedLogin(): Promise<{ app: TestApp; cookie: string; csrf: string }> {
  const app = await createTestApp({ config: { sessionCache: 60_000 } });
  t = app;
  await signup(app.app, 'a@example.com');
  const { cookie, csrf } = await loginCookie(app.app, 'a@example.com');
  // The first request reads the store and fills the cache; the next ones are answered from it.
  expect((await app.app.inject({ url: '/v1/me', headers: { cookie } })).statusCode).toBe(200);
  return { app, cookie, csrf };
}

describe('a cookie request answered from the near cache', () => {
  it('answers what the full path answers, with its Server-Timing', async () => {
    const app = await createTestApp({ config: { sessionCache: 60_000 } });
    t = app;
    await signup(app.app, 'a@example.com');
    const { cookie } = await loginCookie(app.app, 'a@example.com');
    const first = await app.app.inject({ url: '/v1/me', headers: { cookie } });
    const cached = await app.app.inject({ url: '/v1/me', headers: { cookie } });
    expect(cached.statusCode).toBe(200);
    expect(cached.json()).toEqual(first.json());
    expect(cached.headers['server-timing']).toMatch(/^auth;dur=\d+\.\d\d$/);
    expect(cached.headers['cache-control']).toBe('no-store');
  });

  it('answers the current user after a change, never a document kept from before it', async () => {
    const { app, cookie } = await cachedLogin();
    const before = await app.app.inject({ url: '/v1/me', headers: { cookie } });
    expect(before.json()).toMatchObject({ user: { roles: [] } });
    expect(before.headers['content-type']).toBe('application/json; charset=utf-8');
    const { id } = before.json<{ user: { id: string } }>().user;
    await app.latchkey.auth.setUserRoles({ id }, ['auditor']);
    // The change reaches the cache before the next request: the next answer is the new user.
    const after = await app.app.inject({ url: '/v1/me', headers: { cookie } });
    expect(after.statusCode).toBe(200);
    expect(after.json()).toMatchObject({ user: { id, roles: ['auditor'] } });
    expect(after.json()).toEqual({
      ...before.json<object>(),
      user: { ...before.json<{ user: object }>().user, roles: ['auditor'] },
    });
  });

  it('still puts a Bearer header first: a bad token beside a good cached cookie is refused', async () => {
    const { app, cookie } = await cachedLogin();
    const response = await app.app.inject({
      url: '/v1/me',
      headers: { cookie, authorization: 'Bearer not.a.token' },
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('still needs the CSRF token on an unsafe method', async () => {
    const { app, cookie, csrf } = await cachedLogin();
    const refused = await app.app.inject({ method: 'POST', url: '/v1/logout', headers: { cookie } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'csrf_failed' });
    const wrong = await app.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { cookie, 'x-csrf-token': `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}` },
    });
    expect(wrong.statusCode).toBe(403);
    expect((await app.app.inject({ url: '/v1/me', headers: { cookie } })).statusCode).toBe(200);
    const logout = await app.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(logout.statusCode).toBe(204);
    expect((await app.app.inject({ url: '/v1/me', headers: { cookie } })).statusCode).toBe(401);
  });

  it('refuses a forged secret for the cached id, and counts it as a guess', async () => {
    const { app, cookie } = await cachedLogin();
    const [name = '', value = ''] = cookie.split('=');
    const [id = ''] = value.split('.');
    const forged = `${name}=${id}.${'A'.repeat(43)}`;
    const refused = await app.app.inject({ url: '/v1/me', headers: { cookie: forged } });
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ code: 'unauthenticated' });
    let status = 401;
    for (let i = 0; i < 150 && status === 401; i++) {
      status = (await app.app.inject({ url: '/v1/me', headers: { cookie: forged } })).statusCode;
    }
    expect(status).toBe(429);
  });
});
