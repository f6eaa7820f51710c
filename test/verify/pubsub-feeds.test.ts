import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { refusal } from '../helpers/refusal.js';
import { isLatchkeyError } from '../../src/errors.js';
import { attachRevocationPublisher, type RevocationPublisher } from '../../src/revocation/publishers.js';
import { createPostgresRevocationPublisher } from '../../src/stores/postgres/publisher.js';
import { createRedisRevocationPublisher } from '../../src/stores/redis/publisher.js';
import { createRevocationRecorder } from '../../src/revocation/revocations.js';
import type { RevocationRecord } from '../../src/records.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import type { RevocationFeedState } from '../../src/verify/feed.js';
import type { Verifier } from '../../src/verify/index.js';
import { createPostgresRevocationFeed, quoteChannel } from '../../src/verify/postgres-feed.js';
import { createPubSubFeed, type PubSubHandlers } from '../../src/verify/pubsub-feed.js';
import { createRedisRevocationFeed } from '../../src/verify/redis-feed.js';
import { Redis } from 'ioredis';
import {
  describeWithServices,
  probePostgres,
  probeRedis,
  REDIS_TEST_URL,
  uniqueSuffix,
} from '../helpers/services.js';
import { startLiveServer, waitFor, type LiveServer, type TokenLogin } from './live-server.js';
import { gatedSnapshot, revokeOneByOne, wire, type Wiring } from './revocation-lag.js';

/**
 * How long a wait for something that must happen may last before the test fails: generous, only
 * so that a hang ends the test (a busy machine may take seconds; how fast is the bench's).
 */
const HANG_MS = 15_000;

function isRefused(verifier: Verifier, login: TokenLogin): Promise<boolean> {
  return verifier.verify(login.accessToken).then(
    () => false,
    (error: unknown) => isLatchkeyError(error, 'invalid_token'),
  );
}

/** Resolves when `condition()` resolves true; polls every 5 ms, failing after `timeoutMs`. */
async function eventually(condition: () => Promise<boolean>, timeoutMs = HANG_MS): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  // Bounded by the deadline.
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function record(seq: number, subject: string): RevocationRecord {
  return { seq, kind: 'session', subject, issuedBefore: null, createdAt: 1, expiresAt: 2 ** 40 };
}

