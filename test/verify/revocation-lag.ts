/**
 * Shared by test/verify/verifier.test.ts, test/verify/pubsub-feeds.test.ts and
 * bench/revocation-lag.ts: the three revocation transports wired between a live Latchkey server
 * and a verifier, logouts one by one that each must reach the verifier and be refused (the tests
 * assert that), and the lag measurement on top of them (server records a revocation → the
 * verifier refuses the token), which only the bench reports.
 */

import { Redis } from 'ioredis';
import pg from 'pg';
import { attachRevocationPublisher, type RevocationPublisher } from '../../src/revocation/publishers.js';
import { createPostgresRevocationPublisher } from '../../src/stores/postgres/publisher.js';
import { createRedisRevocationPublisher } from '../../src/stores/redis/publisher.js';
import type { RevocationRecord } from '../../src/records.js';
import {
  createVerifier,
  isLatchkeyError,
  type Verifier,
  type VerifierOptions,
} from '../../src/verify/index.js';
import type { RevocationFeed } from '../../src/verify/feed.js';
import { createSSERevocationFeed } from '../../src/verify/sse-feed.js';
import { createPostgresRevocationFeed } from '../../src/verify/postgres-feed.js';
import {
  createHTTPRevocationSnapshot,
  type PubSubFeedOptions,
  type PubSubRevocationFeed,
  type RevocationSnapshotFunction,
} from '../../src/verify/pubsub-feed.js';
import { createRedisRevocationFeed } from '../../src/verify/redis-feed.js';
import { ISSUER } from '../helpers/app.js';
import { POSTGRES_ADMIN_URL, REDIS_TEST_URL, uniqueSuffix } from '../helpers/services.js';
import type { LiveServer, TokenLogin } from './live-server.js';

export type Transport = 'sse' | 'redis' | 'postgres';

/** A snapshot function the test can make fail, and that logs what it returned. */
export interface GatedSnapshot {
  snapshot: RevocationSnapshotFunction;
  /** When true, every call rejects (the auth server is unreachable). */
  failing: boolean;
  /**
   * Holds every call until the returned function is called: no catch-up can complete, so the
   * feed cannot become live, until the test says so.
   */
  hold(): () => void;
  /** Every successful call: its `afterSeq` and the records it returned. */
  readonly calls: { afterSeq: number | undefined; records: readonly RevocationRecord[] }[];
}

/** The snapshot endpoint of `server`, with a switch and a log. */
export function gatedSnapshot(server: LiveServer): GatedSnapshot {
  const http = createHTTPRevocationSnapshot({
    url: `${server.url}/v1/revocations/snapshot`,
    headers: server.feedHeaders,
  });
  let held: Promise<void> = Promise.resolve();
  const gate: GatedSnapshot = {
    failing: false,
    calls: [],
    hold() {
      let release = (): void => undefined;
      held = new Promise((resolve) => {
        release = resolve;
      });
      return release;
    },
    async snapshot(afterSeq) {
      await held;
      if (gate.failing) throw new Error('snapshot unavailable (test)');
      const result = await http(afterSeq);
      gate.calls.push({ afterSeq, records: result.records });
      return result;
    },
  };
  return gate;
}

