/**
 * `POST /v1/introspect` (RFC 7662) for authenticated machine clients.
 */

import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClientService, type CreatedClient } from '../../src/clients/clients.js';
import {
  createTestApp,
  ISSUER,
  json,
  loginCookie,
  PASSWORD,
  signup,
  type CookieLogin,
  type TestApp,
} from '../helpers/app.js';

const ORDERS = 'https://orders.example';

let t: TestApp;
let service: CreatedClient;

beforeEach(async () => {
  t = await createTestApp();
  service = await createClientService(t.latchkey).create({
    name: 'orders api',
    scopes: ['orders:read'],
    audiences: [ORDERS],
  });
  await signup(t.app, 'alice@example.com');
});
afterEach(async () => {
  await t.close();
});

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

function introspect(
  parameters: Record<string, string>,
  options: { authorization?: string | null; json?: boolean } = {},
): Promise<LightMyRequestResponse> {
  const authorization =
    options.authorization === undefined ? basic(service.client.id, service.secret) : options.authorization;
  return t.app.inject({
    method: 'POST',
    url: '/v1/introspect',
    headers: {
      'content-type': options.json === true ? 'application/json' : 'application/x-www-form-urlencoded',
      ...(authorization === null ? {} : { authorization }),
    },
    payload: options.json === true ? JSON.stringify(parameters) : new URLSearchParams(parameters).toString(),
  });
}

const sessionValue = (login: CookieLogin): string => login.cookie.slice(login.cookie.indexOf('=') + 1);

async function loginToken(): Promise<{
  access_token: string;
  refresh_token: string;
  session: { id: string };
}> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/v1/login',
    payload: { email: 'alice@example.com', password: PASSWORD, mode: 'token' },
  });
  return json(response);
}

describe('POST /v1/introspect', () => {
  it('describes a live cookie session without sliding it, and is inactive after logout', async () => {
    const login = await loginCookie(t.app, 'alice@example.com');
    const before = await t.store.getSession(login.sessionId);
    t.clock.advance(10 * 60_000);
    const response = await introspect({ token: sessionValue(login) });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = json(response);
    const user = await t.store.getUserByEmail('alice@example.com');
    expect(body).toEqual({
      active: true,
      sub: user?.id,
      sid: login.sessionId,
      exp: Math.floor(Math.min(before?.idleExpiresAt ?? 0, before?.absoluteExpiresAt ?? 0) / 1000),
      iat: Math.floor((before?.createdAt ?? 0) / 1000),
      token_type: 'session',
      amr: ['pwd'],
      auth_time: Math.floor((before?.createdAt ?? 0) / 1000),
      acr: '1',
    });
    // Not slid: introspection is not the user's activity.
    expect((await t.store.getSession(login.sessionId))?.lastSeenAt).toBe(before?.lastSeenAt);

    const logout = await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { cookie: login.cookie, 'x-csrf-token': login.csrf },
    });
    expect(logout.statusCode).toBe(204);
    expect(json(await introspect({ token: sessionValue(login) }))).toEqual({ active: false });
  });

  it('is inactive for a session cookie with a wrong secret', async () => {
    const login = await loginCookie(t.app, 'alice@example.com');
    const [id] = sessionValue(login).split('.');
    const forged = `${id ?? ''}.${'A'.repeat(43)}`;
    expect(json(await introspect({ token: forged }))).toEqual({ active: false });
  });

  it('describes a live access token (JSON body too), and is inactive once its session is revoked', async () => {
    const login = await loginToken();
    const response = await introspect(
      { token: login.access_token, token_type_hint: 'access_token' },
      { json: true },
    );
    expect(response.statusCode).toBe(200);
    const body = json(response);
    expect(body).toMatchObject({ active: true, sid: login.session.id, token_type: 'access_token' });
    expect(typeof body.exp).toBe('number');
    expect(typeof body.iat).toBe('number');

    await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { authorization: `Bearer ${login.access_token}` },
    });
    expect(json(await introspect({ token: login.access_token }))).toEqual({ active: false });
  });

  it('describes a machine token for the caller’s audience, with scope and client_id', async () => {
    const token = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(service.client.id, service.secret),
      },
      payload: 'grant_type=client_credentials',
    });
    const { access_token } = json<{ access_token: string }>(token);
    expect(json(await introspect({ token: access_token }))).toMatchObject({
      active: true,
      sub: service.client.id,
      client_id: service.client.id,
      scope: 'orders:read',
      token_type: 'access_token',
    });
    expect(json(await introspect({ token: access_token }))).not.toHaveProperty('sid');
    await createClientService(t.latchkey).disable(service.client.id);
    // The disabled client can no longer call introspection either.
    expect((await introspect({ token: access_token })).statusCode).toBe(401);
  });

  it('is inactive for an expired token, a refresh token, garbage, and nothing more', async () => {
    const login = await loginToken();
    expect(json(await introspect({ token: login.refresh_token }))).toEqual({ active: false });
    expect(json(await introspect({ token: login.refresh_token, token_type_hint: 'refresh_token' }))).toEqual({
      active: false,
    });
    for (const garbage of ['garbage', 'a.b.c', 'x'.repeat(9000).slice(0, 8000), `${ISSUER}.x`]) {
      const response = await introspect({ token: garbage });
      expect(response.statusCode).toBe(200);
      expect(json(response)).toEqual({ active: false });
    }
    t.clock.advance(16 * 60_000);
    expect(json(await introspect({ token: login.access_token }))).toEqual({ active: false });
  });

  it('refuses an unauthenticated or wrongly authenticated caller with 401 invalid_client', async () => {
    const login = await loginCookie(t.app, 'alice@example.com');
    for (const authorization of [null, basic(service.client.id, 'wrong'), 'Bearer abc']) {
      const response = await introspect({ token: sessionValue(login) }, { authorization });
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Basic realm="latchkey"');
      expect(json(response)).toMatchObject({ error: 'invalid_client' });
    }
    const post = await introspect(
      { token: sessionValue(login), client_id: service.client.id, client_secret: service.secret },
      { authorization: null },
    );
    expect(json(post)).toMatchObject({ active: true });
    expect((await introspect({}, {})).statusCode).toBe(400);
  });
});
