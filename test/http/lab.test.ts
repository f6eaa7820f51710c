/**
 * `/lab` over HTTP (Fastify inject): its CSP (self scripts only, nothing inline; every other page
 * keeps the strict one), `GET /lab/state` (cookie names and attributes, never a value), the
 * `Server-Timing` of authenticated responses, and the rule that picks the hybrid access cookie
 * over a session cookie when a request's CSRF header names it. The browser flow is in
 * `test/browser/lab.test.ts`.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { LAB_CSP } from '../../src/http/pages/lab.js';
import { PAGE_CSP } from '../../src/http/pages/index.js';
import {
  createTestApp,
  json,
  loginCookie,
  loginToken,
  setCookies,
  signup,
  type TestApp,
} from '../helpers/app.js';
import { ensureLabBundle } from '../helpers/sdk-server.js';

let t: TestApp;
beforeAll(async () => {
  ensureLabBundle();
  t = await createTestApp();
  await signup(t.app, 'ada@example.com');
});
afterAll(async () => {
  await t.close();
});

interface HybridLogin {
  cookies: string;
  csrf: string;
  sessionId: string;
}

async function loginHybrid(): Promise<HybridLogin> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/v1/login',
    payload: { email: 'ada@example.com', password: 'correct horse battery staple', mode: 'hybrid' },
  });
  expect(response.statusCode).toBe(200);
  const body = json<{ csrf_token: string; session: { id: string } }>(response);
  const access = setCookies(response).get('__Host-latchkey_access')?.value ?? '';
  return { cookies: `__Host-latchkey_access=${access}`, csrf: body.csrf_token, sessionId: body.session.id };
}

describe('/lab', () => {
  it('has its own CSP: scripts from this origin only, no inline script, no other origin', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/lab', headers: { accept: 'text/html' } });
    expect(response.statusCode).toBe(200);
    const csp = response.headers['content-security-policy'];
    expect(csp).toBe(LAB_CSP);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|nonce-|sha256-|https?:|\*/);
    // Every <script> is a file of this server, served as JavaScript.
    const scripts = [...response.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts).toHaveLength(1);
    const [, attributes = '', inline = ''] = scripts[0] ?? [];
    expect(inline).toBe('');
    const src = /src="(\/assets\/lab-[\w-]+\.js)"/.exec(attributes)?.[1] ?? '';
    const script = await t.app.inject({ method: 'GET', url: src });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.body).toContain('<label for="lab-email">Email</label>');
  });

  it('leaves every other page with the strict CSP, which allows no script at all', async () => {
    // (/login and /signup load their passkey scripts: test/http/pages-passkeys.test.ts.)
    for (const url of ['/forgot']) {
      const response = await t.app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      expect(response.headers['content-security-policy']).toBe(PAGE_CSP);
      expect(PAGE_CSP).not.toContain('script-src');
    }
  });

  it('is gone with the pages (LATCHKEY_PAGES=off)', async () => {
    const off = await createTestApp({ config: { pages: loadConfig({ LATCHKEY_PAGES: 'off' }).pages } });
    try {
      for (const url of ['/lab', '/lab/state']) {
        const response = await off.app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
        expect(response.statusCode).toBe(404);
      }
    } finally {
      await off.close();
    }
  });

  it('GET /lab/state names the auth cookies that arrived and their attributes, never a value', async () => {
    const cookie = await loginCookie(t.app, 'ada@example.com');
    const hybrid = await loginHybrid();
    const value = cookie.cookie.split('=')[1] ?? '';
    const response = await t.app.inject({
      method: 'GET',
      url: '/lab/state',
      headers: { cookie: `${cookie.cookie}; ${hybrid.cookies}` },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).not.toContain(value);
    expect(response.body).not.toContain(hybrid.cookies.split('=')[1]);
    const { cookies } = json<{
      cookies: { kind: string; name: string; arrived: boolean; attributes: string }[];
    }>(response);
    expect(cookies).toEqual([
      {
        kind: 'session',
        name: '__Host-latchkey_session',
        arrived: true,
        attributes: 'Path=/; HttpOnly; Secure; SameSite=Lax',
      },
      {
        kind: 'access',
        name: '__Host-latchkey_access',
        arrived: true,
        attributes: 'Path=/; HttpOnly; Secure; SameSite=Lax',
      },
      {
        kind: 'refresh',
        name: '__Secure-latchkey_refresh',
        arrived: false,
        attributes: 'Path=/v1/refresh; HttpOnly; Secure; SameSite=Strict',
      },
      {
        kind: 'device',
        name: '__Host-latchkey_device',
        arrived: false,
        attributes: 'Path=/; Max-Age=31536000; HttpOnly; Secure; SameSite=Strict',
      },
    ]);
  });
});

describe('Server-Timing on authenticated responses', () => {
  it('GET /v1/me with a Bearer token or a session cookie says how long the auth step took', async () => {
    const token = await loginToken(t.app, 'ada@example.com');
    const cookie = await loginCookie(t.app, 'ada@example.com');
    for (const headers of [{ authorization: `Bearer ${token.access_token}` }, { cookie: cookie.cookie }]) {
      const response = await t.app.inject({ method: 'GET', url: '/v1/me', headers });
      expect(response.statusCode).toBe(200);
      expect(response.headers['server-timing']).toMatch(/^auth;dur=\d+\.\d{2}$/);
    }
  });

  it('is absent from refusals and from answers that authenticate no one', async () => {
    const refused = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: 'Bearer x.y.z' },
    });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['server-timing']).toBeUndefined();
    const health = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.headers['server-timing']).toBeUndefined();
  });
});

describe('a browser that holds a cookie session and a hybrid session at once (as /lab does)', () => {
  it('uses the session its CSRF header names; without one, the session cookie as before', async () => {
    const cookie = await loginCookie(t.app, 'ada@example.com');
    const hybrid = await loginHybrid();
    const both = `${cookie.cookie}; ${hybrid.cookies}`;
    const me = async (headers: Record<string, string>): Promise<string> => {
      const response = await t.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { cookie: both, ...headers },
      });
      expect(response.statusCode).toBe(200);
      return json<{ session: { id: string } }>(response).session.id;
    };
    expect(await me({})).toBe(cookie.sessionId);
    expect(await me({ 'x-csrf-token': cookie.csrf })).toBe(cookie.sessionId);
    expect(await me({ 'x-csrf-token': hybrid.csrf })).toBe(hybrid.sessionId);
  });

  it('still refuses an unsafe request whose CSRF header belongs to neither session, with nothing changed', async () => {
    const cookie = await loginCookie(t.app, 'ada@example.com');
    const hybrid = await loginHybrid();
    for (const csrf of ['forged-token', cookie.csrf.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))]) {
      const response = await t.app.inject({
        method: 'DELETE',
        url: `/v1/sessions/${cookie.sessionId}`,
        headers: { cookie: `${cookie.cookie}; ${hybrid.cookies}`, 'x-csrf-token': csrf },
      });
      expect(response.statusCode).toBe(403);
      expect(json(response).code).toBe('csrf_failed');
    }
    // Nothing changed: both sessions are still live.
    for (const headers of [{ cookie: cookie.cookie }, { cookie: hybrid.cookies }]) {
      const live = await t.app.inject({ method: 'GET', url: '/v1/me', headers });
      expect(live.statusCode).toBe(200);
    }
  });
});
