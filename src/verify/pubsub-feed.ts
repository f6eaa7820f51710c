/**
 * The engine shared by the pub/sub revocation transports (Redis `SUBSCRIBE`, Postgres
 * `LISTEN`): a driver-free loop that subscribes, catches up from a snapshot, goes live and
 * reconnects with backoff, reporting its state to the verifier exactly as the SSE feed does.
 *
 * Pub/sub is fire-and-forget: a record published while nobody listens is lost. So on every
 * (re)connection the feed first subscribes (and waits for the server to confirm it), then asks
 * the caller's `snapshot` function for every record after its last confirmed position, applies
 * them, and only then reports `live`: anything made before the subscription is in the
 * snapshot, anything after it arrives on the channel. A periodic resync, while live, recovers
 * a publish the server failed to make (its own connection to Redis or Postgres was down).
 *
 * The transports (`./redis-feed.ts`, `./postgres-feed.ts`) are separate entry points that load
 * their driver on demand; this module loads none.
 *
 * @see ./feed.ts the contract with the verifier
 * @see ./sse-feed.ts the HTTP transport, with the same state reporting
 */

import { parseWireRevocation } from '../revocation/revocation-list.js';
import type { RevocationRecord } from '../records.js';
import type { RevocationFeed, RevocationFeedState } from './feed.js';

/** What a `snapshot` function returns: every live record after the position asked for. */
export interface RevocationSnapshot {
  /** Every live record with `seq > afterSeq` (all live records when `afterSeq` is undefined). */
  readonly records: readonly RevocationRecord[];
  /** The position the snapshot covers: the highest seq it saw, or `afterSeq` when none. */
  readonly lastSeq: number;
}

/**
 * Reads the records a feed may have missed: e.g. the server's
 * `GET /v1/revocations/snapshot?after=N` ({@link createHTTPRevocationSnapshot}), or a direct
 * read of the store (`store.listRevocations({ now, afterSeq })`).
 */
export type RevocationSnapshotFunction = (afterSeq?: number) => Promise<RevocationSnapshot>;

/** Options shared by the pub/sub transports. */
export interface PubSubFeedOptions {
  /** Reads the records published while the feed was not subscribed. Required. */
  snapshot: RevocationSnapshotFunction;
  /** First reconnection delay; doubles per failed attempt up to `maxRetryMs`. Default 500 ms. */
  retryMs?: number;
  /** Longest reconnection delay. Default 30 s. */
  maxRetryMs?: number;
  /** Ping the connection this often while live (a dead peer is dropped). Default 10 s. */
  heartbeatMs?: number;
  /**
   * Re-read the snapshot this often while live (recovers a publish the server failed to make);
   * checked at each heartbeat, so at least `heartbeatMs` apart. Default 30 s.
   */
  resyncMs?: number;
  /** Give up on a connection, a subscription, a ping or a snapshot after this long. Default 5 s. */
  timeoutMs?: number;
  /** Told about each failed or dropped connection, failed resync and malformed message. */
  onError?: (error: Error) => void;
}

/** A pub/sub revocation feed: a {@link RevocationFeed} with its position and counters. */
export interface PubSubRevocationFeed extends RevocationFeed {
  /** The resume position: the `lastSeq` of the last snapshot applied, 0 before any. */
  readonly lastSeq: number;
  /** Connections (subscriptions) opened so far. */
  readonly connections: number;
}

/** Callbacks a transport's connection reports to. */
export interface PubSubHandlers {
  /** A message arrived on the channel. */
  message(payload: string): void;
  /** The connection ended or failed (may be called more than once). */
  lost(error: Error): void;
}

/** A subscribed connection, as a transport hands it to the engine. */
export interface PubSubConnection {
  /** A round trip on the connection; rejects when it is dead. */
  ping(): Promise<void>;
  /** Closes the connection; never rejects. */
  close(): Promise<void>;
}

/**
 * Opens a dedicated connection and subscribes; resolves only once the server confirmed the
 * subscription (so that the snapshot read afterwards leaves no gap).
 */
export type PubSubConnect = (handlers: PubSubHandlers) => Promise<PubSubConnection>;

const MAX_BACKOFF_STEPS = 20;
/** Seqs remembered for deduplication of live messages. */
const MAX_SEEN = 10_000;