describe('pub/sub feed engine (no server)', () => {
  /** A fake transport: the test pushes messages and drops the connection. */
  function fakeTransport(): {
    connect: (handlers: PubSubHandlers) => Promise<{ ping: () => Promise<void>; close: () => Promise<void> }>;
    current: () => PubSubHandlers | null;
    opened: () => number;
  } {
    let handlers: PubSubHandlers | null = null;
    let opened = 0;
    return {
      connect(h) {
        handlers = h;
        opened += 1;
        return Promise.resolve({ ping: () => Promise.resolve(), close: () => Promise.resolve() });
      },
      current: () => handlers,
      opened: () => opened,
    };
  }

  it('applies a live record published out of seq order, skips exact duplicates and ignores garbage', async () => {
    const transport = fakeTransport();
    const errors: string[] = [];
    const feed = createPubSubFeed(transport.connect, {
      snapshot: () => Promise.resolve({ records: [record(10, 'a')], lastSeq: 10 }),
      onError: (error) => errors.push(error.message),
    });
    const applied: number[] = [];
    const states: RevocationFeedState['status'][] = [];
    feed.start(
      (r) => applied.push(r.seq),
      (s) => states.push(s.status),
    );
    try {
      await waitFor(() => states.includes('live'), HANG_MS);
      const push = (r: RevocationRecord): void =>
        transport.current()?.message(
          JSON.stringify({
            seq: r.seq,
            kind: r.kind,
            subject: r.subject,
            issued_before: r.issuedBefore,
            created_at: r.createdAt,
            expires_at: r.expiresAt,
          }),
        );
      push(record(12, 'c'));
      push(record(11, 'b')); // published after 12 (concurrent requests): must not be skipped
      push(record(12, 'c'));
      push(record(10, 'a'));
      transport.current()?.message('not json');
      expect(applied).toEqual([10, 12, 11]);
      expect(errors).toEqual(['the channel carried a malformed revocation']);
      expect(feed.lastSeq).toBe(10);
    } finally {
      await feed.close();
    }
  });

  it('reports live only after catching up, resumes from its position, and stops on close', async () => {
    const transport = fakeTransport();
    const afters: (number | undefined)[] = [];
    const feed = createPubSubFeed(transport.connect, {
      snapshot: (afterSeq) => {
        afters.push(afterSeq);
        return Promise.resolve({ records: [], lastSeq: afterSeq ?? 7 });
      },
      retryMs: 5,
    });
    const states: RevocationFeedState['status'][] = [];
    feed.start(
      () => undefined,
      (s) => states.push(s.status),
    );
    await waitFor(() => states.includes('live'), HANG_MS);
    transport.current()?.lost(new Error('gone'));
    await waitFor(() => transport.opened() === 2 && states.at(-1) === 'live', HANG_MS);
    expect(states).toEqual(['connecting', 'live', 'disconnected', 'connecting', 'live']);
    expect(afters).toEqual([undefined, 7]);
    await feed.close();
    const count = states.length;
    transport.current()?.lost(new Error('after close'));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(states).toHaveLength(count);
  });

  it('backs off while it cannot catch up, even when closing a connection reports its loss', async () => {
    // On a fake clock: the schedule of attempts is the feed's own, whatever the machine's speed.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const attempts: number[] = [];
      const feed = createPubSubFeed(
        (handlers) =>
          Promise.resolve({
            ping: () => Promise.resolve(),
            // Like the drivers: closing emits the connection's end.
            close: () => Promise.resolve(handlers.lost(new Error('closed'))),
          }),
        {
          snapshot: () => {
            attempts.push(Date.now());
            return Promise.reject(new Error('auth server down'));
          },
          retryMs: 40,
          maxRetryMs: 160,
        },
      );
      const states: RevocationFeedState[] = [];
      feed.start(
        () => undefined,
        (s) => states.push(s),
      );
      await vi.advanceTimersByTimeAsync(2_000);
      await feed.close();
      const count = attempts.length;
      await vi.advanceTimersByTimeAsync(2_000);
      expect(attempts).toHaveLength(count);

      // After the n-th failure the feed waits between half and all of min(160, 40 * 2^(n-1)) ms:
      // 20-40, 40-80, 80-160, then 80-160 again: it keeps trying, and never in a tight loop.
      expect(count).toBeGreaterThanOrEqual(10);
      const waits = attempts.slice(1).map((at, i) => at - (attempts[i] ?? 0));
      waits.forEach((wait, i) => {
        const ceiling = Math.min(160, 40 * 2 ** i);
        expect(wait, `wait after failure ${i + 1}`).toBeGreaterThanOrEqual(ceiling / 2);
        expect(wait, `wait after failure ${i + 1}`).toBeLessThanOrEqual(ceiling);
      });
      expect(states.some((s) => s.status === 'live')).toBe(false);
      expect(states.find((s) => s.status === 'disconnected')).toEqual({
        status: 'disconnected',
        reason: 'auth server down',
      });
    } finally {
      vi.useRealTimers();
    }
  });

  it('validates its options and quotes Postgres channels', () => {
    const snapshot = (): Promise<{ records: RevocationRecord[]; lastSeq: number }> =>
      Promise.resolve({ records: [], lastSeq: 0 });
    expect(() => createRedisRevocationFeed({ channel: 'c', snapshot })).toThrow(/"url" and "client"/);
    expect(() => createRedisRevocationFeed({ url: 'http://x', channel: 'c', snapshot })).toThrow(/"url"/);
    expect(() =>
      createRedisRevocationFeed({ url: 'redis+cluster://h1:7000,', channel: 'c', snapshot }),
    ).toThrow(/host:port/);
    const cluster = { isCluster: true, duplicate: () => undefined } as unknown as Redis;
    expect(() => createRedisRevocationFeed({ client: cluster, channel: 'c', snapshot })).toThrow(
      /pass its url/,
    );
    expect(() =>
      createPostgresRevocationFeed({ url: 'postgres://x/y', channel: 'x'.repeat(64), snapshot }),
    ).toThrow(/"channel"/);
    expect(() =>
      createPostgresRevocationFeed({
        url: 'postgres://x/y',
        channel: 'c',
        snapshot: undefined as unknown as typeof snapshot,
      }),
    ).toThrow(/"snapshot"/);
    expect(() => createRedisRevocationPublisher({ channel: 'c' })).toThrow(/"client" and "url"/);
    expect(() => createPostgresRevocationPublisher({ url: 'mysql://x', channel: 'c' })).toThrow(/"url"/);
    expect(quoteChannel('a"b')).toBe('"a""b"');
  });

  it('a failing publish never reaches the request that revoked', async () => {
    const store = createMemoryStore();
    const recorder = createRevocationRecorder({ store, clock: () => 1_000, retention: 60_000 });
    const failures: unknown[] = [];
    const publisher: RevocationPublisher = {
      transport: 'redis',
      channel: 'c',
      publish: () => Promise.reject(new Error('redis is down')),
      ready: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const detach = attachRevocationPublisher({ revocations: recorder }, publisher, (error) =>
      failures.push(error),
    );
    await expect(recorder.sessionRevoked('s1')).resolves.toMatchObject({ subject: 's1' });
    await waitFor(() => failures.length === 1, HANG_MS);
    detach();
    await recorder.sessionRevoked('s2');
    await new Promise((resolve) => setImmediate(resolve));
    expect(failures).toHaveLength(1);
    await store.close();
  });

  it('by default, logs a failed publish as a warning of the server', async () => {
    const store = createMemoryStore();
    const recorder = createRevocationRecorder({ store, clock: () => 1_000, retention: 60_000 });
    const warnings: object[] = [];
    const publisher: RevocationPublisher = {
      transport: 'postgres',
      channel: 'c',
      publish: () => Promise.reject(new Error('postgres is down')),
      ready: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const logger = { warn: (object: object): number => warnings.push(object) };
    const detach = attachRevocationPublisher({ revocations: recorder, logger }, publisher);
    const revoked = await recorder.sessionRevoked('s1');
    await waitFor(() => warnings.length === 1, HANG_MS);
    expect(warnings[0]).toMatchObject({
      event: 'revocations.publish_failed',
      transport: 'postgres',
      seq: revoked.seq,
      err: { message: 'postgres is down' },
    });
    detach();
    await store.close();
  });
});

const problems = {
  redis: await probeRedis(),
  postgres: await probePostgres(),
} as const;

for (const transport of ['redis', 'postgres'] as const) {
  describeWithServices(`revocation feed over ${transport}`, [problems[transport]], () => {
    let server: LiveServer;
    const wirings: Wiring[] = [];
    beforeAll(async () => {
      server = await startLiveServer();
    });
    afterEach(async () => {
      for (const wiring of wirings.splice(0)) await wiring.close();
    });
    afterAll(async () => {
      await server.close();
    });

    async function ready(
      feedOptions: Parameters<typeof wire>[2] = {},
      verifierOptions: Parameters<typeof wire>[3] = {},
    ): Promise<Wiring> {
      const wiring = await wire(
        transport,
        server,
        { retryMs: 50, timeoutMs: 10_000, ...feedOptions },
        verifierOptions,
      );
      wirings.push(wiring);
      await wiring.verifier.ready({ timeoutMs: HANG_MS });
      return wiring;
    }

    // How fast (the lag, p50/p99) is the bench's: bench/revocation-lag.ts, per transport.
    it('pushes revocations: each logout reaches the verifier over the channel, once and in order, and its token is refused', async () => {
      // No resync and no heartbeat while the test runs: a record can only come over the channel.
      const wiring = await ready({ resyncMs: 600_000, heartbeatMs: 600_000 });
      const snapshots = wiring.snapshot.calls.length;
      const logins = await revokeOneByOne(server, wiring, {
        count: 20,
        email: `lag-${transport}@example.com`,
        timeoutMs: HANG_MS,
      });
      // Pushed, not caught up: no snapshot since the verifier was ready, on its first connection.
      expect(wiring.snapshot.calls).toHaveLength(snapshots);
      expect(wiring.feed?.connections).toBe(1);
      const ours = new Set(logins.map((login) => login.sessionId));
      expect(wiring.applied.filter((subject) => ours.has(subject))).toEqual(
        logins.map((login) => login.sessionId),
      );
      for (const login of logins) {
        expect((await refusal(wiring.verifier.verify(login.accessToken))).code).toBe('invalid_token');
      }
    });

    it('catches up after its connection is killed: no revoked session is accepted once live again', async () => {
      const wiring = await ready({ retryMs: 50, maxRetryMs: 200, heartbeatMs: 60_000, resyncMs: 60_000 });
      const { verifier, feed, snapshot } = wiring;
      const before = await server.loginToken(`kill-${transport}@example.com`);
      const away: TokenLogin[] = [];
      for (let i = 0; i < 5; i++) away.push(await server.loginToken(`kill-${transport}@example.com`));
      await server.logout(before.accessToken);
      await eventually(() => isRefused(verifier, before));
      const connections = feed?.connections ?? 0;
      const snapshots = snapshot.calls.length;

      // Until released, no catch-up completes: the feed cannot be live again, however fast it
      // reconnects. And nothing is published meanwhile: only the catch-up can bring the logouts.
      const release = snapshot.hold();
      try {
        await wiring.kill();
        await waitFor(() => verifier.health().revocation.status !== 'live', HANG_MS);
        wiring.detach();
        for (const login of away) await server.logout(login.accessToken);
        expect(verifier.health().revocation.status).not.toBe('live');
      } finally {
        release();
      }

      await waitFor(
        () => (feed?.connections ?? 0) > connections && verifier.health().revocation.status === 'live',
        HANG_MS,
      );
      for (const login of [before, ...away]) {
        expect((await refusal(verifier.verify(login.accessToken))).code).toBe('invalid_token');
      }
      // The catch-up snapshot, asked from the last position, carried what was missed.
      const catchUp = snapshot.calls.slice(snapshots);
      expect(catchUp.length).toBeGreaterThanOrEqual(1);
      const caught = new Set(catchUp.flatMap((call) => call.records.map((r) => r.subject)));
      for (const login of away) expect(caught.has(login.sessionId)).toBe(true);
      expect(verifier.health().revocation.lastError).not.toBeNull();
    });

    it('recovers a publish the server failed to make, by its periodic resync', async () => {
      const wiring = await ready({ resyncMs: 100, heartbeatMs: 50 });
      const login = await server.loginToken(`resync-${transport}@example.com`);
      await wiring.verifier.verify(login.accessToken);
      wiring.detach(); // the server's publishes stop: as if its connection were down
      await server.logout(login.accessToken);
      await eventually(() => isRefused(wiring.verifier, login));
    });

    // Registered for Redis only (not a skipped test for Postgres: there is nothing to run there).
    if (transport === 'redis') {
      it('takes ioredis clients: the feed subscribes on its own duplicate, the publisher uses the one given', async () => {
        const channel = `latchkey_test_rev_${uniqueSuffix()}`;
        const client = new Redis(REDIS_TEST_URL, { maxRetriesPerRequest: 1 });
        client.on('error', () => undefined);
        const publisher = createRedisRevocationPublisher({ client, channel });
        const detach = attachRevocationPublisher(server.latchkey, publisher);
        const snapshot = gatedSnapshot(server);
        const feed = createRedisRevocationFeed({ client, channel, snapshot: snapshot.snapshot, retryMs: 50 });
        const applied: string[] = [];
        const states: string[] = [];
        feed.start(
          (r) => applied.push(r.subject),
          (state) => states.push(state.status),
        );
        try {
          await waitFor(() => states.includes('live'), HANG_MS);
          const login = await server.loginToken(`client-${transport}@example.com`);
          await server.logout(login.accessToken);
          await waitFor(() => applied.includes(login.sessionId), HANG_MS);
          // The caller's client is not in subscriber mode: it still runs ordinary commands.
          expect(await client.ping()).toBe('PONG');
        } finally {
          detach();
          await feed.close();
          await publisher.close(); // not ours to close: the client stays connected
          expect(client.status).toBe('ready');
          await client.quit();
        }
      });
    }

    it('fails closed once the feed has been down longer than maxStaleness, and recovers', async () => {
      const wiring = await ready({ retryMs: 20, maxRetryMs: 50 }, { maxStaleness: 30_000 });
      const { verifier, snapshot } = wiring;
      const login = await server.loginToken(`stale-${transport}@example.com`);
      await verifier.verify(login.accessToken);
      snapshot.failing = true; // reconnections subscribe but cannot catch up
      await wiring.kill();
      await waitFor(() => verifier.health().revocation.status !== 'live', HANG_MS);
      server.clock.advance(30_000);
      await expect(verifier.verify(login.accessToken)).resolves.toMatchObject({ sid: login.sessionId });
      server.clock.advance(1);
      const error = await refusal(verifier.verify(login.accessToken));
      expect(error.code).toBe('store_unavailable');
      expect(verifier.health().revocation).toMatchObject({ stale: true, connected: false });

      snapshot.failing = false;
      await waitFor(() => verifier.health().revocation.status === 'live', HANG_MS);
      expect((await verifier.verify(login.accessToken)).sid).toBe(login.sessionId);
    });
  });
}
