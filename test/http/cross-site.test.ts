/**
 * Conflicting cross-site signals are refused: an unsafe request is refused with 403 when any of
 * `Sec-Fetch-Site`, `Origin` and `Referer` says cross-site, even when another says same-origin;
 * on login (login CSRF) and on every unsafe route, cookie and hybrid alike. A refused request
 * changes nothing and sets no cookie.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createTestApp,
  ISSUER,
  json,
  loginCookie,
  PASSWORD,
  setCookies,
  signup,
  type TestApp,
} from '../helpers/app.js';

const ALLOWED = 'https://app.example.test';
const OWN = new URL(ISSUER).origin;

/** Header sets a browser would never send for a same-origin request, each with what it fakes. */
const CONFLICTING: [string, Record<string, string>][] = [
  ['Sec-Fetch-Site cross-site next to the own Origin', { origin: OWN, 'sec-fetch-site': 'cross-site' }],
  ['Sec-Fetch-Site same-site next to the own Origin', { origin: OWN, 'sec-fetch-site': 'same-site' }],
  ['Sec-Fetch-Site cross-site without an Origin', { 'sec-fetch-site': 'cross-site' }],
  ['no Origin but a foreign Referer', { referer: 'https://evil.example/attack.html' }],
  ['the own Origin but a foreign Referer', { origin: OWN, referer: 'https://evil.example/' }],
  ['a Referer that is not a URL', { referer: 'not a url' }],
  ['the own host over the other scheme', { origin: OWN.replace('https:', 'http:') }],
  ['a look-alike host that ends with the issuer host', { origin: `https://evil-${new URL(ISSUER).host}` }],
  ['the issuer host as a prefix of another host', { origin: `${OWN}.evil.example` }],
  ['the own origin on another port', { origin: `${OWN}:8443` }],
  ['Origin null', { origin: 'null' }],
];

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ config: { allowedOrigins: [ALLOWED] } });
  await signup(t.app, 'alice@example.com');
});
afterEach(async () => {
  await t.close();
});

function expectRefused(response: Awaited<ReturnType<TestApp['app']['inject']>>, what: string): void {
  expect(response.statusCode, what).toBe(403);
  expect(json(response), what).toMatchObject({ code: 'cross_site_request' });
  expect(response.headers['set-cookie'], what).toBeUndefined();
}

describe('conflicting cross-site signals', () => {
  it('refuse a login, which then creates no session and sets no cookie (login CSRF)', async () => {
    for (const [what, headers] of CONFLICTING) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/login',
        headers,
        payload: { email: 'alice@example.com', password: PASSWORD },
      });
      expectRefused(response, what);
    }
    const user = await t.store.getUserByEmail('alice@example.com');
    expect(await t.store.listUserSessions(user?.id ?? '', t.clock())).toEqual([]);
  });

  it('refuse every unsafe route of a cookie session, and change nothing', async () => {
    const alice = await loginCookie(t.app, 'alice@example.com');
    const base = { cookie: alice.cookie, 'x-csrf-token': alice.csrf };
    const routes = [
      { method: 'POST', url: '/v1/logout' },
      {
        method: 'POST',
        url: '/v1/password',
        payload: { current_password: PASSWORD, new_password: 'pwned pwned pwned 1' },
      },
      { method: 'DELETE', url: `/v1/sessions/${alice.sessionId}` },
      { method: 'DELETE', url: '/v1/sessions' },
    ] as const;
    for (const route of routes) {
      for (const [what, headers] of CONFLICTING) {
        const response = await t.app.inject({ ...route, headers: { ...base, ...headers } });
        expectRefused(response, `${route.method} ${route.url}: ${what}`);
      }
    }
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie: alice.cookie } });
    expect(me.statusCode).toBe(200);
    // The password is unchanged: the old one still signs in.
    await loginCookie(t.app, 'alice@example.com', PASSWORD);
  });

  it('refuse a hybrid refresh and a hybrid logout; the cookies keep working', async () => {
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: PASSWORD, mode: 'hybrid' },
    });
    const cookies = setCookies(login);
    const csrf = json<{ csrf_token: string }>(login).csrf_token;
    const refreshCookie = `__Secure-latchkey_refresh=${cookies.get('__Secure-latchkey_refresh')?.value ?? ''}`;
    const accessCookie = `__Host-latchkey_access=${cookies.get('__Host-latchkey_access')?.value ?? ''}`;
    for (const [what, headers] of CONFLICTING) {
      const refresh = await t.app.inject({
        method: 'POST',
        url: '/v1/refresh',
        headers: { cookie: refreshCookie, 'x-csrf-token': csrf, ...headers },
      });
      expectRefused(refresh, `refresh: ${what}`);
      const logout = await t.app.inject({
        method: 'POST',
        url: '/v1/logout',
        headers: { cookie: accessCookie, 'x-csrf-token': csrf, ...headers },
      });
      expectRefused(logout, `logout: ${what}`);
    }
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      headers: { cookie: refreshCookie, 'x-csrf-token': csrf, origin: OWN, 'sec-fetch-site': 'same-origin' },
    });
    expect(refresh.statusCode).toBe(200);
  });

  it('let consistent signals through: same-origin, an allowed origin cross-site, and no browser signal', async () => {
    const consistent: Record<string, string>[] = [
      { origin: OWN, 'sec-fetch-site': 'same-origin', referer: `${OWN}/login` },
      { origin: ALLOWED, 'sec-fetch-site': 'cross-site', referer: `${ALLOWED}/app` },
      { origin: ALLOWED, 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'none' },
      {},
    ];
    for (const headers of consistent) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/login',
        headers,
        payload: { email: 'alice@example.com', password: PASSWORD },
      });
      expect(response.statusCode, JSON.stringify(headers)).toBe(200);
    }
  });
});