/**
 * Builds a feed from a transport's `connect`. Internal to the transports; exported for them.
 *
 * @example
 * const feed = createPubSubFeed(async (handlers) => { ...subscribe...; return { ping, close }; }, options);
 */
export function createPubSubFeed(connect: PubSubConnect, options: PubSubFeedOptions): PubSubRevocationFeed {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  const { snapshot } = options;
  if (typeof snapshot !== 'function') {
    throw new TypeError('"snapshot" must be a function (afterSeq?: number) => Promise<{ records, lastSeq }>');
  }
  const retryMs = positive(options.retryMs, 500, 'retryMs');
  const maxRetryMs = positive(options.maxRetryMs, 30_000, 'maxRetryMs');
  const heartbeatMs = positive(options.heartbeatMs, 10_000, 'heartbeatMs');
  const resyncMs = positive(options.resyncMs, 30_000, 'resyncMs');
  const timeoutMs = positive(options.timeoutMs, 5_000, 'timeoutMs');

  /** The last snapshot's position: every record up to it has been applied. */
  let position = 0;
  let synced = false;
  let connections = 0;
  let started = false;
  let closed = false;
  let running: Promise<void> = Promise.resolve();
  /** Ends the current wait (backoff or heartbeat interval) early. */
  let wake: (() => void) | null = null;
  /** Why the current connection was lost; null while it is up. */
  let lostError: Error | null = null;
  /** Rejects the operations pending on the current connection (on loss or close). */
  const aborters = new Set<(error: Error) => void>();
  /** Seqs applied recently, in insertion order: a live message for one of them is skipped. */
  const seen = new Set<number>();

  function report(error: unknown): string {
    const failure = error instanceof Error ? error : new Error(String(error));
    options.onError?.(failure);
    return failure.message;
  }

  function remember(seq: number): void {
    seen.add(seq);
    if (seen.size > MAX_SEEN) {
      const oldest = seen.values().next();
      if (oldest.done !== true) seen.delete(oldest.value);
    }
  }

  /** Why the current connection was lost (read through a call: it changes in callbacks). */
  function currentLoss(): Error | null {
    return lostError;
  }

  function interrupt(error: Error): void {
    for (const abort of [...aborters]) abort(error);
    wake?.();
  }

  /** `promise`, or a rejection after `timeoutMs`, on connection loss or on close. */
  function within<T>(promise: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        aborters.delete(abort);
      };
      const abort = (error: Error): void => {
        settle();
        reject(error);
      };
      const timer = setTimeout(() => abort(new Error(`${what} timed out after ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
      if (lostError !== null) {
        abort(lostError);
        return;
      }
      aborters.add(abort);
      promise.then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: unknown) => abort(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }

  /** Waits `ms`, or less when woken (connection lost, close). */
  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        if (wake === done) wake = null;
        resolve();
      }
      wake = done;
    });
  }

  async function run(
    apply: (record: RevocationRecord) => void,
    onState: (state: RevocationFeedState) => void,
  ): Promise<void> {
    const deliver = (record: RevocationRecord): void => {
      if (closed) return;
      remember(record.seq);
      apply(record);
    };
    const state = (value: RevocationFeedState): void => {
      if (!closed) onState(value);
    };

    /** Applies every record after the position, then moves the position. */
    async function catchUp(): Promise<void> {
      const result = await within(snapshot(synced ? position : undefined), 'snapshot');
      const records: unknown = result.records;
      if (!Array.isArray(records) || typeof result.lastSeq !== 'number' || !Number.isFinite(result.lastSeq)) {
        throw new Error('snapshot returned a malformed result');
      }
      if (closed) return;
      for (const record of result.records) deliver(record);
      position = Math.max(position, result.lastSeq);
      synced = true;
    }

    let attempt = 0;
    // Runs until close(): every turn either stays subscribed or waits a growing delay.
    while (!closed) {
      state({ status: 'connecting' });
      let reason = 'connection lost';
      let wasLive = false;
      let connection: PubSubConnection | null = null;
      lostError = null;
      const generation = connections + 1;
      connections = generation;
      /** False once this connection is being closed: its late events must not wake the backoff. */
      let active = true;
      try {
        const opening = connect({
          message(payload) {
            if (closed || connections !== generation) return;
            const record = parseMessage(payload);
            if (record === null) {
              report(new Error('the channel carried a malformed revocation'));
              return;
            }
            if (!seen.has(record.seq)) deliver(record);
          },
          lost(error) {
            if (!active || connections !== generation || lostError !== null) return;
            lostError = error;
            interrupt(error);
          },
        });
        try {
          connection = await within(opening, 'subscribe');
        } catch (error) {
          // A connection that opens after its timeout (or after close) is closed once it does.
          const late = opening.then(
            (orphan) => orphan.close(),
            () => undefined,
          );
          if (closed) await boundedWait(late, timeoutMs);
          throw error;
        }
        if (closed) break;
        await catchUp();
        if (closed) break;
        wasLive = true;
        attempt = 0;
        state({ status: 'live' });
        let nextResync = performance.now() + resyncMs;
        // One turn per heartbeat; ends when the connection is lost or the feed closed.
        for (;;) {
          await sleep(heartbeatMs);
          if (closed) break;
          const loss = currentLoss();
          if (loss !== null) throw loss;
          await within(connection.ping(), 'ping');
          if (closed) break;
          state({ status: 'live' });
          if (performance.now() >= nextResync) {
            nextResync = performance.now() + resyncMs;
            try {
              await catchUp();
            } catch (error) {
              // The subscription still works; the next resync (or reconnection) tries again.
              if (closed) break;
              const loss = currentLoss();
              if (loss !== null) throw loss;
              report(error);
            }
          }
        }
      } catch (error) {
        if (closed) break;
        reason = report(error);
      } finally {
        active = false;
        await connection?.close();
      }
      if (closed) break;
      state({ status: 'disconnected', reason });
      attempt = wasLive ? 1 : Math.min(attempt + 1, MAX_BACKOFF_STEPS);
      const ceiling = Math.min(maxRetryMs, retryMs * 2 ** Math.max(0, attempt - 1));
      await sleep(ceiling / 2 + Math.random() * (ceiling / 2));
    }
  }

  return {
    get lastSeq() {
      return position;
    },
    get connections() {
      return connections;
    },
    start(apply, onState) {
      if (started) throw new Error('the feed has already been started');
      started = true;
      running = run(apply, onState).catch((error: unknown) => {
        report(error);
      });
    },
    async close() {
      closed = true;
      interrupt(new Error('the feed is closed'));
      await running;
    },
  };
}

/**
 * A `snapshot` function over the auth server's `GET /v1/revocations/snapshot?after=N`.
 *
 * @example
 * const snapshot = createHTTPRevocationSnapshot({ url: 'https://auth.example.com/v1/revocations/snapshot' });
 * const feed = createRedisRevocationFeed({ url: process.env.REDIS_URL, channel: 'latchkey:revocations', snapshot });
 */
export function createHTTPRevocationSnapshot(options: {
  /** The snapshot endpoint, e.g. `https://auth.example.com/v1/revocations/snapshot`. */
  url: string | URL;
  fetch?: typeof fetch;
  /** Extra request headers (credentials for the feed); a function is called per request. */
  headers?: Readonly<Record<string, string>> | (() => Readonly<Record<string, string>>);
}): RevocationSnapshotFunction {
  const base = new URL(options.url);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  return async (afterSeq) => {
    const url = new URL(base);
    if (afterSeq !== undefined) url.searchParams.set('after', String(afterSeq));
    const extra = typeof options.headers === 'function' ? options.headers() : (options.headers ?? {});
    const response = await fetchImpl(url, {
      headers: { ...extra, accept: 'application/json', 'cache-control': 'no-store' },
      redirect: 'error',
    });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new Error(`snapshot answered ${response.status}`);
    }
    const body = (await response.json()) as { records?: unknown; last_seq?: unknown };
    if (!Array.isArray(body.records) || typeof body.last_seq !== 'number') {
      throw new Error('snapshot sent a malformed document');
    }
    const records: RevocationRecord[] = [];
    for (const item of body.records as unknown[]) {
      const record = parseWireRevocation(item);
      if (record === null) throw new Error('snapshot sent a malformed revocation');
      records.push(record);
    }
    return { records, lastSeq: body.last_seq };
  };
}

function parseMessage(payload: string): RevocationRecord | null {
  try {
    return parseWireRevocation(JSON.parse(payload));
  } catch {
    return null;
  }
}

/** Waits for `promise` (never rejecting) for at most `ms`. */
async function boundedWait(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const ms = value ?? fallback;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw new TypeError(`"${name}" must be a positive number of milliseconds`);
  }
  return ms;
}
