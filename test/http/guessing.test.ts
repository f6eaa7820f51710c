/**
 * Issue 13, point 5: guessing is throttled. Every attack goes through the HTTP server
 * (`app.inject`, each client at its own `remoteAddress`), with the manual clock for time.
 *
 * - Failed authentications per client: credentials we never issued (session cookies, Bearer
 *   tokens, hybrid access cookies, refresh tokens) share one count per client address (an IPv6
 *   address by its /64): 100 per 10 min, then 429 with `Retry-After` for the failing ones,
 *   while a valid credential from the same client keeps working. Expired or revoked credentials
 *   we did issue do not count.
 * - Refresh floods, on `POST /v1/refresh` and `/oauth/token` alike: 100 refreshes per 10 min
 *   per token family (session), 600 per minute per client.
 */

import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeUnavailable } from '../../src/errors.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { createTestApp, json, PASSWORD, setCookies, signup, type TestApp } from '../helpers/app.js';

const ATTACKER = '203.0.113.66';
const OTHER = '198.51.100.7';
const FAILURE_LIMIT = 100;
const FAMILY_LIMIT = 100;
const CLIENT_REFRESH_LIMIT = 600;

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
  await signup(t.app, 'alice@example.com');
});
afterEach(async () => {
  await t.close();
});

interface SignedIn {
  response: LightMyRequestResponse;
  sessionCookie: string;
  accessToken: string;
  refreshToken: string;
  csrf: string;
}

async function login(mode: 'cookie' | 'token' | 'hybrid', remoteAddress = ATTACKER): Promise<SignedIn> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/v1/login',
    payload: { email: 'alice@example.com', password: PASSWORD, mode },
    remoteAddress,
  });
  expect(response.statusCode).toBe(200);
  const body = json<{ access_token?: string; refresh_token?: string; csrf_token?: string }>(response);
  const cookies = setCookies(response);
  return {
    response,
    sessionCookie: `__Host-latchkey_session=${cookies.get('__Host-latchkey_session')?.value ?? ''}`,
    accessToken: body.access_token ?? cookies.get('__Host-latchkey_access')?.value ?? '',
    refreshToken: body.refresh_token ?? cookies.get('__Secure-latchkey_refresh')?.value ?? '',
    csrf: body.csrf_token ?? '',
  };
}

const me = (headers: Record<string, string>, remoteAddress = ATTACKER) =>
  t.app.inject({ method: 'GET', url: '/v1/me', headers, remoteAddress });

const refreshBody = (refresh_token: string, remoteAddress = ATTACKER) =>
  t.app.inject({ method: 'POST', url: '/v1/refresh', payload: { refresh_token }, remoteAddress });

const refreshOAuth = (refresh_token: string, remoteAddress = ATTACKER) =>
  t.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'refresh_token', refresh_token }).toString(),
    remoteAddress,
  });

/** A well-formed `id.secret` that no session or refresh token has (so the store is read). */
const forgedCredential = (i: number): string =>
  `${String(i).padStart(6, '0')}AAAAAAAAAAAAAAAA.${'B'.repeat(43)}`;

/** A real access token with its signature changed: a well-formed JWT we never signed. */
function forgedJWT(token: string, i: number): string {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const at = 1 + (i % 40); // never the last character, whose low bits may not count
  const changed = signature.slice(0, at) + (signature[at] === 'A' ? 'B' : 'A') + signature.slice(at + 1);
  return `${header}.${payload}.${changed}`;
}

function retryAfter(response: LightMyRequestResponse): number {
  expect(response.statusCode).toBe(429);
  const value = Number(response.headers['retry-after']);
  expect(value).toBeGreaterThan(0);
  return value;
}

/** The structured log lines of one event. */
function events(name: string): Record<string, unknown>[] {
  return t.logs
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.event === name);
}

