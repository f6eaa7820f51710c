/**
 * Session cookies end with the browser unless the client asked to be remembered (OWASP session
 * management: non-persistent cookies by default); "remember me" gives them a lifetime bounded
 * by the session's absolute expiry. Hybrid cookies follow the same rule, across refreshes.
 */

import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, json, PASSWORD, setCookies, signup, type TestApp } from '../helpers/app.js';

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

function login(payload: Record<string, unknown>): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: '/v1/login',
    payload: { email: 'alice@example.com', password: PASSWORD, ...payload },
  });
}

function maxAgeOf(header: string | undefined): number | null {
  const match = /;\s*Max-Age=(\d+)/i.exec(header ?? '');
  return match?.[1] === undefined ? null : Number(match[1]);
}

describe('cookie lifetime', () => {
  it('a cookie-mode session cookie has no Max-Age or Expires by default', async () => {
    const response = await login({ mode: 'cookie' });
    expect(response.statusCode).toBe(200);
    const header = setCookies(response).get(SESSION)?.header;
    expect(header).toBeDefined();
    expect(header).not.toMatch(/Max-Age|Expires/i);
  });

  it('remember: true makes it persistent, up to the absolute timeout (12 h) and no further', async () => {
    const response = await login({ mode: 'cookie', remember: true });
    expect(response.statusCode).toBe(200);
    const maxAge = maxAgeOf(setCookies(response).get(SESSION)?.header);
    expect(maxAge).not.toBeNull();
    expect(maxAge).toBeLessThanOrEqual(12 * 3600);
    expect(maxAge).toBeGreaterThan(12 * 3600 - 5);
    const stored = await t.store.getSession(json<{ session: { id: string } }>(response).session.id);
    expect(stored?.persistent).toBe(true);
  });

  it('remember: false is the default, and a non-boolean remember is refused', async () => {
    const response = await login({ mode: 'cookie', remember: false });
    expect(setCookies(response).get(SESSION)?.header).not.toMatch(/Max-Age|Expires/i);
    const refused = await login({ mode: 'cookie', remember: 'yes' });
    expect(refused.statusCode).toBe(400);
    expect(refused.headers['set-cookie']).toBeUndefined();
  });

  it('hybrid cookies end with the browser by default, before and after a refresh', async () => {
    const response = await login({ mode: 'hybrid' });
    const cookies = setCookies(response);
    expect(cookies.get(ACCESS)?.header).not.toMatch(/Max-Age|Expires/i);
    expect(cookies.get(REFRESH)?.header).not.toMatch(/Max-Age|Expires/i);
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      headers: {
        cookie: `${REFRESH}=${cookies.get(REFRESH)?.value ?? ''}`,
        'x-csrf-token': json<{ csrf_token: string }>(response).csrf_token,
      },
    });
    expect(refreshed.statusCode).toBe(200);
    const after = setCookies(refreshed);
    expect(after.get(ACCESS)?.header).not.toMatch(/Max-Age|Expires/i);
    expect(after.get(REFRESH)?.header).not.toMatch(/Max-Age|Expires/i);
  });

  it('remembered hybrid cookies stay persistent across a refresh, bounded by the absolute expiry', async () => {
    const response = await login({ mode: 'hybrid', remember: true });
    const cookies = setCookies(response);
    expect(maxAgeOf(cookies.get(ACCESS)?.header)).toBe(900);
    const refreshMaxAge = maxAgeOf(cookies.get(REFRESH)?.header) ?? 0;
    expect(refreshMaxAge).toBeGreaterThan(29 * 24 * 3600);
    expect(refreshMaxAge).toBeLessThanOrEqual(30 * 24 * 3600);
    t.clock.advance(3_600_000);
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      headers: {
        cookie: `${REFRESH}=${cookies.get(REFRESH)?.value ?? ''}`,
        'x-csrf-token': json<{ csrf_token: string }>(response).csrf_token,
      },
    });
    expect(refreshed.statusCode).toBe(200);
    const after = setCookies(refreshed);
    expect(maxAgeOf(after.get(ACCESS)?.header)).toBe(900);
    // One hour less: the lifetime counts down to the same absolute expiry, never extends it.
    expect(maxAgeOf(after.get(REFRESH)?.header)).toBe(refreshMaxAge - 3600);
  });

  it('a browser-session cookie is still refused after the server-side idle timeout', async () => {
    const response = await login({ mode: 'cookie' });
    const cookie = `${SESSION}=${setCookies(response).get(SESSION)?.value ?? ''}`;
    t.clock.advance(31 * 60_000);
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie } });
    expect(me.statusCode).toBe(401);
    expect(json(me)).toMatchObject({ code: 'session_expired' });
  });
});
