/**
 * A new session id after a privilege change (OWASP session management): a password change
 * renews the caller's session in every mode (new id and secret, a new cookie or token pair),
 * refuses the old credentials at once, and revokes the other sessions as before.
 */

import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createTestApp,
  json,
  loginCookie,
  PASSWORD,
  setCookies,
  signup,
  type TestApp,
} from '../helpers/app.js';

const NEW_PASSWORD = 'an entirely different passphrase 42';
const SESSION = '__Host-latchkey_session';
const ACCESS = '__Host-latchkey_access';
const REFRESH = '__Secure-latchkey_refresh';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
  await signup(t.app, 'alice@example.com');
});
afterEach(async () => {
  await t.close();
});

function changePassword(
  headers: Record<string, string>,
  current = PASSWORD,
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: '/v1/password',
    headers,
    payload: { current_password: current, new_password: NEW_PASSWORD },
  });
}

async function me(headers: Record<string, string>): Promise<{ status: number; code: string | undefined }> {
  const response = await t.app.inject({ method: 'GET', url: '/v1/me', headers });
  return { status: response.statusCode, code: json<{ code?: string }>(response).code };
}

describe('session renewal after a password change', () => {
  it('cookie mode: a new session cookie and CSRF token; the old cookie is refused at once', async () => {
    const old = await loginCookie(t.app, 'alice@example.com');
    const other = await loginCookie(t.app, 'alice@example.com');
    const response = await changePassword({ cookie: old.cookie, 'x-csrf-token': old.csrf });
    expect(response.statusCode).toBe(200);
    const body = json<{ session: { id: string }; csrf_token: string }>(response);
    const renewed = setCookies(response).get(SESSION);
    expect(renewed?.value.split('.')[0]).toBe(body.session.id);
    expect(body.session.id).not.toBe(old.sessionId);
    expect(body.csrf_token).not.toBe(old.csrf);

    expect(await me({ cookie: old.cookie })).toEqual({ status: 401, code: 'session_revoked' });
    expect(await me({ cookie: other.cookie })).toEqual({ status: 401, code: 'session_revoked' });
    const fresh = `${SESSION}=${renewed?.value ?? ''}`;
    expect((await me({ cookie: fresh })).status).toBe(200);
    // The new CSRF token goes with the new session; the old one no longer does.
    const logoutWithOld = await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { cookie: fresh, 'x-csrf-token': old.csrf },
    });
    expect(logoutWithOld.statusCode).toBe(403);
    const sessions = await t.app.inject({ method: 'GET', url: '/v1/sessions', headers: { cookie: fresh } });
    expect(json<{ sessions: { id: string }[] }>(sessions).sessions.map((s) => s.id)).toEqual([
      body.session.id,
    ]);
  });

  it('the renewed session keeps the absolute expiry and the "remember me" choice', async () => {
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: PASSWORD, remember: true },
    });
    const oldId = json<{ session: { id: string } }>(login).session.id;
    const cookie = `${SESSION}=${setCookies(login).get(SESSION)?.value ?? ''}`;
    t.clock.advance(20 * 60_000);
    const response = await changePassword({
      cookie,
      'x-csrf-token': json<{ csrf_token: string }>(login).csrf_token,
    });
    expect(response.statusCode).toBe(200);
    const newId = json<{ session: { id: string } }>(response).session.id;
    const [before, after] = await Promise.all([t.store.getSession(oldId), t.store.getSession(newId)]);
    expect(after?.absoluteExpiresAt).toBe(before?.absoluteExpiresAt);
    expect(after?.persistent).toBe(true);
    expect(setCookies(response).get(SESSION)?.header).toMatch(/Max-Age=42000;/);
  });

  it('token mode: a new token pair; the old access and refresh tokens are refused at once', async () => {
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: PASSWORD, mode: 'token' },
    });
    const old = json<{ access_token: string; refresh_token: string; session: { id: string } }>(login);
    const response = await changePassword({ authorization: `Bearer ${old.access_token}` });
    expect(response.statusCode).toBe(200);
    const renewed = json<{ access_token: string; refresh_token: string; session: { id: string } }>(response);
    expect(renewed.session.id).not.toBe(old.session.id);
    expect(renewed.refresh_token).not.toBe(old.refresh_token);
    expect(response.headers['set-cookie']).toBeUndefined();

    expect(await me({ authorization: `Bearer ${old.access_token}` })).toMatchObject({ status: 401 });
    expect((await me({ authorization: `Bearer ${renewed.access_token}` })).status).toBe(200);
    const oldRefresh = await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      payload: { refresh_token: old.refresh_token },
    });
    expect(oldRefresh.statusCode).toBe(400);
    const newRefresh = await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      payload: { refresh_token: renewed.refresh_token },
    });
    expect(newRefresh.statusCode).toBe(200);
  });

  it('hybrid mode: new access and refresh cookies; the old ones are refused at once', async () => {
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: PASSWORD, mode: 'hybrid' },
    });
    const oldCookies = setCookies(login);
    const oldAccess = `${ACCESS}=${oldCookies.get(ACCESS)?.value ?? ''}`;
    const oldRefresh = `${REFRESH}=${oldCookies.get(REFRESH)?.value ?? ''}`;
    const csrf = json<{ csrf_token: string }>(login).csrf_token;
    const response = await changePassword({ cookie: oldAccess, 'x-csrf-token': csrf });
    expect(response.statusCode).toBe(200);
    const renewed = setCookies(response);
    const newCsrf = json<{ csrf_token: string }>(response).csrf_token;
    expect(newCsrf).not.toBe(csrf);

    expect(await me({ cookie: oldAccess })).toMatchObject({ status: 401 });
    expect((await me({ cookie: `${ACCESS}=${renewed.get(ACCESS)?.value ?? ''}` })).status).toBe(200);
    const refusedRefresh = await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      headers: { cookie: oldRefresh, 'x-csrf-token': csrf },
    });
    expect(refusedRefresh.statusCode).not.toBe(200);
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      headers: { cookie: `${REFRESH}=${renewed.get(REFRESH)?.value ?? ''}`, 'x-csrf-token': newCsrf },
    });
    expect(refresh.statusCode).toBe(200);
  });

  it('a refused change (wrong current password) renews nothing and changes nothing', async () => {
    const old = await loginCookie(t.app, 'alice@example.com');
    const response = await changePassword(
      { cookie: old.cookie, 'x-csrf-token': old.csrf },
      'not my password at all',
    );
    expect(response.statusCode).toBe(401);
    expect(response.headers['set-cookie']).toBeUndefined();
    expect((await me({ cookie: old.cookie })).status).toBe(200);
    // The password is the old one still.
    await loginCookie(t.app, 'alice@example.com', PASSWORD);
  });
});