describe('failed authentications per client', () => {
  it('invalid session cookies: 429 past 100 per 10 min, the same client’s valid cookie still works', async () => {
    const owner = await login('cookie');
    for (let i = 0; i < FAILURE_LIMIT; i++) {
      expect((await me({ cookie: `__Host-latchkey_session=${forgedCredential(i)}` })).statusCode).toBe(401);
    }
    const throttled = await me({ cookie: `__Host-latchkey_session=${forgedCredential(999)}` });
    expect(throttled.statusCode).toBe(429);
    expect(json(throttled)).toMatchObject({ code: 'too_many_requests' });
    const retry = retryAfter(throttled);
    expect(retry).toBeLessThanOrEqual(600);

    // Verification comes first: a valid credential of the same client is not throttled.
    expect((await me({ cookie: owner.sessionCookie })).statusCode).toBe(200);
    // Another client is not touched.
    expect((await me({ cookie: `__Host-latchkey_session=${forgedCredential(1)}` }, OTHER)).statusCode).toBe(
      401,
    );
    // The window ends.
    t.clock.advance(retry * 1000);
    expect((await me({ cookie: `__Host-latchkey_session=${forgedCredential(2)}` })).statusCode).toBe(401);
  });

  it('Bearer tokens, access cookies, session cookies and refresh tokens share one count per client', async () => {
    const token = await login('token');
    const kinds: ((i: number) => Promise<LightMyRequestResponse>)[] = [
      (i) => me({ authorization: `Bearer ${forgedJWT(token.accessToken, i)}` }),
      (i) => me({ cookie: `__Host-latchkey_access=${forgedJWT(token.accessToken, i)}` }),
      (i) => me({ cookie: `__Host-latchkey_session=${forgedCredential(i)}` }),
      (i) => (i % 8 === 3 ? refreshBody(forgedCredential(i)) : refreshOAuth(forgedCredential(i))),
    ];
    for (let i = 0; i < FAILURE_LIMIT; i++) {
      const kind = kinds[i % kinds.length];
      if (kind === undefined) throw new Error('no such kind');
      const response = await kind(i);
      expect([400, 401]).toContain(response.statusCode);
    }
    for (const [i, attempt] of kinds.entries()) {
      const response = await attempt(1000 + i);
      expect(response.statusCode).toBe(429);
      retryAfter(response);
    }
    const oauth = await refreshOAuth(forgedCredential(2000));
    expect(oauth.statusCode).toBe(429);
    expect(json(oauth)).toMatchObject({ error: 'too_many_requests' });

    // The client's real access token and refresh token still work.
    expect((await me({ authorization: `Bearer ${token.accessToken}` })).statusCode).toBe(200);
    expect((await refreshBody(token.refreshToken)).statusCode).toBe(200);
  });

  it('does not count credentials we issued that expired or were revoked (no 429 for a busy NAT)', async () => {
    const token = await login('token');
    const cookie = await login('cookie');
    const logout = await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { cookie: cookie.sessionCookie, 'x-csrf-token': cookie.csrf },
      remoteAddress: ATTACKER,
    });
    expect(logout.statusCode).toBe(204);
    t.clock.advance(16 * 60_000); // the access token (15 min) has expired
    for (let i = 0; i < FAILURE_LIMIT + 50; i++) {
      expect((await me({ authorization: `Bearer ${token.accessToken}` })).statusCode).toBe(401);
      expect((await me({ cookie: cookie.sessionCookie })).statusCode).toBe(401);
    }
    expect(events('throttle.auth_failures')).toEqual([]);
  });

  it('counts an IPv6 client by its /64', async () => {
    for (let i = 0; i < FAILURE_LIMIT; i++) {
      const address = `2001:db8:1:2:${(i + 1).toString(16)}::1`;
      expect(
        (await me({ cookie: `__Host-latchkey_session=${forgedCredential(i)}` }, address)).statusCode,
      ).toBe(401);
    }
    const sameNetwork = await me(
      { cookie: `__Host-latchkey_session=${forgedCredential(1)}` },
      '2001:db8:1:2::ffff',
    );
    expect(sameNetwork.statusCode).toBe(429);
    const otherNetwork = await me(
      { cookie: `__Host-latchkey_session=${forgedCredential(1)}` },
      '2001:db8:1:3::1',
    );
    expect(otherNetwork.statusCode).toBe(401);
  });

  it('refuses a forged token with 401 even when its failure cannot be counted (store counters down)', async () => {
    const memory = createMemoryStore();
    const broken = await createTestApp({
      store: Object.assign(Object.create(memory) as typeof memory, {
        increment: (key: string, ttl: number, now: number) =>
          key.startsWith('auth:fail:')
            ? Promise.reject(storeUnavailable(new Error('counters down')))
            : memory.increment(key, ttl, now),
      }),
    });
    try {
      const token = (await login('token')).accessToken;
      const response = await broken.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { authorization: `Bearer ${forgedJWT(token, 0)}` },
      });
      expect(response.statusCode).toBe(401);
    } finally {
      await broken.close();
    }
  });

  it('logs one throttle.auth_failures warning with the address, and no credential', async () => {
    const forged = Array.from({ length: FAILURE_LIMIT + 20 }, (_, i) => forgedCredential(i));
    for (const credential of forged) await me({ cookie: `__Host-latchkey_session=${credential}` });
    const logged = events('throttle.auth_failures');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 40, ip: ATTACKER, limit: FAILURE_LIMIT });
    const all = t.logs.join('\n');
    for (const credential of forged) expect(all).not.toContain(credential.split('.')[1]);
  });
});

