/**
 * Attacks on the shortcuts of the resource-service SDK: the Bearer header read without a regex
 * on a cache hit, revocation and staleness checked on every hit, shared (frozen) principals,
 * and the adapters' synchronous path (no promise when the answer is known at once).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import { refusal } from '../helpers/refusal.js';
import { createManualClock } from '../../src/clock.js';
import { LatchkeyError } from '../../src/errors.js';
import { generateSigningKey, type GeneratedSigningKey } from '../../src/keys/key-material.js';
import type { RevocationRecord } from '../../src/records.js';
import { signAccessToken } from '../../src/token/jwt.js';
import { latchkeyFastify } from '../../src/verify/adapters/fastify.js';
import { latchkeyHono, type LatchkeyHonoEnv } from '../../src/verify/adapters/hono.js';
import { latchkeyNodeHTTP } from '../../src/verify/adapters/node-http.js';
import {
  createVerifier,
  type Principal,
  type RevocationFeed,
  type RevocationFeedState,
  type Verifier,
  type VerifierOptions,
} from '../../src/verify/index.js';

const ISS = 'https://auth.example.com';
const START = Date.UTC(2026, 0, 1);
const NOW = START / 1000;
const NOT_BEARER = 'The Authorization header is not a Bearer token';

let key: GeneratedSigningKey;
beforeAll(async () => {
  key = await generateSigningKey('EdDSA');
});

function sign(overrides: Record<string, unknown> = {}): string {
  const claims = {
    iss: ISS,
    aud: ISS,
    sub: 'user-1',
    sid: 'session-1',
    iat: NOW - 10,
    exp: NOW + 900,
    jti: 'jti-1',
    scope: 'read  write',
    roles: ['member'],
    ...overrides,
  };
  return signAccessToken(claims, key);
}

function setup(overrides: Partial<VerifierOptions> = {}): {
  verifier: Verifier;
  clock: ReturnType<typeof createManualClock>;
  apply: (
    record: Omit<RevocationRecord, 'seq' | 'createdAt' | 'expiresAt' | 'issuedBefore'> & {
      issuedBefore?: number;
    },
  ) => void;
  state: (state: RevocationFeedState) => void;
} {
  const clock = createManualClock(START);
  const started: {
    apply?: (record: RevocationRecord) => void;
    state?: (state: RevocationFeedState) => void;
  } = {};
  const feed: RevocationFeed = {
    start(apply, state) {
      started.apply = apply;
      started.state = state;
    },
    close: () => Promise.resolve(),
  };
  const verifier = createVerifier({
    issuer: ISS,
    audience: ISS,
    algorithms: ['EdDSA'],
    keys: [key.publicJwk ?? {}],
    revocation: feed,
    clock,
    ...overrides,
  });
  started.state?.({ status: 'live' });
  let seq = 0;
  return {
    verifier,
    clock,
    apply: (record) =>
      started.apply?.({
        seq: ++seq,
        createdAt: clock(),
        expiresAt: clock() + 3_600_000,
        issuedBefore: null,
        ...record,
      }),
    state: (s) => started.state?.(s),
  };
}

const get = (authorization: string): { method: string; headers: Record<string, string> } => ({
  method: 'GET',
  headers: { authorization },
});

/** A new string with the same characters (not the same object), as a request would carry. */
const copy = (text: string): string => ` ${text}`.slice(1);

