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
 * @see ./feed-connection.ts the start/close/backoff shell it shares with the HTTP transport
 * @see ./feed-catch-up.ts the position and the catch-up from a snapshot
 * @see ./feed-guard.ts the timeouts and loss of the current connection
 */

import { parseWireRevocation } from '../revocation/revocation-list.js';
import type { RevocationRecord } from '../records.js';
import type { RevocationFeed, RevocationFeedState } from './feed.js';
import { createFeedPosition, type FeedPosition } from './feed-catch-up.js';
import { createFeedShell, positive, runReconnectLoop, type FeedShell } from './feed-connection.js';
import { createConnectionGuard, type ConnectionGuard } from './feed-guard.js';
import type { RevocationSnapshotFunction } from './feed-snapshot.js';

export {
  createHTTPRevocationSnapshot,
  type RevocationSnapshot,
  type RevocationSnapshotFunction,
} from './feed-snapshot.js';

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

/** The options of {@link createPubSubFeed}, checked, with their defaults. */
interface PubSubSettings {
  readonly snapshot: RevocationSnapshotFunction;
  readonly retryMs: number;
  readonly maxRetryMs: number;
  readonly heartbeatMs: number;
  readonly resyncMs: number;
  readonly timeoutMs: number;
}

/** What one pub/sub feed keeps across its connections. */
interface PubSubEngine {
  readonly connect: PubSubConnect;
  readonly settings: PubSubSettings;
  readonly shell: FeedShell;
  readonly guard: ConnectionGuard;
  readonly position: FeedPosition;
  /** Connections opened so far: the generation of the current one. */
  connections: number;
}

/** Where a started feed's records and states go. */
interface FeedOutput {
  /** The verifier's `apply` (called through the position, which skips it once closed). */
  readonly apply: (record: RevocationRecord) => void;
  /** The verifier's `onState`, silent once closed. */
  readonly state: (value: RevocationFeedState) => void;
}

/**
 * Builds a feed from a transport's `connect`. Internal to the transports; exported for them.
 *
 * @example
 * const feed = createPubSubFeed(async (handlers) => { ...subscribe...; return { ping, close }; }, options);
 */
export function createPubSubFeed(connect: PubSubConnect, options: PubSubFeedOptions): PubSubRevocationFeed {
  const settings = pubSubSettings(options);
  const guard = createConnectionGuard(settings.timeoutMs);
  const shell = createFeedShell({
    report(error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      options.onError?.(failure);
      return failure.message;
    },
    interrupt: () => guard.abortAll(new Error('the feed is closed')),
  });
  const position = createFeedPosition(() => shell.closed);
  const engine: PubSubEngine = { connect, settings, shell, guard, position, connections: 0 };

  return {
    get lastSeq() {
      return position.lastSeq;
    },
    get connections() {
      return engine.connections;
    },
    start(apply, onState) {
      shell.start(() => run(engine, apply, onState));
    },
    async close() {
      await shell.close();
    },
  };
}

function pubSubSettings(options: PubSubFeedOptions): PubSubSettings {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  const { snapshot } = options;
  if (typeof snapshot !== 'function') {
    throw new TypeError('"snapshot" must be a function (afterSeq?: number) => Promise<{ records, lastSeq }>');
  }
  return {
    snapshot,
    retryMs: positive(options.retryMs, 500, 'retryMs'),
    maxRetryMs: positive(options.maxRetryMs, 30_000, 'maxRetryMs'),
    heartbeatMs: positive(options.heartbeatMs, 10_000, 'heartbeatMs'),
    resyncMs: positive(options.resyncMs, 30_000, 'resyncMs'),
    timeoutMs: positive(options.timeoutMs, 5_000, 'timeoutMs'),
  };
}

/** Runs connections until close(); a connection that was live restarts the backoff. */
function run(
  engine: PubSubEngine,
  apply: (record: RevocationRecord) => void,
  onState: (state: RevocationFeedState) => void,
): Promise<void> {
  /** The last status reported: a loss is reported at once, and not again when its connection ends. */
  let last: RevocationFeedState['status'] | undefined;
  const output: FeedOutput = {
    apply,
    state: (value) => {
      if (engine.shell.closed || (value.status === 'disconnected' && last === 'disconnected')) return;
      last = value.status;
      onState(value);
    },
  };
  return runReconnectLoop(engine.shell, {
    retryMs: engine.settings.retryMs,
    maxRetryMs: engine.settings.maxRetryMs,
    attemptAfterLive: 1,
    endReason: 'connection lost',
    state: output.state,
    connection: (markLive) => session(engine, output, markLive),
  });
}

