import { generateSigningKey } from '../../src/keys/key-material.js';
import type { RevocationRecord } from '../../src/records.js';
import { signAccessToken } from '../../src/token/jwt.js';
import {
  createSSERevocationFeed,
  createVerifier,
  type RevocationFeed,
  type RevocationFeedState,
  type Verifier,
  type VerifierOptions,
} from '../../src/verify/index.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { refusal } from '../helpers/refusal.js';
import { ISSUER } from '../helpers/app.js';
import { countingFetch, startLiveServer, waitFor, type LiveServer, type TokenLogin } from './live-server.js';
import { revokeOneByOne, wire } from './revocation-lag.js';

const JWKS_PATH = '/.well-known/jwks.json';
/**
 * How long a wait for something that must happen may last before the test fails: generous, only
 * so that a hang ends the test (a busy machine may take seconds; how fast is the bench's).
 */
const HANG_MS = 15_000;

/** A feed driven by the test: the shape a Redis or Postgres transport will have. */
function manualFeed(): {
  feed: RevocationFeed;
  apply: (record: RevocationRecord) => void;
  state: (state: RevocationFeedState) => void;
} {
  let apply: ((record: RevocationRecord) => void) | null = null;
  let state: ((state: RevocationFeedState) => void) | null = null;
  return {
    feed: {
      start(a, s) {
        apply = a;
        state = s;
      },
      close: () => Promise.resolve(),
    },
    apply: (record) => apply?.(record),
    state: (s) => state?.(s),
  };
}

function kidOf(token: string): unknown {
  return (JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { kid?: unknown })
    .kid;
}

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

function makeVerifier(overrides: Partial<VerifierOptions> = {}): Verifier {
  const verifier = createVerifier({
    issuer: ISSUER,
    audience: ISSUER,
    algorithms: ['EdDSA'],
    jwksUri: server.jwksUri,
    revocation: createSSERevocationFeed({ url: server.feedUrl, headers: server.feedHeaders, retryMs: 20 }),
    clock: server.clock,
    ...overrides,
  });
  verifiers.push(verifier);
  return verifier;
}

describe('createVerifier: misconfiguration fails at once, naming the option', () => {
  const base = {
    issuer: ISSUER,
    audience: ISSUER,
    algorithms: ['EdDSA'],
    jwksUri: 'https://auth.example.test/.well-known/jwks.json',
    revocation: false,
  } as const;
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['no issuer', { issuer: undefined }, /"issuer"/],
    ['an empty issuer', { issuer: '' }, /"issuer"/],
    ['no audience', { audience: undefined }, /"audience"/],
    ['an empty audience list', { audience: [] }, /"audience"/],
    ['no algorithms', { algorithms: undefined }, /"algorithms"/],
    ['empty algorithms', { algorithms: [] }, /"algorithms"/],
    ['"none"', { algorithms: ['none'] }, /"algorithms" must not contain "none"/],
    ['neither jwksUri nor keys', { jwksUri: undefined }, /"jwksUri" or "keys"/],
    ['both jwksUri and keys', { keys: [{}] }, /"jwksUri" and "keys" are exclusive/],
    ['revocation omitted', { revocation: undefined }, /"revocation" is required/],
    ['a revocation that is no feed', { revocation: {} }, /"revocation" must be a RevocationFeed/],
    ['jwksUri over plain http to another host', { jwksUri: 'http://auth.example.test/jwks' }, /"jwksUri"/],
    ['jwksUri that is no URL', { jwksUri: 'not a url' }, /"jwksUri" must be an absolute URL/],
    ['a csrf key of the wrong size', { csrf: { key: 'c2hvcnQ' } }, /"csrf.key"/],
    ['an unknown onStale', { onStale: 'maybe' }, /"onStale"/],
    ['a negative maxStaleness', { maxStaleness: -1 }, /"maxStaleness"/],
    ['a negative clockTolerance', { clockTolerance: -5 }, /"clockTolerance"/],
  ];
  for (const [name, patch, message] of cases) {
    it(`refuses ${name}`, () => {
      const options = { ...base, ...patch } as unknown as VerifierOptions;
      expect(() => createVerifier(options)).toThrow(TypeError);
      expect(() => createVerifier(options)).toThrow(message);
    });
  }

  it('refuses a static key list with a bad JWK, naming its index', () => {
    const options = {
      ...base,
      jwksUri: undefined,
      keys: [{ kty: 'oct', k: 'AAAA', kid: 'x', alg: 'HS256' }],
    };
    expect(() => createVerifier(options as unknown as VerifierOptions)).toThrow(/"keys\[0\]"/);
  });

  it('refuses an SSE feed URL over plain http to another host', () => {
    expect(() => createSSERevocationFeed({ url: 'http://auth.example.test/v1/revocations' })).toThrow(
      /"url"/,
    );
  });
});