describe('refresh floods', () => {
  it('per family: a refresh loop gets 429 after 100 in 10 min, and the refused token still works later', async () => {
    let token = (await login('token')).refreshToken;
    const sibling = await login('token');
    for (let i = 0; i < FAMILY_LIMIT; i++) {
      const response = await refreshBody(token);
      expect(response.statusCode).toBe(200);
      token = json<{ refresh_token: string }>(response).refresh_token;
    }
    const flooded = await refreshBody(token);
    expect(flooded.statusCode).toBe(429);
    const retry = retryAfter(flooded);
    expect(retry).toBeLessThanOrEqual(600);
    // Another session of the same user, from the same client, is another family.
    expect((await refreshBody(sibling.refreshToken)).statusCode).toBe(200);
    expect(events('throttle.refresh_flood')).toEqual([
      expect.objectContaining({ scope: 'family', ip: ATTACKER, limit: FAMILY_LIMIT }),
    ]);
    // Nothing changed: after the window, the refused token is still the live one.
    t.clock.advance(retry * 1000);
    expect((await refreshBody(token)).statusCode).toBe(200);
  });

  it('per family across both endpoints: /v1/refresh and /oauth/token count together', async () => {
    let token = (await login('token')).refreshToken;
    for (let i = 0; i < FAMILY_LIMIT; i++) {
      const response = i % 2 === 0 ? await refreshBody(token) : await refreshOAuth(token);
      expect(response.statusCode).toBe(200);
      token = json<{ refresh_token: string }>(response).refresh_token;
    }
    const flooded = await refreshOAuth(token);
    expect(flooded.statusCode).toBe(429);
    expect(json(flooded)).toMatchObject({ error: 'too_many_requests' });
    retryAfter(flooded);
    expect((await refreshBody(token)).statusCode).toBe(429);
  });

  it('per family through the hybrid cookie: 429 leaves the cookies in place', async () => {
    const signedIn = await login('hybrid');
    let cookie = signedIn.refreshToken;
    const refreshCookie = () =>
      t.app.inject({
        method: 'POST',
        url: '/v1/refresh',
        headers: { cookie: `__Secure-latchkey_refresh=${cookie}`, 'x-csrf-token': signedIn.csrf },
        remoteAddress: ATTACKER,
      });
    for (let i = 0; i < FAMILY_LIMIT; i++) {
      const response = await refreshCookie();
      expect(response.statusCode).toBe(200);
      cookie = setCookies(response).get('__Secure-latchkey_refresh')?.value ?? '';
    }
    const flooded = await refreshCookie();
    expect(flooded.statusCode).toBe(429);
    expect(flooded.headers['set-cookie']).toBeUndefined();
    t.clock.advance(retryAfter(flooded) * 1000);
    expect((await refreshCookie()).statusCode).toBe(200);
  });

  it('per client: 600 refreshes a minute from one address, over any number of sessions', async () => {
    const sessions = await Promise.all(Array.from({ length: 7 }, () => login('token')));
    const tokens = sessions.map((session) => session.refreshToken);
    for (let i = 0; i < CLIENT_REFRESH_LIMIT; i++) {
      const which = i % 6;
      const response = await refreshBody(tokens[which] ?? '');
      expect(response.statusCode).toBe(200);
      tokens[which] = json<{ refresh_token: string }>(response).refresh_token;
    }
    // A session that never refreshed is refused too: the client is flooding.
    const flooded = await refreshBody(tokens[6] ?? '');
    expect(flooded.statusCode).toBe(429);
    const retry = retryAfter(flooded);
    expect(retry).toBeLessThanOrEqual(60);
    expect(events('throttle.refresh_flood')).toEqual([
      expect.objectContaining({ scope: 'client', ip: ATTACKER, limit: CLIENT_REFRESH_LIMIT }),
    ]);
    // The same token from another client goes through; after the minute, from this one too.
    const elsewhere = await refreshBody(tokens[6] ?? '', OTHER);
    expect(elsewhere.statusCode).toBe(200);
    t.clock.advance(retry * 1000);
    expect((await refreshBody(json<{ refresh_token: string }>(elsewhere).refresh_token)).statusCode).toBe(
      200,
    );
  });

  it('the operator tunes both limits (LATCHKEY_REFRESH_LIMIT_IP, LATCHKEY_REFRESH_LIMIT_SESSION)', async () => {
    const tuned = await createTestApp({ config: { refreshLimitPerClient: 150, refreshLimitPerSession: 0 } });
    try {
      await signup(tuned.app, 'bob@example.com');
      const signedIn = await tuned.app.inject({
        method: 'POST',
        url: '/v1/login',
        payload: { email: 'bob@example.com', password: PASSWORD, mode: 'token' },
      });
      let token = json<{ refresh_token: string }>(signedIn).refresh_token;
      const refresh = () =>
        tuned.app.inject({ method: 'POST', url: '/v1/refresh', payload: { refresh_token: token } });
      // No family limit: one session refreshes past 100; the client's own limit is 150.
      for (let i = 0; i < 150; i++) {
        const response = await refresh();
        expect(response.statusCode).toBe(200);
        token = json<{ refresh_token: string }>(response).refresh_token;
      }
      retryAfter(await refresh());
    } finally {
      await tuned.close();
    }
  });

  it('a real SPA with 40 tabs never meets a limit: a tab restore burst, then every tab at each expiry', async () => {
    const signedIn = await login('hybrid');
    let cookie = signedIn.refreshToken;
    /** Every tab refreshes `times` times with the cookie they share, at the same moment. */
    async function everyTab(tabs: number, times: number): Promise<void> {
      const sent = cookie;
      for (let i = 0; i < tabs * times; i++) {
        const response = await t.app.inject({
          method: 'POST',
          url: '/v1/refresh',
          headers: { cookie: `__Secure-latchkey_refresh=${sent}`, 'x-csrf-token': signedIn.csrf },
          remoteAddress: ATTACKER,
        });
        expect(response.statusCode).toBe(200);
        cookie = setCookies(response).get('__Secure-latchkey_refresh')?.value ?? cookie;
      }
    }
    await everyTab(40, 2);
    for (let round = 0; round < 16; round++) {
      t.clock.advance(15 * 60_000);
      await everyTab(40, 1);
    }
    expect(events('throttle.refresh_flood')).toEqual([]);
  });
});