describe('the Bearer header on a cache hit', () => {
  it('answers every header exactly as the RFC 6750 syntax, then the verifier, would', async () => {
    const { verifier } = setup();
    const token = sign();
    // Cached from here on.
    const principal = await verifier.authenticate(get(`Bearer ${token}`));
    expect(principal.sub).toBe('user-1');
    const syntax = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
    const headers = [
      `Bearer ${token}`,
      `bearer ${token}`,
      `BEARER    ${token}   `,
      `bEaReR ${token} `,
      `Bearer ${token}!`,
      `Bearer ${token}=`,
      `Bearer ${token}==`,
      `Bearer ${token}~`,
      `Bearer ${token} x`,
      `Bearer ${token}\t`,
      `Bearer\t${token}`,
      `Bearer${token}`,
      ` Bearer ${token}`,
      `Bearer  `,
      `Bearer`,
      `Basic ${token}`,
      `Bearer ${token.replace('.', ' .')}`,
      `Bearer ${token.slice(0, -1)}\u0100`,
      `Bearer ${token.slice(0, 10)}\u0141${token.slice(11)}`,
      `Bearer ${token},`,
      `Bearer "${token}"`,
      `Bearer ${token}\n`,
      `Bearer ${token.slice(0, -2)}`,
      `Bearer ${token.replace(/.$/, token.endsWith('A') ? 'Q' : 'A')}`,
      `Bearer \u00a0${token}`,
      `Beare\u0072 ${token}`,
      `Bearer\u0000${token}`,
    ];
    for (const header of headers) {
      const match = syntax.exec(header);
      // What the full path says: the syntax, then the verifier on the token it captures.
      const expected =
        match?.[1] === undefined
          ? new LatchkeyError('invalid_token', NOT_BEARER)
          : await verifier.verify(match[1]).then(
              (p) => p,
              (error: unknown) => error,
            );
      const outcome = verifier.authenticate(get(copy(header)));
      if (expected instanceof Error) {
        const error = await refusal(outcome);
        expect(error.message, header).toBe(expected.message);
      } else {
        expect(await outcome, header).toBe(principal);
      }
    }
  });

  it('refuses the syntax first even when the verifier is closed', async () => {
    const { verifier } = setup();
    const token = sign();
    await verifier.authenticate(get(`Bearer ${token}`));
    await verifier.close();
    expect((await refusal(verifier.authenticate(get(`Bearer ${token}!`)))).message).toBe(NOT_BEARER);
    expect((await refusal(verifier.authenticate(get(`Bearer ${token}`)))).status).toBe(503);
  });

  it('always returns a promise: no synchronous throw, even for a malformed request', async () => {
    const { verifier } = setup();
    const bad = verifier.authenticate(get('nope'));
    expect(bad).toBeInstanceOf(Promise);
    expect((await refusal(bad)).message).toBe(NOT_BEARER);
    const broken = verifier.authenticate({ method: 'GET', headers: undefined as never });
    expect(broken).toBeInstanceOf(Promise);
    await expect(broken).rejects.toThrow(TypeError);
    const ok = verifier.authenticate(get(`Bearer ${sign()}`));
    expect(ok).toBeInstanceOf(Promise);
    expect((await ok).sub).toBe('user-1');
    const verified = verifier.verify('x');
    expect(verified).toBeInstanceOf(Promise);
    expect((await refusal(verified)).message).toBe('token must have three parts');
  });
});

describe('revocation and staleness on a cache hit', () => {
  it('refuses a cached token once its session, its user or its jti is revoked', async () => {
    for (const kind of ['session', 'user', 'token'] as const) {
      const { verifier, apply, clock } = setup();
      const token = sign();
      const other = sign({ sid: 'session-2', sub: 'user-2', jti: 'jti-2' });
      expect((await verifier.authenticate(get(`Bearer ${token}`))).sub).toBe('user-1');
      expect((await verifier.authenticate(get(`Bearer ${token}`))).sub).toBe('user-1');
      await verifier.authenticate(get(`Bearer ${other}`));
      const subject = kind === 'session' ? 'session-1' : kind === 'user' ? 'user-1' : 'jti-1';
      apply({ kind, subject, ...(kind === 'user' ? { issuedBefore: clock() } : {}) });
      const error = await refusal(verifier.authenticate(get(`Bearer ${copy(token)}`)));
      expect(error.code, kind).toBe('invalid_token');
      expect(error.message, kind).toMatch(/revoked/);
      // Over and over: the refusal is not cached away either.
      await refusal(verifier.verify(token));
      expect((await verifier.authenticate(get(`Bearer ${other}`))).sub).toBe('user-2');
    }
  });

  it('fails closed on a cached token once the feed is stale, and carries on with onStale "allow"', async () => {
    for (const onStale of ['fail-closed', 'allow'] as const) {
      const { verifier, state, clock } = setup({ maxStaleness: 1000, onStale });
      const token = sign();
      await verifier.authenticate(get(`Bearer ${token}`));
      state({ status: 'disconnected', reason: 'test' });
      clock.advance(500);
      expect((await verifier.authenticate(get(`Bearer ${token}`))).sub).toBe('user-1');
      clock.advance(1000);
      const outcome = verifier.authenticate(get(`Bearer ${token}`));
      if (onStale === 'allow') expect((await outcome).sub).toBe('user-1');
      else expect((await refusal(outcome)).status).toBe(503);
    }
  });

  it('refuses a cached token after it expires', async () => {
    const { verifier, clock } = setup();
    const token = sign();
    await verifier.authenticate(get(`Bearer ${token}`));
    clock.advance((900 + 31) * 1000);
    expect((await refusal(verifier.authenticate(get(`Bearer ${token}`)))).message).toBe('token expired');
  });
});

describe('principals', () => {
  it('are frozen, shared by requests with the same token, and apart for another token or the cookie', async () => {
    const { verifier } = setup();
    const token = sign();
    const first = await verifier.authenticate(get(`Bearer ${token}`));
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.scope)).toBe(true);
    expect(Object.isFrozen(first.roles)).toBe(true);
    expect(first.scope).toEqual(['read', 'write']);
    expect(() => {
      (first.scope as string[]).push('admin');
    }).toThrow(TypeError);
    expect(() => {
      (first as { sub: string }).sub = 'admin';
    }).toThrow(TypeError);
    expect(await verifier.authenticate(get(`Bearer ${copy(token)}`))).toBe(first);
    const cookie = await verifier.authenticate({
      method: 'GET',
      headers: { cookie: `__Host-latchkey_access=${token}` },
    });
    expect(cookie.via).toBe('cookie');
    expect(first.via).toBe('bearer');
    const other = await verifier.authenticate(get(`Bearer ${sign({ jti: 'jti-2', scope: 'admin' })}`));
    expect(other.scope).toEqual(['admin']);
    expect(first.scope).toEqual(['read', 'write']);
    const machine = await verifier.authenticate(
      get(`Bearer ${sign({ sid: undefined, roles: undefined, scope: undefined, client_id: 'svc' })}`),
    );
    expect(machine).toMatchObject({ sid: null, roles: [], scope: [], clientId: 'svc' });
    expect(Object.isFrozen(machine.roles)).toBe(true);
  });
});