/** A transport wired end to end: the publisher attached to the server, the feed in a verifier. */
export interface Wiring {
  transport: Transport;
  verifier: Verifier;
  /** The pub/sub feed (null for SSE). */
  feed: PubSubRevocationFeed | null;
  snapshot: GatedSnapshot;
  /** Resolves once the feed has handed the verifier a record of `subject` (at once if it did). */
  whenApplied(subject: string): Promise<void>;
  /** The subject of every record the feed handed the verifier, in that order (repeats kept). */
  readonly applied: readonly string[];
  /** Detaches the publisher (revocations stop being published). */
  detach(): void;
  /** Kills the feed's connection on the server side (Redis `CLIENT KILL ID`, `pg_terminate_backend`). */
  kill(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Wires `transport` on `server`, with a unique channel and connection name.
 *
 * @example
 * const wiring = await wire('redis', server, { retryMs: 50 });
 * await wiring.verifier.ready();
 */
export async function wire(
  transport: Transport,
  server: LiveServer,
  feedOptions: Omit<PubSubFeedOptions, 'snapshot'> = {},
  verifierOptions: Partial<VerifierOptions> = {},
): Promise<Wiring> {
  const suffix = uniqueSuffix();
  const channel = `latchkey_test_rev_${suffix}`;
  const name = `latchkey-test-feed-${suffix}`;
  const snapshot = gatedSnapshot(server);
  let publisher: RevocationPublisher | null = null;
  let feed: PubSubRevocationFeed | null = null;
  let kill: () => Promise<void> = () => Promise.reject(new Error('no connection to kill over SSE'));
  let closeAdmin: () => Promise<void> = () => Promise.resolve();
  const options = { ...feedOptions, snapshot: snapshot.snapshot };

  if (transport === 'redis') {
    publisher = createRedisRevocationPublisher({ url: REDIS_TEST_URL, channel });
    feed = createRedisRevocationFeed({ url: REDIS_TEST_URL, channel, connectionName: name, ...options });
    const admin = new Redis(REDIS_TEST_URL, { maxRetriesPerRequest: 1, connectTimeout: 2_000 });
    admin.on('error', () => undefined);
    kill = async () => {
      const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
      const ids = list
        .split('\n')
        .filter((line) => line.includes(` name=${name} `))
        .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
        .filter((id): id is string => id !== undefined);
      if (ids.length === 0) throw new Error('no subscribed connection to kill');
      for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', id);
    };
    closeAdmin = async () => {
      await admin.quit().catch(() => undefined);
    };
  } else if (transport === 'postgres') {
    publisher = createPostgresRevocationPublisher({ url: POSTGRES_ADMIN_URL, channel });
    feed = createPostgresRevocationFeed({
      url: POSTGRES_ADMIN_URL,
      channel,
      applicationName: name,
      ...options,
    });
    const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 2_000 });
    admin.on('error', () => undefined);
    await admin.connect();
    kill = async () => {
      const result = await admin.query<{ killed: boolean }>(
        'SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1',
        [name],
      );
      if (!result.rows.some((row) => row.killed)) throw new Error('no listening connection to kill');
    };
    closeAdmin = async () => {
      await admin.end().catch(() => undefined);
    };
  }

  const owned = publisher;
  await owned?.ready();
  const detachPublisher =
    owned === null
      ? (): void => undefined
      : attachRevocationPublisher(server.latchkey, owned, (error) => {
          console.warn(`revocation publish failed: ${String(error)}`);
        });
  const observer = observe(
    feed ??
      createSSERevocationFeed({
        url: server.feedUrl,
        headers: server.feedHeaders,
        retryMs: feedOptions.retryMs ?? 20,
      }),
  );
  const verifier = createVerifier({
    issuer: ISSUER,
    audience: ISSUER,
    algorithms: ['EdDSA'],
    jwksUri: server.jwksUri,
    revocation: observer.feed,
    clock: server.clock,
    ...verifierOptions,
  });
  let detached = false;
  const detach = (): void => {
    if (detached) return;
    detached = true;
    detachPublisher();
  };
  return {
    transport,
    verifier,
    feed,
    snapshot,
    whenApplied: observer.whenApplied,
    applied: observer.applied,
    detach,
    kill,
    async close() {
      detach();
      await verifier.close();
      await owned?.close();
      await closeAdmin();
    },
  };
}

/**
 * Wraps a feed so that the test learns the moment each record reaches the verifier (right
 * after the verifier applied it), instead of spinning on `verify`: a busy loop steals the CPU
 * the servers need to deliver, and would measure itself.
 */
