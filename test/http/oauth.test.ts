/**
 * `POST /oauth/token` (client credentials, RFC 6749 §4.4), the machine tokens it issues, and the
 * RFC 8414 metadata document.
 */

import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClientService, type CreatedClient } from '../../src/clients/clients.js';
import { createVerifier } from '../../src/verify/index.js';
import { createTestApp, ISSUER, json, PASSWORD, signup, type TestApp } from '../helpers/app.js';

const ORDERS = 'https://orders.example';
const BILLING = 'https://billing.example';

let t: TestApp;
let orders: CreatedClient;

beforeEach(async () => {
  t = await createTestApp();
  orders = await createClientService(t.latchkey).create({
    name: 'orders worker',
    scopes: ['orders:read', 'orders:write'],
    audiences: [ORDERS, BILLING, ISSUER],
  });
});
afterEach(async () => {
  await t.close();
});

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

function form(parameters: Record<string, string>): string {
  return new URLSearchParams(parameters).toString();
}

function tokenRequest(
  parameters: Record<string, string>,
  options: { authorization?: string; json?: boolean } = {},
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: {
      'content-type': options.json === true ? 'application/json' : 'application/x-www-form-urlencoded',
      ...(options.authorization === undefined ? {} : { authorization: options.authorization }),
    },
    payload: options.json === true ? JSON.stringify(parameters) : form(parameters),
  });
}

const asOrders = (parameters: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
  tokenRequest(
    { grant_type: 'client_credentials', ...parameters },
    { authorization: basic(orders.client.id, orders.secret) },
  );

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
}

