/**
 * No cookie on a refusal: a 4xx carries no `Set-Cookie` (session, device or any other), except
 * the clearing of cookies the refusal itself invalidates.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LatchkeyError } from '../../src/errors.js';
import { createHTTPServer } from '../../src/http/server.js';
import {
  createTestApp,
  json,
  loginCookie,
  PASSWORD,
  setCookies,
  signup,
  type TestApp,
} from '../helpers/app.js';

const REFRESH = '__Secure-latchkey_refresh';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ config: { refreshGrace: 10_000 } });
  await signup(t.app, 'alice@example.com');
});
afterEach(async () => {
  await t.close();
});

describe('no cookie on a refusal', () => {
  it('a wrong password and a disabled account set no cookie', async () => {
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: 'wrong password entirely' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();

    await t.latchkey.auth.setUserStatus('alice@example.com', 'disabled');
    const disabled = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: PASSWORD },
    });
    expect(disabled.statusCode).toBe(403);
    expect(disabled.headers['set-cookie']).toBeUndefined();
  });

  it('a hybrid refresh refused for its CSRF token sets nothing; one refused for good clears both cookies', async () => {
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: PASSWORD, mode: 'hybrid' },
    });
    const cookie = `${REFRESH}=${setCookies(login).get(REFRESH)?.value ?? ''}`;
    const csrf = json<{ csrf_token: string }>(login).csrf_token;
    const noCsrf = await t.app.inject({ method: 'POST', url: '/v1/refresh', headers: { cookie } });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.headers['set-cookie']).toBeUndefined();

    const first = await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(first.statusCode).toBe(200);
    t.clock.advance(60_000);
    // The same refresh cookie again, after the grace window: reuse, the session is revoked.
    const reuse = await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(reuse.statusCode).toBe(400);
    const cleared = setCookies(reuse);
    expect([...cleared.keys()].sort()).toEqual([
      '__Host-latchkey_access',
      '__Host-latchkey_session',
      REFRESH,
    ]);
    for (const { value, header } of cleared.values()) {
      expect(value).toBe('');
      expect(header).toMatch(/Max-Age=0/);
    }
  });

  it('a route that set a cookie and then failed answers without it, but keeps a clearing cookie', async () => {
    const app = createHTTPServer(t.latchkey);
    app.post('/test/fails-after-cookie', async (_request, reply) => {
      void reply.header('set-cookie', ['leak=secret; Path=/; HttpOnly', 'gone=; Path=/; Max-Age=0']);
      await Promise.resolve();
      throw new LatchkeyError('bad_request', 'refused after setting cookies');
    });
    await app.ready();
    try {
      const response = await app.inject({ method: 'POST', url: '/test/fails-after-cookie' });
      expect(response.statusCode).toBe(400);
      expect(response.headers['set-cookie']).toEqual(['gone=; Path=/; Max-Age=0']);
    } finally {
      await app.close();
    }
  });

  it('a refused logout (no CSRF token) sets no cookie and leaves the session alone', async () => {
    const login = await loginCookie(t.app, 'alice@example.com');
    const refused = await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { cookie: login.cookie },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['set-cookie']).toBeUndefined();
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie: login.cookie } });
    expect(me.statusCode).toBe(200);
  });
});