describe('adapters on the synchronous path', () => {
  let verifier: Verifier;
  let apply: ReturnType<typeof setup>['apply'];
  let token: string;
  /** A Verifier that is not ours: the adapters fall back to its `authenticate`. */
  let foreign: Verifier;
  beforeAll(() => {
    ({ verifier, apply } = setup());
    token = sign({ sid: 'session-adapters', jti: 'jti-adapters' });
    foreign = {
      ...verifier,
      authenticate: (request) => verifier.authenticate(request),
    };
  });

  it('fastify: as a hook, called by hand, and with a Verifier of another make', async () => {
    for (const v of [verifier, foreign]) {
      const app = Fastify();
      await app.register(latchkeyFastify, { verifier: v, realm: 'fast' });
      app.get('/hook', { onRequest: app.authenticate }, (request) => ({ sub: request.principal?.sub }));
      app.get('/manual', async (request, reply) => {
        const answered = await app.authenticate(request, reply);
        if (answered !== undefined) return answered;
        return { sub: request.principal?.sub };
      });
      for (const path of ['/hook', '/manual']) {
        const ok = await app.inject({ url: path, headers: { authorization: `Bearer ${token}` } });
        expect(ok.statusCode, path).toBe(200);
        expect(ok.json(), path).toEqual({ sub: 'user-1' });
        const bad = await app.inject({ url: path, headers: { authorization: `Bearer ${token}x!` } });
        expect(bad.statusCode, path).toBe(401);
        expect(bad.headers['www-authenticate'], path).toBe('Bearer realm="fast", error="invalid_token"');
        const none = await app.inject({ url: path });
        expect(none.statusCode, path).toBe(401);
        expect(none.headers['www-authenticate'], path).toBe('Bearer realm="fast"');
      }
      await app.close();
    }
  });

  it('fastify: a thrown bug is a 500 that reveals nothing', async () => {
    const app = Fastify();
    const buggy: Verifier = {
      ...verifier,
      authenticate: () => {
        throw new Error('secret internals');
      },
    };
    await app.register(latchkeyFastify, { verifier: buggy });
    app.get('/hook', { onRequest: app.authenticate }, () => ({ ok: true }));
    const response = await app.inject({ url: '/hook', headers: { authorization: `Bearer ${token}` } });
    expect(response.statusCode).toBe(500);
    await app.close();
  });

  it('hono and node:http answer the same, for our verifier and another', async () => {
    for (const v of [verifier, foreign]) {
      const app = new Hono<LatchkeyHonoEnv>();
      app.use('*', latchkeyHono(v, { realm: 'hono' }));
      app.get('/', (c) => c.json({ sub: c.get('principal').sub }));
      const ok = await app.request('http://x.test/', { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ sub: 'user-1' });
      const bad = await app.request('http://x.test/', { headers: { authorization: 'Bearer a b' } });
      expect(bad.status).toBe(401);

      const authenticate = latchkeyNodeHTTP(v, { realm: 'node' });
      const seen: (Principal | null)[] = [];
      const server: Server = createServer((req, res) => {
        const pending = authenticate(req, res);
        expect(pending).toBeInstanceOf(Promise);
        void pending.then((principal) => {
          seen.push(principal);
          if (principal !== null) res.end(principal.sub);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const good = await fetch(base, { headers: { authorization: `Bearer ${token}` } });
      expect(await good.text()).toBe('user-1');
      const refused = await fetch(base, { headers: { authorization: 'Bearer !' } });
      expect(refused.status).toBe(401);
      expect(seen.map((p) => p?.sub ?? null)).toEqual(['user-1', null]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('every adapter refuses a cached token once its session is revoked', async () => {
    const app = Fastify();
    await app.register(latchkeyFastify, { verifier });
    app.get('/hook', { onRequest: app.authenticate }, (request) => ({ sub: request.principal?.sub }));
    const hono = new Hono<LatchkeyHonoEnv>();
    hono.use('*', latchkeyHono(verifier));
    hono.get('/', (c) => c.json({ sub: c.get('principal').sub }));
    const headers = { authorization: `Bearer ${token}` };
    expect((await app.inject({ url: '/hook', headers })).statusCode).toBe(200);
    expect((await hono.request('http://x.test/', { headers })).status).toBe(200);
    apply({ kind: 'session', subject: 'session-adapters' });
    const refused = await app.inject({ url: '/hook', headers });
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ detail: 'The session has been revoked' });
    expect((await hono.request('http://x.test/', { headers })).status).toBe(401);
    await app.close();
  });
});