describe('POST /oauth/token (client credentials)', () => {
  it('issues a machine token: Basic auth, form body, every scope and the first audience by default', async () => {
    const response = await asOrders();
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = json<TokenBody>(response);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'orders:read orders:write' });
    const claims = claimsOf(body.access_token);
    expect(Object.keys(claims).sort()).toEqual([
      'aud',
      'client_id',
      'exp',
      'iat',
      'iss',
      'jti',
      'scope',
      'sub',
    ]);
    expect(claims).toMatchObject({
      iss: ISSUER,
      aud: ORDERS,
      sub: orders.client.id,
      client_id: orders.client.id,
      scope: 'orders:read orders:write',
    });
    expect(claims.sid).toBeUndefined();
  });

  it('grants a subset of the scopes and refuses more with invalid_scope', async () => {
    const subset = await asOrders({ scope: 'orders:read' });
    expect(subset.statusCode).toBe(200);
    expect(json<TokenBody>(subset).scope).toBe('orders:read');
    expect(claimsOf(json<TokenBody>(subset).access_token).scope).toBe('orders:read');

    const more = await asOrders({ scope: 'orders:read admin' });
    expect(more.statusCode).toBe(400);
    expect(more.headers['content-type']).toMatch(/^application\/json/);
    expect(json(more)).toMatchObject({ error: 'invalid_scope' });
  });

  it('issues for a chosen audience (audience or resource) and refuses others', async () => {
    const byAudience = await asOrders({ audience: BILLING });
    expect(claimsOf(json<TokenBody>(byAudience).access_token).aud).toBe(BILLING);
    const byResource = await asOrders({ resource: BILLING });
    expect(claimsOf(json<TokenBody>(byResource).access_token).aud).toBe(BILLING);
    const other = await asOrders({ audience: 'https://elsewhere.example' });
    expect(other.statusCode).toBe(400);
    expect(json(other)).toMatchObject({ error: 'invalid_target' });
  });

  it('accepts client_secret_post and a JSON body', async () => {
    const post = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: orders.client.id,
      client_secret: orders.secret,
    });
    expect(post.statusCode).toBe(200);
    const viaJSON = await tokenRequest(
      { grant_type: 'client_credentials', client_id: orders.client.id, client_secret: orders.secret },
      { json: true },
    );
    expect(viaJSON.statusCode).toBe(200);
    expect(json<TokenBody>(viaJSON).token_type).toBe('Bearer');
  });

  it('decodes form-urlencoded id and secret inside Basic (RFC 6749 §2.3.1)', async () => {
    // A secret of ours never needs escaping, but a client may escape anything: %2D is "-".
    const escaped = orders.secret.replace(/-/g, '%2D').replace(/_/g, '%5F');
    const raw = `Basic ${Buffer.from(`${orders.client.id}:${escaped}`).toString('base64')}`;
    const response = await tokenRequest({ grant_type: 'client_credentials' }, { authorization: raw });
    expect(response.statusCode).toBe(200);
  });

  it('answers a wrong secret and an unknown client with the same 401 invalid_client', async () => {
    const wrong = await tokenRequest(
      { grant_type: 'client_credentials' },
      { authorization: basic(orders.client.id, 'not-the-secret') },
    );
    const unknown = await tokenRequest(
      { grant_type: 'client_credentials' },
      { authorization: basic('no-such-client', orders.secret) },
    );
    for (const response of [wrong, unknown]) {
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Basic realm="latchkey"');
      expect(response.headers['cache-control']).toBe('no-store');
    }
    expect(json(wrong)).toEqual(json(unknown));
    expect(json(wrong)).toMatchObject({ error: 'invalid_client' });
    expect(wrong.body).not.toContain(orders.secret);
    const none = await tokenRequest({ grant_type: 'client_credentials' });
    expect(none.statusCode).toBe(401);
  });

  it('refuses a disabled client', async () => {
    await createClientService(t.latchkey).disable(orders.client.id);
    const response = await asOrders();
    expect(response.statusCode).toBe(401);
    expect(json(response)).toMatchObject({ error: 'invalid_client' });
  });

  it('answers request errors in the OAuth shape', async () => {
    const missing = await tokenRequest({}, { authorization: basic(orders.client.id, orders.secret) });
    expect(json(missing)).toMatchObject({ error: 'invalid_request' });
    const unsupported = await tokenRequest(
      { grant_type: 'password' },
      { authorization: basic(orders.client.id, orders.secret) },
    );
    expect(unsupported.statusCode).toBe(400);
    expect(json(unsupported)).toMatchObject({ error: 'unsupported_grant_type' });
    const repeated = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=client_credentials&grant_type=client_credentials',
    });
    expect(json(repeated)).toMatchObject({ error: 'invalid_request' });
    const big = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=client_credentials&pad=${'a'.repeat(17 * 1024)}`,
    });
    expect(big.statusCode).toBe(413);
    expect(json(big)).toMatchObject({ error: 'invalid_request' });
    // The form parser is for the OAuth routes only.
    const elsewhere = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'email=a%40example.com&password=x',
    });
    expect(elsewhere.statusCode).toBe(415);
  });

  it('throttles failed authentications per client id with 429 and Retry-After', async () => {
    for (let i = 0; i < 10; i++) {
      const response = await tokenRequest(
        { grant_type: 'client_credentials' },
        { authorization: basic(orders.client.id, `wrong-${i}`) },
      );
      expect(response.statusCode).toBe(401);
    }
    const throttled = await asOrders();
    expect(throttled.statusCode).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    expect(json(throttled)).toMatchObject({ error: 'too_many_requests' });
    t.clock.advance(61_000);
    expect((await asOrders()).statusCode).toBe(200);
  });

  it('never logs the client secret', async () => {
    await asOrders();
    await tokenRequest(
      { grant_type: 'client_credentials', client_id: orders.client.id, client_secret: orders.secret },
      { json: true },
    );
    expect(t.logs.join('\n')).not.toContain(orders.secret);
  });
});

describe('POST /oauth/token (refresh token)', () => {
  it('rotates a token-mode refresh token, and answers invalid_grant for a spent one', async () => {
    await signup(t.app, 'alice@example.com');
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: PASSWORD, mode: 'token' },
    });
    const { refresh_token } = json<{ refresh_token: string }>(login);
    const rotated = await tokenRequest({ grant_type: 'refresh_token', refresh_token });
    expect(rotated.statusCode).toBe(200);
    const body = json<TokenBody & { refresh_token: string }>(rotated);
    expect(body.token_type).toBe('Bearer');
    expect(body.refresh_token).not.toBe(refresh_token);
    t.clock.advance(60_000);
    const spent = await tokenRequest({ grant_type: 'refresh_token', refresh_token });
    expect(spent.statusCode).toBe(400);
    expect(json(spent)).toMatchObject({ error: 'invalid_grant' });
  });
});

describe('machine tokens', () => {
  it('are refused by the server’s own endpoints (no session): /v1/me answers invalid_token', async () => {
    // The token is for the server's own audience, so only the missing sid refuses it.
    const { access_token } = json<TokenBody>(await asOrders({ audience: ISSUER }));
    const me = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(me.statusCode).toBe(401);
    expect(json(me)).toMatchObject({ code: 'invalid_token' });
    expect(me.headers['www-authenticate']).toContain('error="invalid_token"');
    const sessions = await t.app.inject({
      method: 'GET',
      url: '/v1/sessions',
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(sessions.statusCode).toBe(401);
  });

  it('are verified by the SDK, with client_id and scope in the principal', async () => {
    const { access_token } = json<TokenBody>(await asOrders({ scope: 'orders:read' }));
    const jwks = json<{ keys: object[] }>(
      await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' }),
    );
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: ORDERS,
      algorithms: ['EdDSA'],
      keys: jwks.keys,
      revocation: false,
      clock: t.clock,
    });
    try {
      const principal = await verifier.verify(access_token);
      expect(principal).toMatchObject({
        sub: orders.client.id,
        clientId: orders.client.id,
        sid: null,
        scope: ['orders:read'],
      });
    } finally {
      await verifier.close();
    }
  });
});

describe('GET /.well-known/oauth-authorization-server (RFC 8414)', () => {
  it('describes the endpoints', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({
      issuer: ISSUER,
      token_endpoint: `${ISSUER}/oauth/token`,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      introspection_endpoint: `${ISSUER}/v1/introspect`,
      grant_types_supported: ['client_credentials', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      response_types_supported: [],
      latchkey_revocation_feed: `${ISSUER}/v1/revocations`,
    });
  });
});
