/**
 * Session mode of the verifier: the auth server's session cookie, checked by introspection,
 * cached, and dropped from the cache by the revocation feed.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSSERevocationFeed, createVerifier, type Verifier } from '../../src/verify/index.js';
import { ISSUER, PASSWORD } from '../helpers/app.js';
import { countingFetch, startLiveServer, waitFor, type LiveServer } from './live-server.js';

let server: LiveServer;
const verifiers: Verifier[] = [];
beforeAll(async () => {
  server = await startLiveServer();
});
afterEach(async () => {
  for (const verifier of verifiers.splice(0)) await verifier.close();
});
afterAll(async () => {
  await server.close();
});

function makeVerifier(counting: ReturnType<typeof countingFetch>, secret = server.clientSecret): Verifier {
  const verifier = createVerifier({
    issuer: ISSUER,
    audience: ISSUER,
    algorithms: ['EdDSA'],
    jwksUri: server.jwksUri,
    revocation: createSSERevocationFeed({ url: server.feedUrl, headers: server.feedHeaders, retryMs: 20 }),
    clock: server.clock,
    fetch: counting.fetch,
    introspection: {
      url: `${server.url}/v1/introspect`,
      clientId: server.clientId,
      clientSecret: secret,
    },
  });
  verifiers.push(verifier);
  return verifier;
}

async function loginCookie(email: string): Promise<{ cookie: string; csrf: string; sessionId: string }> {
  await server.app.inject({ method: 'POST', url: '/v1/signup', payload: { email, password: PASSWORD } });
  const response = await server.app.inject({
    method: 'POST',
    url: '/v1/login',
    payload: { email, password: PASSWORD, mode: 'cookie' },
  });
  const body = JSON.parse(response.body) as { csrf_token: string; session: { id: string } };
  const raw = response.headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const cookie = list.find((c) => c.startsWith('__Host-latchkey_session='))?.split(';')[0] ?? '';
  return { cookie, csrf: body.csrf_token, sessionId: body.session.id };
}

describe('verifier session mode (introspection)', () => {
  it('authenticates a session cookie, caches the answer, and drops it when the feed revokes the session', async () => {
    const counting = countingFetch();
    const verifier = makeVerifier(counting);
    await verifier.ready();
    const login = await loginCookie('session-mode@example.com');

    const principal = await verifier.authenticate({ method: 'GET', headers: { cookie: login.cookie } });
    expect(principal).toMatchObject({ sid: login.sessionId, via: 'cookie', clientId: null, scope: [] });
    await verifier.authenticate({ method: 'GET', headers: { cookie: login.cookie } });
    expect(counting.count('/v1/introspect')).toBe(1);

    const logout = await server.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { cookie: login.cookie, 'x-csrf-token': login.csrf },
    });
    expect(logout.statusCode).toBe(204);
    await waitFor(() => verifier.health().revocation.entries > 0);
    await expect(
      verifier.authenticate({ method: 'GET', headers: { cookie: login.cookie } }),
    ).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(counting.count('/v1/introspect')).toBe(2);
  });

  it('refuses an unknown cookie, and answers 503 when its own client credentials are refused', async () => {
    const verifier = makeVerifier(countingFetch());
    await verifier.ready();
    const forged = `__Host-latchkey_session=${'A'.repeat(22)}.${'B'.repeat(43)}`;
    await expect(verifier.authenticate({ method: 'GET', headers: { cookie: forged } })).rejects.toMatchObject(
      {
        code: 'unauthenticated',
      },
    );

    const wrong = makeVerifier(countingFetch(), 'not-the-secret');
    await wrong.ready();
    const login = await loginCookie('session-mode-2@example.com');
    await expect(
      wrong.authenticate({ method: 'GET', headers: { cookie: login.cookie } }),
    ).rejects.toMatchObject({
      code: 'store_unavailable',
    });
  });

  it('refuses a misconfigured introspection option at once', () => {
    expect(() =>
      createVerifier({
        issuer: ISSUER,
        audience: ISSUER,
        algorithms: ['EdDSA'],
        jwksUri: server.jwksUri,
        revocation: false,
        introspection: { url: `${server.url}/v1/introspect`, clientId: '', clientSecret: 'x' },
      }),
    ).toThrow(/"introspection.clientId"/);
  });
});