function observe(feed: RevocationFeed): {
  feed: RevocationFeed;
  whenApplied: (subject: string) => Promise<void>;
  applied: readonly string[];
} {
  const applied = new Set<string>();
  const order: string[] = [];
  const waiters = new Map<string, (() => void)[]>();
  return {
    applied: order,
    feed: {
      start(apply, onState) {
        feed.start((record) => {
          apply(record);
          applied.add(record.subject);
          order.push(record.subject);
          for (const wake of waiters.get(record.subject) ?? []) wake();
          waiters.delete(record.subject);
        }, onState);
      },
      close: () => feed.close(),
    },
    whenApplied(subject) {
      if (applied.has(subject)) return Promise.resolve();
      return new Promise((resolve) => {
        waiters.set(subject, [...(waiters.get(subject) ?? []), resolve]);
      });
    },
  };
}

/** The p-th percentile of sorted values (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** Lags in milliseconds, per logout. */
export interface LagSamples {
  /** From the server recording the revocation (its listeners are told) to the verifier refusing. */
  delivery: number[];
  /** From the logout call to the verifier refusing. */
  endToEnd: number[];
}

/** Called around each logout of {@link revokeOneByOne}, for a measurement. */
export interface LogoutHooks {
  /** Right before the logout call. */
  loggingOut(): void;
  /** Right after the verifier refused the token. */
  refused(): void;
}

/** Resolves with `promise`, or rejects with `message` after `ms`: only so that a hang ends. */
async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Logs in `count` sessions, then logs them out one by one: before each logout the verifier
 * accepts the token; after it, the feed hands the verifier the session's record and the verifier
 * refuses the token. Throws when a record does not arrive within `timeoutMs` (a generous limit,
 * default 15 s, so that a lost message ends the run instead of hanging it) or a token is still
 * accepted. Resolves with the logins, in the order they were logged out. The verifier must be
 * ready.
 */
export async function revokeOneByOne(
  server: LiveServer,
  wiring: Pick<Wiring, 'verifier' | 'whenApplied'>,
  options: { count: number; email: string; timeoutMs?: number },
  hooks?: LogoutHooks,
): Promise<TokenLogin[]> {
  const { verifier } = wiring;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const logins: TokenLogin[] = [];
  for (let i = 0; i < options.count; i++) logins.push(await server.loginToken(options.email));
  for (const login of logins) {
    await verifier.verify(login.accessToken);
    const delivered = wiring.whenApplied(login.sessionId);
    hooks?.loggingOut();
    await server.logout(login.accessToken);
    await within(delivered, timeoutMs, `the revocation of ${login.sessionId} did not reach the verifier`);
    const refused = await verifier.verify(login.accessToken).then(
      () => false,
      (error: unknown) => isLatchkeyError(error, 'invalid_token'),
    );
    if (!refused) throw new Error('the verifier accepted a token whose revocation it received');
    hooks?.refused();
  }
  return logins;
}

/**
 * {@link revokeOneByOne}, timed: how long the verifier keeps accepting each token after its
 * logout (for the bench; the tests assert delivery, never a duration).
 */
export async function measureRevocationLag(
  server: LiveServer,
  wiring: Pick<Wiring, 'verifier' | 'whenApplied'>,
  options: { count: number; email: string; timeoutMs?: number },
): Promise<LagSamples> {
  let recordedAt = 0;
  let start = 0;
  const delivery: number[] = [];
  const endToEnd: number[] = [];
  const unsubscribe = server.latchkey.revocations.onRevocation(() => {
    recordedAt = performance.now();
  });
  try {
    await revokeOneByOne(server, wiring, options, {
      loggingOut: () => {
        start = performance.now();
      },
      refused: () => {
        const end = performance.now();
        delivery.push(end - recordedAt);
        endToEnd.push(end - start);
      },
    });
  } finally {
    unsubscribe();
  }
  return { delivery, endToEnd };
}
