/**
 * `requireAuth` of latchkey/verify: its options, the acr ladder, and the same RFC 9470 refusal
 * through every adapter (Express is in test/http/step-up.test.ts).
 */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latchkeyFastify } from '../../src/verify/adapters/fastify.js';
import { latchkeyHono, type LatchkeyHonoEnv } from '../../src/verify/adapters/hono.js';
import { latchkeyNodeHTTP } from '../../src/verify/adapters/node-http.js';
import { createVerifier, requireAuth, type Principal, type Verifier } from '../../src/verify/index.js';
import { ISSUER } from '../helpers/app.js';
import { startLiveServer, type LiveServer } from './live-server.js';

const CHALLENGE =
  'Bearer realm="pay", error="insufficient_user_authentication", ' +
  'error_description="A different authentication level is required", acr_values="mfa", max_age=300';

let server: LiveServer;
let verifier: Verifier;
let password: string;

beforeAll(async () => {
  server = await startLiveServer();
  verifier = createVerifier({
    issuer: ISSUER,
    audience: ISSUER,
    algorithms: ['EdDSA'],
    keys: server.latchkey.keyring.jwks().keys,
    revocation: false,
    clock: server.clock,
  });
  password = (await server.loginToken('ladder@example.com')).accessToken;
});

afterAll(async () => {
  await verifier.close();
  await server.close();
});

function principal(claims: Partial<Pick<Principal, 'acr' | 'authTime'>>): Principal {
  return { acr: null, authTime: null, amr: [], ...claims } as unknown as Principal;
}

describe('requireAuth', () => {
  it('refuses options it cannot print in a challenge, at once', () => {
    expect(() => requireAuth({ acr: 'm f a' })).toThrow(/"acr"/);
    expect(() => requireAuth({ acr: [] })).toThrow(/"acr"/);
    expect(() => requireAuth({ acr: 'a"b' })).toThrow(/"acr"/);
    expect(() => requireAuth({ maxAge: '10 minutes' })).toThrow(/"maxAge"/);
    expect(() => requireAuth({ maxAge: -1 })).toThrow(/"maxAge"/);
    expect(() => requireAuth({ maxAge: '1500ms' })).toThrow(/"maxAge"/);
  });

  it('meets a demand with the same level or a higher one, an unknown one only with itself', () => {
    const now = Date.UTC(2026, 0, 1);
    const clock = () => now;
    expect(() => requireAuth({ acr: '1' }, { clock })(principal({ acr: 'mfa' }))).not.toThrow();
    expect(() => requireAuth({ acr: 'mfa' }, { clock })(principal({ acr: '1' }))).toThrow();
    expect(() => requireAuth({ acr: 'mfa' }, { clock })(principal({}))).toThrow();
    expect(() => requireAuth({ acr: ['gold', 'mfa'] }, { clock })(principal({ acr: 'mfa' }))).not.toThrow();
    expect(() => requireAuth({ acr: 'gold' }, { clock })(principal({ acr: 'mfa' }))).toThrow();
    // maxAge: at the limit passes, a second later does not; no auth_time never does.
    const at = now / 1000 - 600;
    expect(() => requireAuth({ maxAge: '10m' }, { clock })(principal({ authTime: at }))).not.toThrow();
    expect(() => requireAuth({ maxAge: 599 }, { clock })(principal({ authTime: at }))).toThrow();
    expect(() => requireAuth({ maxAge: 600 }, { clock })(principal({}))).toThrow(/unknown/);
  });
});

describe('the adapters answer the step-up challenge', () => {
  it('fastify: app.requireAuth as a route hook', async () => {
    const app = Fastify();
    await app.register(latchkeyFastify, { verifier, realm: 'pay' });
    app.get('/open', { onRequest: app.authenticate }, (request) => ({ acr: request.principal?.acr }));
    app.post('/pay', { onRequest: app.requireAuth({ acr: 'mfa', maxAge: 300 }) }, () => ({ ok: true }));
    const headers = { authorization: `Bearer ${password}` };
    expect((await app.inject({ method: 'GET', url: '/open', headers })).json()).toEqual({ acr: '1' });
    const refused = await app.inject({ method: 'POST', url: '/pay', headers });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toBe(CHALLENGE);
    expect(() => app.requireAuth({ acr: '' })).toThrow(/"acr"/);
    await app.close();
  });

  it('hono and node:http: acr and maxAge as options', async () => {
    const hono = new Hono<LatchkeyHonoEnv>();
    hono.use('/pay', latchkeyHono(verifier, { realm: 'pay', acr: 'mfa', maxAge: '5m' }));
    hono.post('/pay', (c) => c.json({ ok: true }));
    const viaHono = await hono.request('http://pay.example.test/pay', {
      method: 'POST',
      headers: { authorization: `Bearer ${password}` },
    });
    expect(viaHono.status).toBe(401);
    expect(viaHono.headers.get('www-authenticate')).toBe(CHALLENGE);

    const authenticate = latchkeyNodeHTTP(verifier, { realm: 'pay', acr: 'mfa', maxAge: 300 });
    const node = createServer((req, res) => {
      void authenticate(req, res).then((caller) => {
        if (caller !== null) res.end('paid');
      });
    });
    await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
    const { port } = node.address() as AddressInfo;
    const viaNode = await fetch(`http://127.0.0.1:${port}/pay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${password}` },
    });
    expect(viaNode.status).toBe(401);
    expect(viaNode.headers.get('www-authenticate')).toBe(CHALLENGE);
    await viaNode.text();
    node.closeAllConnections();
    await new Promise<void>((resolve) => node.close(() => resolve()));
  });
});
