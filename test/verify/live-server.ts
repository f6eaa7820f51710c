/**
 * A Latchkey server listening on 127.0.0.1 (a free port), with the revocation feed routes, so
 * that the SDK reaches `/.well-known/jwks.json` and `/v1/revocations` with a real fetch. The feed
 * needs client credentials: `feedHeaders` holds the Basic header of a client made at start.
 */

import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createLatchkey, type Latchkey } from '../../src/app/latchkey.js';
import { createClientService } from '../../src/clients/clients.js';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import { defaultConfig } from '../../src/config/config.js';
import type { RevocationRoutesOptions } from '../../src/http/routes/revocations.js';
import { createHTTPServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { createPasswordHasher } from '../../src/password/hash.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { FAST_HASHER_PARAMETERS, ISSUER, PASSWORD, SECRET } from '../helpers/app.js';

export interface LiveServer {
  latchkey: Latchkey;
  app: FastifyInstance;
  clock: ManualClock;
  /** `http://127.0.0.1:<port>` */
  url: string;
  jwksUri: string;
  feedUrl: string;
  /** A machine client made at start, allowed to read the feed. */
  clientId: string;
  clientSecret: string;
  /** `{ authorization: 'Basic ...' }` for the feed and the snapshot. */
  feedHeaders: Readonly<Record<string, string>>;
  /** Signs up (once per email) and logs in; returns the token-mode response. */
  loginToken(email: string): Promise<TokenLogin>;
  /** Logs in in hybrid mode: the access cookie and the CSRF token. */
  loginHybrid(email: string): Promise<HybridLogin>;
  logout(accessToken: string): Promise<void>;
  close(): Promise<void>;
}

export interface TokenLogin {
  accessToken: string;
  sessionId: string;
  userId: string;
}

export interface HybridLogin {
  /** `__Host-latchkey_access=<jwt>` */
  cookie: string;
  accessToken: string;
  csrf: string;
  sessionId: string;
}

export async function startLiveServer(
  options: { routes?: RevocationRoutesOptions; clock?: ManualClock } = {},
): Promise<LiveServer> {
  const clock = options.clock ?? createManualClock(Date.UTC(2026, 0, 1));
  const config = defaultConfig({ issuer: ISSUER, audience: ISSUER, logLevel: 'warn' });
  const latchkey = await createLatchkey({
    config,
    store: createMemoryStore(),
    secret: SECRET,
    clock,
    logger: createLogger({
      level: 'warn',
      destination: new Writable({
        write(_chunk, _encoding, callback) {
          callback();
        },
      }),
    }),
    hasher: createPasswordHasher(FAST_HASHER_PARAMETERS),
  });
  const { client, secret } = await createClientService(latchkey).create({
    name: 'verify tests',
    scopes: [],
    audiences: [ISSUER],
  });
  const basic = Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(secret)}`).toString(
    'base64',
  );
  const app = createHTTPServer(
    latchkey,
    options.routes === undefined ? {} : { revocationFeed: options.routes },
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const signedUp = new Set<string>();

  async function signupOnce(email: string): Promise<void> {
    if (signedUp.has(email)) return;
    const response = await app.inject({
      method: 'POST',
      url: '/v1/signup',
      payload: { email, password: PASSWORD },
    });
    if (response.statusCode !== 201) throw new Error(`signup failed: ${response.statusCode}`);
    signedUp.add(email);
  }

  return {
    latchkey,
    app,
    clock,
    url,
    jwksUri: `${url}/.well-known/jwks.json`,
    feedUrl: `${url}/v1/revocations`,
    clientId: client.id,
    clientSecret: secret,
    feedHeaders: Object.freeze({ authorization: `Basic ${basic}` }),
    async loginToken(email) {
      await signupOnce(email);
      const response = await app.inject({
        method: 'POST',
        url: '/v1/login',
        payload: { email, password: PASSWORD, mode: 'token' },
      });
      if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode}`);
      const body = JSON.parse(response.body) as {
        access_token: string;
        session: { id: string };
        user: { id: string };
      };
      return { accessToken: body.access_token, sessionId: body.session.id, userId: body.user.id };
    },
    async loginHybrid(email) {
      await signupOnce(email);
      const response = await app.inject({
        method: 'POST',
        url: '/v1/login',
        payload: { email, password: PASSWORD, mode: 'hybrid' },
      });
      if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode}`);
      const body = JSON.parse(response.body) as { csrf_token: string; session: { id: string } };
      const raw = response.headers['set-cookie'];
      const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
      const pair = list.find((c) => c.startsWith('__Host-latchkey_access='))?.split(';')[0] ?? '';
      return {
        cookie: pair,
        accessToken: pair.slice(pair.indexOf('=') + 1),
        csrf: body.csrf_token,
        sessionId: body.session.id,
      };
    },
    async logout(accessToken) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/logout',
        headers: { authorization: `Bearer ${accessToken}` },
      });
      if (response.statusCode !== 204) throw new Error(`logout failed: ${response.statusCode}`);
    },
    async close() {
      await app.close();
      await latchkey.close();
    },
  };
}

/** A fetch that counts the requests made to each path. */
export function countingFetch(): { fetch: typeof fetch; count(path: string): number } {
  const counts = new Map<string, number>();
  const wrapped: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1);
    return fetch(input, init);
  };
  return { fetch: wrapped, count: (path) => counts.get(path) ?? 0 };
}

/** Resolves when `condition()` is true; polls every event-loop turn, for at most `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