describe('verifying tokens against the live server', () => {
  it('verifies a token the server issued and returns the principal', async () => {
    const verifier = makeVerifier();
    await verifier.ready();
    const login = await server.loginToken('ada@example.com');
    const principal = await verifier.verify(login.accessToken);
    expect(principal).toMatchObject({
      sub: login.userId,
      sid: login.sessionId,
      scope: [],
      roles: [],
      clientId: null,
      via: 'bearer',
    });
    expect(principal.claims.iss).toBe(ISSUER);
    const health = verifier.health();
    expect(health.jwks).toMatchObject({ source: 'remote', keys: 1, lastError: null });
    expect(health.jwks.lastFetch).toBe(server.clock());
    expect(health.revocation).toMatchObject({ enabled: true, connected: true, status: 'live', stale: false });
  });

  it('verifies with static keys and no fetch at all', async () => {
    const counter = countingFetch();
    const verifier = makeVerifier({
      jwksUri: undefined as unknown as string,
      keys: server.latchkey.keyring.jwks().keys,
      revocation: false,
      fetch: counter.fetch,
    });
    const login = await server.loginToken('static@example.com');
    expect((await verifier.verify(login.accessToken)).sid).toBe(login.sessionId);
    expect(counter.count(JWKS_PATH)).toBe(0);
    expect(verifier.health().jwks).toMatchObject({ source: 'static', keys: 1, lastFetch: null });
    expect(verifier.health().revocation).toMatchObject({ enabled: false, stale: false });
  });

  it('refuses a forged token with invalid_token and never echoes it', async () => {
    const verifier = makeVerifier();
    const login = await server.loginToken('ada@example.com');
    const [h, p] = login.accessToken.split('.');
    const error = await refusal(verifier.verify(`${h ?? ''}.${p ?? ''}.${'A'.repeat(86)}`));
    expect(error.code).toBe('invalid_token');
    expect(error.message).toBe('signature invalid');
    expect(error.message).not.toContain(h ?? 'x');
  });

  it('refetches the JWKS once for an unknown kid, then not again within the cooldown', async () => {
    const counter = countingFetch();
    const verifier = makeVerifier({ fetch: counter.fetch, revocation: false });
    const login = await server.loginToken('ada@example.com');
    await verifier.verify(login.accessToken);
    expect(counter.count(JWKS_PATH)).toBe(1);

    const stranger = await generateSigningKey('EdDSA', { kid: 'made-up-kid' });
    const iat = Math.floor(server.clock() / 1000);
    const forge = (jti: string): string =>
      signAccessToken(
        { iss: ISSUER, aud: ISSUER, sub: 'mallory', iat, exp: iat + 600, jti },
        { kid: stranger.kid, alg: 'EdDSA', privateKey: stranger.privateKey },
      );

    // Right after the first fetch: the cooldown holds.
    expect((await refusal(verifier.verify(forge('a')))).message).toBe('unknown kid');
    expect(counter.count(JWKS_PATH)).toBe(1);

    server.clock.advance(31_000);
    expect((await refusal(verifier.verify(forge('b')))).message).toBe('unknown kid');
    expect(counter.count(JWKS_PATH)).toBe(2);
    for (const jti of ['c', 'd', 'e']) {
      expect((await refusal(verifier.verify(forge(jti)))).message).toBe('unknown kid');
    }
    expect(counter.count(JWKS_PATH)).toBe(2);

    // Concurrent unknown kids after the cooldown share one fetch.
    server.clock.advance(31_000);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => verifier.verify(forge(`x${i}`))),
    );
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(counter.count(JWKS_PATH)).toBe(3);
    // The real token still verifies, from the cache of keys.
    expect((await verifier.verify(login.accessToken)).sub).toBe(login.userId);
    expect(counter.count(JWKS_PATH)).toBe(3);
  });

  it('picks up a rotated key: by Cache-Control max-age, and by an unknown kid after the cooldown', async () => {
    const counter = countingFetch();
    const verifier = makeVerifier({ fetch: counter.fetch, revocation: false });
    await verifier.ready();
    expect(counter.count(JWKS_PATH)).toBe(1);

    // Publish-before-sign: the new key is published now and signs in 10 minutes.
    const scheduled = await server.latchkey.keyring.rotate();
    server.clock.advance(299_000);
    await verifier.verify((await server.loginToken('rot@example.com')).accessToken);
    expect(counter.count(JWKS_PATH)).toBe(1);
    server.clock.advance(2000); // past max-age=300: refreshed in the background
    await verifier.verify((await server.loginToken('rot@example.com')).accessToken);
    await waitFor(() => verifier.health().jwks.keys === 2, HANG_MS);
    expect(counter.count(JWKS_PATH)).toBe(2);
    server.clock.advance(10 * 60_000);
    const signedByNew = await server.loginToken('rot@example.com');
    expect(kidOf(signedByNew.accessToken)).toBe(scheduled.kid);
    expect((await verifier.verify(signedByNew.accessToken)).sid).toBe(signedByNew.sessionId);

    // An immediate rotation: the kid is unknown, and one refetch (past the cooldown) finds it.
    await waitFor(() => verifier.health().jwks.lastFetch === server.clock(), HANG_MS);
    const fetches = counter.count(JWKS_PATH);
    const immediate = await server.latchkey.keyring.rotate({ immediate: true });
    const tooSoon = await server.loginToken('rot@example.com');
    expect(kidOf(tooSoon.accessToken)).toBe(immediate.kid);
    expect((await refusal(verifier.verify(tooSoon.accessToken))).message).toBe('unknown kid');
    expect(counter.count(JWKS_PATH)).toBe(fetches);
    server.clock.advance(31_000);
    const login = await server.loginToken('rot@example.com');
    expect((await verifier.verify(login.accessToken)).sid).toBe(login.sessionId);
    expect((await verifier.verify(tooSoon.accessToken)).sid).toBe(tooSoon.sessionId);
    expect(counter.count(JWKS_PATH)).toBe(fetches + 1);
    expect(immediate.kid).not.toBe(scheduled.kid);
  });
});