/**
 * One connection: subscribe, catch up, report `live`, then stay live until the connection is
 * lost or the feed closed. Resolves with the `disconnected` reason, undefined once closed.
 */
async function session(
  engine: PubSubEngine,
  output: FeedOutput,
  markLive: () => void,
): Promise<string | undefined> {
  const { shell, guard } = engine;
  let connection: PubSubConnection | null = null;
  guard.reset();
  const generation = engine.connections + 1;
  engine.connections = generation;
  /** False once this connection is being closed: its late events must not wake the backoff. */
  let active = true;
  try {
    connection = await subscribe(
      engine,
      handlers(engine, output, generation, () => active),
    );
    if (shell.closed) return undefined;
    await catchUp(engine, output);
    if (shell.closed) return undefined;
    markLive();
    output.state({ status: 'live' });
    await stayLive(engine, output, connection);
    return undefined;
  } catch (error) {
    if (shell.closed) return undefined;
    return shell.report(error);
  } finally {
    active = false;
    await connection?.close();
  }
}

/** The callbacks of connection `generation`: both ignore a connection that is not current. */
function handlers(
  engine: PubSubEngine,
  output: FeedOutput,
  generation: number,
  isActive: () => boolean,
): PubSubHandlers {
  const { shell, guard, position } = engine;
  return {
    message(payload) {
      if (shell.closed || engine.connections !== generation) return;
      const record = parseMessage(payload);
      if (record === null) {
        shell.report(new Error('the channel carried a malformed revocation'));
        return;
      }
      if (!position.seen(record.seq)) position.deliver(record, output.apply);
    },
    lost(error) {
      if (!isActive() || engine.connections !== generation || guard.loss() !== null) return;
      guard.lose(error);
      // Said at once, not after the connection is torn down: from this moment messages are lost,
      // and a cache fed by this feed must stop serving before its next request.
      output.state({ status: 'disconnected', reason: error.message });
      shell.wake();
    },
  };
}

/** Opens and subscribes a connection, within the timeout. */
async function subscribe(engine: PubSubEngine, handlers: PubSubHandlers): Promise<PubSubConnection> {
  const { connect, shell, guard } = engine;
  const opening = connect(handlers);
  try {
    return await guard.within(opening, 'subscribe');
  } catch (error) {
    // A connection that opens after its timeout (or after close) is closed once it does.
    const late = opening.then(
      (orphan) => orphan.close(),
      () => undefined,
    );
    if (shell.closed) await boundedWait(late, engine.settings.timeoutMs);
    throw error;
  }
}

/** Applies every record after the position, then moves the position. */
function catchUp(engine: PubSubEngine, output: FeedOutput): Promise<void> {
  const { snapshot } = engine.settings;
  return engine.position.catchUp(
    (afterSeq) => engine.guard.within(snapshot(afterSeq), 'snapshot'),
    output.apply,
  );
}

/**
 * While live: pings at each heartbeat (reporting `live` again) and resyncs every `resyncMs`.
 * Returns once the feed is closed; rejects when the connection is lost.
 */
async function stayLive(
  engine: PubSubEngine,
  output: FeedOutput,
  connection: PubSubConnection,
): Promise<void> {
  const { shell, guard, settings } = engine;
  let nextResync = performance.now() + settings.resyncMs;
  // One turn per heartbeat; ends when the connection is lost or the feed closed.
  for (;;) {
    await shell.sleep(settings.heartbeatMs);
    if (shell.closed) return;
    const loss = guard.loss();
    if (loss !== null) throw loss;
    await guard.within(connection.ping(), 'ping');
    if (shell.closed) return;
    output.state({ status: 'live' });
    if (performance.now() >= nextResync) {
      nextResync = performance.now() + settings.resyncMs;
      try {
        await catchUp(engine, output);
      } catch (error) {
        // The subscription still works; the next resync (or reconnection) tries again.
        if (shell.closed) return;
        const loss = guard.loss();
        if (loss !== null) throw loss;
        shell.report(error);
      }
    }
  }
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
