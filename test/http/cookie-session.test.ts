import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cookieAttributes,
  createTestApp,
  json,
  loginCookie,
  PASSWORD,
  setCookies,
  signup,
  type TestApp,
} from '../helpers/app.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('cookie sessions', () => {
  it('signs up, logs in with a __Host- cookie, reads /v1/me, logs out', async () => {
    const signupResponse = await t.app.inject({
      method: 'POST',
      url: '/v1/signup',
      payload: { email: '  Alice@Example.COM ', password: PASSWORD },
    });
    expect(signupResponse.statusCode).toBe(201);
    expect(json(signupResponse)).toMatchObject({ user: { email: 'alice@example.com', status: 'active' } });
    expect(signupResponse.body).not.toContain('password');

    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: PASSWORD, mode: 'cookie' },
    });
    expect(login.statusCode).toBe(200);
    expect(login.headers['cache-control']).toBe('no-store');
    const cookie = setCookies(login).get('__Host-latchkey_session');
    expect(cookie).toBeDefined();
    // A browser-session cookie (no Max-Age) under the __Host- rules: Secure, Path=/ exactly, no Domain.
    expect(cookieAttributes(cookie?.header ?? '')).toEqual({
      path: ['/'],
      httponly: [''],
      secure: [''],
      samesite: ['Lax'],
    });
    const [id, secret] = (cookie?.value ?? '').split('.');
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(secret ?? '', 'base64url').length).toBeGreaterThanOrEqual(16);
    const body = json<{ csrf_token: string; session: { id: string }; user: { email: string } }>(login);
    expect(body.user.email).toBe('alice@example.com');
    expect(body.session.id).toBe(id);
    expect(body.csrf_token.length).toBeGreaterThan(20);

    // Only the hash of the secret is stored.
    const stored = await t.store.getSession(id ?? '');
    expect(stored?.secretHash).not.toContain(secret);
    expect(JSON.stringify(stored)).not.toContain(secret);

    const sessionCookie = `__Host-latchkey_session=${cookie?.value ?? ''}`;
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie: sessionCookie } });
    expect(me.statusCode).toBe(200);
    expect(json(me)).toMatchObject({ user: { email: 'alice@example.com' }, session: { id, mode: 'cookie' } });
    expect(me.headers['cache-control']).toBe('no-store');

    const logout = await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { cookie: sessionCookie, 'x-csrf-token': body.csrf_token },
    });
    expect(logout.statusCode).toBe(204);
    expect(setCookies(logout).get('__Host-latchkey_session')?.header).toContain('Max-Age=0');

    const after = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie: sessionCookie } });
    expect(after.statusCode).toBe(401);
    expect(after.headers['content-type']).toContain('application/problem+json');
    expect(json(after)).toMatchObject({ code: 'session_revoked', status: 401 });
  });

  it('sets every __Host- cookie Secure, with Path=/ exactly and no Domain, in every mode and when clearing', async () => {
    await signup(t.app, 'host@example.com');
    const headers: string[] = [];
    const collect = (response: LightMyRequestResponse, status: number): Map<string, string> => {
      expect(response.statusCode).toBe(status);
      const cookies = setCookies(response);
      headers.push(...[...cookies.values()].map((cookie) => cookie.header));
      return new Map([...cookies].map(([name, cookie]) => [name, cookie.value]));
    };
    const login = (mode: string, remember = false): Promise<LightMyRequestResponse> =>
      t.app.inject({
        method: 'POST',
        url: '/v1/login',
        payload: { email: 'host@example.com', password: PASSWORD, mode, remember },
      });
    // Cookie mode: login (session and device cookies), "remember me", a renewal, a logout.
    const cookieLogin = await login('cookie');
    collect(cookieLogin, 200);
    collect(await login('cookie', true), 200);
    const session = `__Host-latchkey_session=${setCookies(cookieLogin).get('__Host-latchkey_session')?.value ?? ''}`;
    const csrf = json<{ csrf_token: string }>(cookieLogin).csrf_token;
    const renewal = await t.app.inject({
      method: 'POST',
      url: '/v1/password',
      headers: { cookie: session, 'x-csrf-token': csrf },
      payload: { current_password: PASSWORD, new_password: 'a brand new passphrase 7' },
    });
    const renewed = collect(renewal, 200);
    const logout = await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: {
        cookie: `__Host-latchkey_session=${renewed.get('__Host-latchkey_session') ?? ''}`,
        'x-csrf-token': json<{ csrf_token: string }>(renewal).csrf_token,
      },
    });
    collect(logout, 204);
    // Hybrid mode: login (access and refresh cookies) and a refresh.
    const hybrid = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'host@example.com', password: 'a brand new passphrase 7', mode: 'hybrid' },
    });
    const hybridCookies = collect(hybrid, 200);
    collect(
      await t.app.inject({
        method: 'POST',
        url: '/v1/refresh',
        headers: {
          cookie: `__Secure-latchkey_refresh=${hybridCookies.get('__Secure-latchkey_refresh') ?? ''}`,
          'x-csrf-token': json<{ csrf_token: string }>(hybrid).csrf_token,
        },
      }),
      200,
    );

    const names = new Set(headers.map((header) => header.slice(0, header.indexOf('='))));
    expect([...names].sort()).toEqual([
      '__Host-latchkey_access',
      '__Host-latchkey_device',
      '__Host-latchkey_session',
      '__Secure-latchkey_refresh',
    ]);
    for (const header of headers) {
      const attributes = cookieAttributes(header);
      expect(attributes.secure, header).toEqual(['']);
      expect(attributes.domain, header).toBeUndefined();
      if (header.startsWith('__Host-')) expect(attributes.path, header).toEqual(['/']);
    }
  });

  it('refuses a session whose secret is wrong even when the id is right', async () => {
    await signup(t.app, 'bob@example.com');
    const { sessionId } = await loginCookie(t.app, 'bob@example.com');
    const forged = `__Host-latchkey_session=${sessionId}.${'A'.repeat(43)}`;
    const response = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie: forged } });
    expect(response.statusCode).toBe(401);
    expect(json(response)).toMatchObject({ code: 'unauthenticated' });
  });

  it('never reuses a session cookie sent to /v1/login (no fixation) and revokes the old one', async () => {
    await signup(t.app, 'carol@example.com');
    const first = await loginCookie(t.app, 'carol@example.com');
    const second = await loginCookie(t.app, 'carol@example.com', PASSWORD, { cookie: first.cookie });
    expect(second.sessionId).not.toBe(first.sessionId);
    expect(second.cookie).not.toBe(first.cookie);
    const old = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie: first.cookie } });
    expect(old.statusCode).toBe(401);
    // An attacker-chosen cookie value is ignored, not adopted.
    const planted = `__Host-latchkey_session=${'a'.repeat(22)}.${'b'.repeat(43)}`;
    const third = await loginCookie(t.app, 'carol@example.com', PASSWORD, { cookie: planted });
    expect(third.cookie).not.toContain('a'.repeat(22));
  });

  it('expires after the idle timeout, slides with use, and stops at the absolute timeout', async () => {
    await signup(t.app, 'dave@example.com');
    const { cookie } = await loginCookie(t.app, 'dave@example.com');
    const me = () => t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie } });
    const minute = 60_000;
    // Sliding: a request every 20 minutes keeps the 30-minute idle window open...
    for (let elapsed = 20; elapsed < 12 * 60; elapsed += 20) {
      t.clock.advance(20 * minute);
      const response = await me();
      expect(response.statusCode, `at ${elapsed} minutes`).toBe(200);
    }
    // ...until the absolute timeout of 12 hours.
    t.clock.advance(20 * minute);
    const expired = await me();
    expect(expired.statusCode).toBe(401);
    expect(json(expired)).toMatchObject({ code: 'session_expired' });
  });

  it('expires after 30 idle minutes', async () => {
    await signup(t.app, 'erin@example.com');
    const { cookie } = await loginCookie(t.app, 'erin@example.com');
    t.clock.advance(29 * 60_000);
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie } })).statusCode).toBe(200);
    t.clock.advance(30 * 60_000 + 1);
    const response = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie } });
    expect(response.statusCode).toBe(401);
    expect(json(response)).toMatchObject({ code: 'session_expired' });
  });

  it('writes the sliding expiry at most once a minute', async () => {
    await signup(t.app, 'frank@example.com');
    const { cookie, sessionId } = await loginCookie(t.app, 'frank@example.com');
    let touches = 0;
    const original = t.store.touchSession.bind(t.store);
    t.store.touchSession = async (id, update) => {
      touches++;
      await original(id, update);
    };
    for (let i = 0; i < 10; i++) {
      t.clock.advance(5_000);
      await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie } });
    }
    expect(touches).toBe(0);
    t.clock.advance(15_000);
    await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie } });
    expect(touches).toBe(1);
    expect((await t.store.getSession(sessionId))?.lastSeenAt).toBe(t.clock());
  });

  it('lists my sessions with the current one marked, and revokes one, all, or all but current', async () => {
    await signup(t.app, 'gina@example.com');
    const a = await loginCookie(t.app, 'gina@example.com', PASSWORD, { 'user-agent': 'Browser A' });
    const b = await loginCookie(t.app, 'gina@example.com', PASSWORD, { 'user-agent': 'Browser B' });
    const c = await loginCookie(t.app, 'gina@example.com', PASSWORD, { 'user-agent': 'Browser C' });
    const list = await t.app.inject({ method: 'GET', url: '/v1/sessions', headers: { cookie: a.cookie } });
    const sessions = json<{ sessions: { id: string; current: boolean; user_agent: string; ip: string }[] }>(
      list,
    ).sessions;
    expect(sessions).toHaveLength(3);
    expect(sessions.find((s) => s.current)?.id).toBe(a.sessionId);
    expect(sessions.map((s) => s.user_agent).sort()).toEqual(['Browser A', 'Browser B', 'Browser C']);
    expect(sessions[0]?.ip).toBe('127.0.0.1');

    const revokeB = await t.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${b.sessionId}`,
      headers: { cookie: a.cookie, 'x-csrf-token': a.csrf },
    });
    expect(revokeB.statusCode).toBe(204);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie: b.cookie } })).statusCode,
    ).toBe(401);

    const keep = await t.app.inject({
      method: 'DELETE',
      url: '/v1/sessions?keep_current=true',
      headers: { cookie: a.cookie, 'x-csrf-token': a.csrf },
    });
    expect(json(keep)).toEqual({ revoked: 1 });
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie: c.cookie } })).statusCode,
    ).toBe(401);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie: a.cookie } })).statusCode,
    ).toBe(200);

    const all = await t.app.inject({
      method: 'DELETE',
      url: '/v1/sessions',
      headers: { cookie: a.cookie, 'x-csrf-token': a.csrf },
    });
    expect(json(all)).toEqual({ revoked: 1 });
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie: a.cookie } })).statusCode,
    ).toBe(401);
  });

  it("answers 404 for someone else's session and leaves it alone", async () => {
    await signup(t.app, 'hank@example.com');
    await signup(t.app, 'ivy@example.com');
    const hank = await loginCookie(t.app, 'hank@example.com');
    const ivy = await loginCookie(t.app, 'ivy@example.com');
    const response = await t.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${ivy.sessionId}`,
      headers: { cookie: hank.cookie, 'x-csrf-token': hank.csrf },
    });
    expect(response.statusCode).toBe(404);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie: ivy.cookie } })).statusCode,
    ).toBe(200);
  });

  it('changes the password, revoking every other session and renewing this one', async () => {
    await signup(t.app, 'jane@example.com');
    const a = await loginCookie(t.app, 'jane@example.com');
    const b = await loginCookie(t.app, 'jane@example.com');
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/v1/password',
      headers: { cookie: a.cookie, 'x-csrf-token': a.csrf },
      payload: { current_password: 'not the password', new_password: 'a brand new passphrase' },
    });
    expect(wrong.statusCode).toBe(401);
    const weak = await t.app.inject({
      method: 'POST',
      url: '/v1/password',
      headers: { cookie: a.cookie, 'x-csrf-token': a.csrf },
      payload: { current_password: PASSWORD, new_password: 'password123' },
    });
    expect(weak.statusCode).toBe(400);
    expect(json(weak)).toMatchObject({ code: 'weak_password' });
    const ok = await t.app.inject({
      method: 'POST',
      url: '/v1/password',
      headers: { cookie: a.cookie, 'x-csrf-token': a.csrf },
      payload: { current_password: PASSWORD, new_password: 'a brand new passphrase' },
    });
    expect(ok.statusCode).toBe(200);
    // The caller's session is renewed: the old cookie is refused, the new one works.
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie: a.cookie } })).statusCode,
    ).toBe(401);
    const renewed = `__Host-latchkey_session=${setCookies(ok).get('__Host-latchkey_session')?.value ?? ''}`;
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie: renewed } })).statusCode,
    ).toBe(200);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie: b.cookie } })).statusCode,
    ).toBe(401);
    await expect(loginCookie(t.app, 'jane@example.com')).rejects.toThrow(/401/);
    await loginCookie(t.app, 'jane@example.com', 'a brand new passphrase');
  });

  it('refuses a duplicate email with 409 and a weak or common password with 400', async () => {
    await signup(t.app, 'kim@example.com');
    const dup = await t.app.inject({
      method: 'POST',
      url: '/v1/signup',
      payload: { email: 'KIM@example.com', password: PASSWORD },
    });
    expect(dup.statusCode).toBe(409);
    for (const password of ['short', 'password123', 'qwertyuiop', 'New@Example.com']) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/signup',
        payload: { email: 'new@example.com', password },
      });
      expect(response.statusCode, password).toBe(400);
      expect(json(response)).toMatchObject({ code: 'weak_password' });
    }
  });

  it('answers /healthz with the store kind', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({ status: 'ok', store: 'memory' });
  });

  it('answers 503 problem+json when the store is down, and recovers', async () => {
    await signup(t.app, 'lee@example.com');
    const { cookie } = await loginCookie(t.app, 'lee@example.com');
    const { storeUnavailable } = await import('../../src/errors.js');
    const original = t.store.getSession.bind(t.store);
    const originalWithUser = t.store.getSessionWithUser?.bind(t.store);
    t.store.getSession = () => Promise.reject(storeUnavailable(new Error('connection refused')));
    t.store.getSessionWithUser = () => Promise.reject(storeUnavailable(new Error('connection refused')));
    const down = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie } });
    expect(down.statusCode).toBe(503);
    expect(down.headers['retry-after']).toBe('1');
    expect(json(down)).toMatchObject({ code: 'store_unavailable' });
    expect(down.body).not.toContain('connection refused');
    t.store.getSession = original;
    if (originalWithUser !== undefined) t.store.getSessionWithUser = originalWithUser;
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie } })).statusCode).toBe(200);
  });
});