describe('revocations pushed over SSE', () => {
  it('serves the feed as no-store text/event-stream and the snapshot as JSON', async () => {
    const login = await server.loginToken('feed@example.com');
    await server.logout(login.accessToken);
    const headers = server.feedHeaders;
    expect((await fetch(server.feedUrl)).status).toBe(401);
    expect((await fetch(`${server.url}/v1/revocations/snapshot`)).status).toBe(401);
    const wrong = Buffer.from(`${server.clientId}:not-the-secret`).toString('base64');
    expect((await fetch(server.feedUrl, { headers: { authorization: `Basic ${wrong}` } })).status).toBe(401);
    const controller = new AbortController();
    const response = await fetch(server.feedUrl, { headers, signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    controller.abort();
    await response.body?.cancel().catch(() => undefined);

    const snapshot = await fetch(`${server.url}/v1/revocations/snapshot`, { headers });
    expect(snapshot.headers.get('cache-control')).toBe('no-store');
    const body = (await snapshot.json()) as { records: { subject: string; seq: number }[]; last_seq: number };
    expect(body.records.map((r) => r.subject)).toContain(login.sessionId);
    expect(body.last_seq).toBe(Math.max(...body.records.map((r) => r.seq)));
    const after = await fetch(`${server.url}/v1/revocations/snapshot?after=${body.last_seq}`, { headers });
    expect(((await after.json()) as { records: unknown[] }).records).toEqual([]);
    expect((await fetch(`${server.url}/v1/revocations?after=-1`, { headers })).status).toBe(400);
  });

  it('applies the snapshot on a cold start: a session revoked before the service started is refused', async () => {
    const login = await server.loginToken('cold@example.com');
    await server.logout(login.accessToken);
    const verifier = makeVerifier();
    await verifier.ready();
    const error = await refusal(verifier.verify(login.accessToken));
    expect(error.code).toBe('invalid_token');
    expect(error.message).toBe('The session has been revoked');
  });

  // How fast (the lag, p50/p99) is the bench's: bench/revocation-lag.ts (sse) and `npm run bench`.
  it('pushes revocations over SSE: each logout reaches the verifier once, in order, and its token is refused', async () => {
    const wiring = await wire('sse', server);
    try {
      await wiring.verifier.ready({ timeoutMs: HANG_MS });
      const logins = await revokeOneByOne(server, wiring, {
        count: 20,
        email: 'lag@example.com',
        timeoutMs: HANG_MS,
      });
      const ours = new Set(logins.map((login) => login.sessionId));
      expect(wiring.applied.filter((subject) => ours.has(subject))).toEqual(
        logins.map((login) => login.sessionId),
      );
      for (const login of logins) {
        expect((await refusal(wiring.verifier.verify(login.accessToken))).code).toBe('invalid_token');
      }
    } finally {
      await wiring.close();
    }
  });

  it('refuses every token of a user after "log out everywhere", including one issued in the same second', async () => {
    const verifier = makeVerifier();
    await verifier.ready();
    const seqBefore = verifier.health().revocation.lastSeq;
    const first = await server.loginToken('everywhere@example.com');
    const second = await server.loginToken('everywhere@example.com');
    const response = await server.app.inject({
      method: 'DELETE',
      url: '/v1/sessions',
      headers: { authorization: `Bearer ${first.accessToken}` },
    });
    expect(response.json()).toEqual({ revoked: 2 });
    await waitFor(() => verifier.health().revocation.lastSeq >= seqBefore + 3, HANG_MS);
    for (const login of [first, second]) {
      expect((await refusal(verifier.verify(login.accessToken))).code).toBe('invalid_token');
    }
    // The clock has not moved: a new login shares the revocation's second, so it is refused too.
    const sameSecond = await server.loginToken('everywhere@example.com');
    expect((await refusal(verifier.verify(sameSecond.accessToken))).message).toBe(
      "The user's sessions have been revoked",
    );
    server.clock.advance(1000);
    const nextSecond = await server.loginToken('everywhere@example.com');
    expect((await verifier.verify(nextSecond.accessToken)).sid).toBe(nextSecond.sessionId);
  });

  it('resumes with Last-Event-ID after the server drops the stream and misses nothing', async () => {
    const lastEventIds: (string | null)[] = [];
    let gate: Promise<void> | null = null;
    let release = (): void => undefined;
    const gatedFetch: typeof fetch = async (input, init) => {
      lastEventIds.push(new Headers(init?.headers).get('last-event-id'));
      if (gate !== null) await gate;
      return fetch(input, init);
    };
    const feed = createSSERevocationFeed({
      url: server.feedUrl,
      headers: server.feedHeaders,
      fetch: gatedFetch,
      retryMs: 10,
    });
    const records: RevocationRecord[] = [];
    const states: string[] = [];
    feed.start(
      (record) => records.push(record),
      (state) => states.push(state.status),
    );
    try {
      await waitFor(() => states.includes('live'), HANG_MS);
      const before = records.length; // the snapshot of earlier tests
      const connected: TokenLogin[] = [];
      for (let i = 0; i < 3; i++) connected.push(await server.loginToken('resume@example.com'));
      for (const login of connected) await server.logout(login.accessToken);
      await waitFor(() => records.length === before + 3, HANG_MS);
      // Pushed records carry no id; the store poll (1 s) then confirms the position.
      const third = records.at(-1)?.seq ?? 0;
      await waitFor(() => feed.lastEventId >= third, HANG_MS);

      gate = new Promise((resolve) => {
        release = resolve;
      });
      server.app.server.closeAllConnections();
      await waitFor(() => lastEventIds.length === 2, HANG_MS);
      expect(states.at(-1)).toBe('connecting');
      const away: TokenLogin[] = [];
      for (let i = 0; i < 5; i++) away.push(await server.loginToken('resume@example.com'));
      for (const login of away) await server.logout(login.accessToken);
      release();
      await waitFor(() => records.length === before + 8 && states.at(-1) === 'live', HANG_MS);

      expect(lastEventIds[1]).toBe(String(third));
      const subjects = new Set(records.map((r) => r.subject));
      for (const login of [...connected, ...away]) expect(subjects.has(login.sessionId)).toBe(true);
      // Resumed, not replayed: none of the first three came twice.
      expect(records.filter((r) => connected.some((l) => l.sessionId === r.subject))).toHaveLength(3);
      expect(feed.connections).toBe(2);
    } finally {
      release();
      await feed.close();
    }
  });
});

describe('staleness', () => {
  it('fails closed until the feed first catches up, and after maxStaleness without it', async () => {
    const manual = manualFeed();
    const verifier = makeVerifier({ revocation: manual.feed, maxStaleness: 30_000 });
    const login = await server.loginToken('stale@example.com');
    const cold = await refusal(verifier.verify(login.accessToken));
    expect(cold.code).toBe('store_unavailable');
    expect(cold.status).toBe(503);
    expect(verifier.health().revocation).toMatchObject({
      stale: true,
      connected: false,
      status: 'connecting',
    });

    manual.state({ status: 'live' });
    expect((await verifier.verify(login.accessToken)).sid).toBe(login.sessionId);
    manual.state({ status: 'disconnected', reason: 'test' });
    server.clock.advance(30_000);
    expect((await verifier.verify(login.accessToken)).sid).toBe(login.sessionId);
    expect(verifier.health().revocation).toMatchObject({ stale: false, connected: false, lag: 30_000 });
    server.clock.advance(1);
    expect((await refusal(verifier.verify(login.accessToken))).code).toBe('store_unavailable');
    expect(verifier.health().revocation.stale).toBe(true);

    // A record delivered by any transport is applied; catching up ends the staleness.
    manual.apply({
      seq: 1_000_000,
      kind: 'session',
      subject: login.sessionId,
      issuedBefore: null,
      createdAt: server.clock(),
      expiresAt: server.clock() + 60_000,
    });
    manual.state({ status: 'live' });
    expect((await refusal(verifier.verify(login.accessToken))).code).toBe('invalid_token');
    expect(verifier.health().revocation).toMatchObject({ stale: false, lastSeq: 1_000_000, lag: 0 });
  });

  it('with onStale "allow", carries on and says it is stale', async () => {
    const manual = manualFeed();
    const verifier = makeVerifier({ revocation: manual.feed, onStale: 'allow' });
    const login = await server.loginToken('stale@example.com');
    expect((await verifier.verify(login.accessToken)).sid).toBe(login.sessionId);
    expect(verifier.health().revocation.stale).toBe(true);
  });

  it('goes stale when the auth server goes away: fail-closed refuses, allow carries on', async () => {
    const own = await startLiveServer();
    const options = {
      issuer: ISSUER,
      audience: ISSUER,
      algorithms: ['EdDSA'] as const,
      jwksUri: own.jwksUri,
      clock: own.clock,
    };
    const closed = createVerifier({
      ...options,
      revocation: createSSERevocationFeed({
        url: own.feedUrl,
        headers: own.feedHeaders,
        retryMs: 20,
        maxRetryMs: 100,
      }),
    });
    const open = createVerifier({
      ...options,
      onStale: 'allow',
      revocation: createSSERevocationFeed({
        url: own.feedUrl,
        headers: own.feedHeaders,
        retryMs: 20,
        maxRetryMs: 100,
      }),
    });
    verifiers.push(closed, open);
    try {
      await Promise.all([closed.ready(), open.ready()]);
      const login = await own.loginToken('gone@example.com');
      await own.app.close();
      await waitFor(
        () => closed.health().revocation.status !== 'live' && open.health().revocation.status !== 'live',
        HANG_MS,
      );
      // Within maxStaleness: still accepted.
      expect((await closed.verify(login.accessToken)).sid).toBe(login.sessionId);
      own.clock.advance(30_001);
      const error = await refusal(closed.verify(login.accessToken));
      expect(error.code).toBe('store_unavailable');
      expect(error.retryAfter).toBe(1);
      expect((await open.verify(login.accessToken)).sid).toBe(login.sessionId);
      expect(closed.health().revocation.stale).toBe(true);
      expect(open.health().revocation.stale).toBe(true);
    } finally {
      await own.close();
    }
  });
});
