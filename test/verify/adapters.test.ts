import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCSRFToken } from '../../src/csrf/csrf.js';
import { latchkeyExpress } from '../../src/verify/adapters/express.js';
import { latchkeyFastify } from '../../src/verify/adapters/fastify.js';
import { latchkeyHono, type LatchkeyHonoEnv } from '../../src/verify/adapters/hono.js';
import { latchkeyNodeHTTP } from '../../src/verify/adapters/node-http.js';
import { createSSERevocationFeed, createVerifier, type Verifier } from '../../src/verify/index.js';
import { ISSUER } from '../helpers/app.js';
import { startLiveServer, type HybridLogin, type LiveServer, type TokenLogin } from './live-server.js';

/** A resource service built with one framework: GET /whoami and POST /orders, both authenticated. */
interface Service {
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

type Framework = (verifier: Verifier) => Promise<Service>;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function overSocket(server: Server, base: string): Service {
  return {
    request: (path, init) => fetch(`${base}${path}`, init),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

const frameworks: Record<string, Framework> = {
  async 'node:http'(verifier) {
    const authenticate = latchkeyNodeHTTP(verifier, { realm: 'orders' });
    const server = createServer((req, res) => {
      void authenticate(req, res).then((principal) => {
        if (principal === null) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ sub: principal.sub, sid: principal.sid, via: principal.via, path: req.url }),
        );
      });
    });
    return overSocket(server, await listen(server));
  },

  async express(verifier) {
    const app = express();
    app.use(latchkeyExpress(verifier, { realm: 'orders' }));
    const reply = (req: express.Request, res: express.Response): void => {
      res.json({ sub: req.principal?.sub, sid: req.principal?.sid, via: req.principal?.via, path: req.path });
    };
    app.get('/whoami', reply);
    app.post('/orders', reply);
    const server = createServer(app);
    return overSocket(server, await listen(server));
  },

  async fastify(verifier) {
    const app = Fastify();
    await app.register(latchkeyFastify, { verifier, realm: 'orders' });
    app.get('/whoami', { onRequest: app.authenticate }, (request) => ({
      sub: request.principal?.sub,
      sid: request.principal?.sid,
      via: request.principal?.via,
      path: request.url,
    }));
    app.post('/orders', { onRequest: app.authenticate }, (request) => ({
      sub: request.principal?.sub,
      sid: request.principal?.sid,
      via: request.principal?.via,
      path: request.url,
    }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    return { request: (path, init) => fetch(`${base}${path}`, init), close: () => app.close() };
  },

  hono(verifier) {
    const app = new Hono<LatchkeyHonoEnv>();
    app.use('*', latchkeyHono(verifier, { realm: 'orders' }));
    const reply = (
      c: { get(key: 'principal'): LatchkeyHonoEnv['Variables']['principal'] },
      path: string,
    ) => ({
      sub: c.get('principal').sub,
      sid: c.get('principal').sid,
      via: c.get('principal').via,
      path,
    });
    app.get('/whoami', (c) => c.json(reply(c, c.req.path)));
    app.post('/orders', (c) => c.json(reply(c, c.req.path)));
    // Hono's own in-process API: a Request in, a Response out.
    return Promise.resolve({
      request: (path, init) => Promise.resolve(app.request(`http://orders.example.test${path}`, init)),
      close: () => Promise.resolve(),
    });
  },
};

let server: LiveServer;
let live: Verifier;
let stale: Verifier;
let token: TokenLogin;
let hybrid: HybridLogin;

beforeAll(async () => {
  server = await startLiveServer();
  const base = { issuer: ISSUER, audience: ISSUER, algorithms: ['EdDSA'] as const, clock: server.clock };
  live = createVerifier({
    ...base,
    jwksUri: server.jwksUri,
    revocation: createSSERevocationFeed({ url: server.feedUrl, headers: server.feedHeaders, retryMs: 20 }),
    // The server's CSRF key, as `deriveKey(LATCHKEY_SECRET, 'csrf')`.
    csrf: { key: server.latchkey.csrfKey.toString('base64url') },
  });
  // A feed that never catches up: fail closed.
  stale = createVerifier({
    ...base,
    keys: server.latchkey.keyring.jwks().keys,
    revocation: { start: () => undefined, close: () => Promise.resolve() },
  });
  await live.ready();
  token = await server.loginToken('adapters@example.com');
  hybrid = await server.loginHybrid('adapters@example.com');
});

afterAll(async () => {
  await live.close();
  await stale.close();
  await server.close();
});

for (const [name, framework] of Object.entries(frameworks)) {
  describe(`${name} adapter`, () => {
    let service: Service;
    let staleService: Service;
    beforeAll(async () => {
      service = await framework(live);
      staleService = await framework(stale);
    });
    afterAll(async () => {
      await service.close();
      await staleService.close();
    });

    it('200 with the principal for a Bearer token', async () => {
      const response = await service.request('/whoami', {
        headers: { authorization: `Bearer ${token.accessToken}` },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        sub: token.userId,
        sid: token.sessionId,
        via: 'bearer',
        path: '/whoami',
      });
    });

    it('401 with a Bearer challenge without a credential, and invalid_token for a bad one', async () => {
      const none = await service.request('/whoami');
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="orders"');
      expect(none.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(none.headers.get('cache-control')).toBe('no-store');
      expect(await none.json()).toMatchObject({ status: 401, code: 'unauthenticated' });

      const bad = await service.request('/whoami', { headers: { authorization: 'Bearer not.a.token' } });
      expect(bad.status).toBe(401);
      expect(bad.headers.get('www-authenticate')).toBe('Bearer realm="orders", error="invalid_token"');
      const body = (await bad.json()) as { code: string; detail: string };
      expect(body.code).toBe('invalid_token');
      expect(JSON.stringify(body)).not.toContain('not.a.token');
    });

    it('accepts the hybrid cookie on GET, and on POST only with the CSRF token (403 otherwise)', async () => {
      const get = await service.request('/whoami', { headers: { cookie: hybrid.cookie } });
      expect(get.status).toBe(200);
      expect(await get.json()).toMatchObject({ sid: hybrid.sessionId, via: 'cookie' });

      const noCSRF = await service.request('/orders', { method: 'POST', headers: { cookie: hybrid.cookie } });
      expect(noCSRF.status).toBe(403);
      expect(noCSRF.headers.get('www-authenticate')).toBeNull();
      expect(await noCSRF.json()).toMatchObject({ code: 'csrf_failed', detail: 'X-CSRF-Token is missing' });

      const wrong = await service.request('/orders', {
        method: 'POST',
        headers: { cookie: hybrid.cookie, 'x-csrf-token': createCSRFToken(server.latchkey.csrfKey, 'other') },
      });
      expect(wrong.status).toBe(403);

      const withCSRF = await service.request('/orders', {
        method: 'POST',
        headers: { cookie: hybrid.cookie, 'x-csrf-token': hybrid.csrf },
      });
      expect(withCSRF.status).toBe(200);
      expect(await withCSRF.json()).toMatchObject({ sid: hybrid.sessionId, via: 'cookie', path: '/orders' });

      // A Bearer token needs no CSRF token.
      const bearerPost = await service.request('/orders', {
        method: 'POST',
        headers: { authorization: `Bearer ${token.accessToken}` },
      });
      expect(bearerPost.status).toBe(200);
    });

    it('503 with Retry-After when the revocation feed is stale (fail closed)', async () => {
      const response = await staleService.request('/whoami', {
        headers: { authorization: `Bearer ${token.accessToken}` },
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(await response.json()).toMatchObject({ code: 'store_unavailable' });
    });
  });
}

describe('CSRF for services without the key', () => {
  it('refuses a cookie-authenticated POST with 403 and says to use a Bearer token', async () => {
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: ISSUER,
      algorithms: ['EdDSA'],
      keys: server.latchkey.keyring.jwks().keys,
      revocation: false,
      clock: server.clock,
    });
    const error = await verifier
      .authenticate({ method: 'POST', headers: { cookie: hybrid.cookie, 'x-csrf-token': hybrid.csrf } })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ code: 'csrf_failed', status: 403 });
    expect((error as Error).message).toMatch(/Bearer/);
    await verifier.close();
  });

  it('refuses a cross-site cookie-authenticated POST even with the right CSRF token', async () => {
    const error = await live
      .authenticate({
        method: 'POST',
        headers: { cookie: hybrid.cookie, 'x-csrf-token': hybrid.csrf, 'sec-fetch-site': 'cross-site' },
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ code: 'cross_site_request', status: 403 });
  });
});

describe('fastify adapter with { global: true }', () => {
  it('authenticates every route of the instance', async () => {
    const app = Fastify();
    await app.register(latchkeyFastify, { verifier: live, global: true });
    app.get('/anything', (request) => ({ sub: request.principal?.sub }));
    try {
      expect((await app.inject({ method: 'GET', url: '/anything' })).statusCode).toBe(401);
      const ok = await app.inject({
        method: 'GET',
        url: '/anything',
        headers: { authorization: `Bearer ${token.accessToken}` },
      });
      expect(ok.json()).toEqual({ sub: token.userId });
    } finally {
      await app.close();
    }
  });
});
