/**
 * The shell shared by the revocation transports (the SSE feed, and the pub/sub engine behind
 * the Redis and Postgres feeds): start once, run one connection after another until `close()`,
 * waiting a growing, jittered delay between them, and close by interrupting whatever is
 * waiting.
 *
 * A transport brings its connection (one turn of the loop) and what `close()` must abort; the
 * shell reports `connecting` before each connection and `disconnected` after each one, exactly
 * as the contract in `./feed.ts` asks.
 *
 * @see ./sse-feed.ts the HTTP transport
 * @see ./pubsub-feed.ts the pub/sub engine
 */

import type { RevocationFeedState } from './feed.js';

const MAX_BACKOFF_STEPS = 20;

/** What a transport gives its shell. */
export interface FeedShellHooks {
  /** Tells the transport's `onError` about a failure; returns the message for `disconnected`. */
  report(error: unknown): string;
  /** Aborts the transport's pending work on `close()` (before the shell ends its wait). */
  interrupt(): void;
}

/** The start/close/wait state of one feed. */
export interface FeedShell {
  /** True once `close()` was called. */
  readonly closed: boolean;
  /** The transport's `report`: tells `onError`, returns the message. */
  report(error: unknown): string;
  /** Waits `ms`, or less when woken (connection lost, close). */
  sleep(ms: number): Promise<void>;
  /** Ends the current wait (backoff or heartbeat interval) early. */
  wake(): void;
  /** Runs `run` in the background; throws when called twice. A rejection is reported. */
  start(run: () => Promise<void>): void;
  /** Stops the feed: interrupts, wakes, and resolves once `run` has ended. */
  close(): Promise<void>;
}

/** One transport's reconnection loop, for {@link runReconnectLoop}. */
export interface ReconnectLoop {
  /** First reconnection delay; doubles per failed attempt up to `maxRetryMs`. */
  readonly retryMs: number;
  /** Longest reconnection delay. */
  readonly maxRetryMs: number;
  /**
   * The backoff step after a connection that reached `live` (0 for SSE, 1 for pub/sub: both
   * wait about `retryMs` first; they differ from the next failed attempt on).
   */
  readonly attemptAfterLive: number;
  /** The `disconnected` reason of a connection that ended without an error or a reason. */
  readonly endReason: string;
  /** Reports each state (`connecting`, `disconnected`); called as a plain function. */
  readonly state: (value: RevocationFeedState) => void;
  /**
   * One connection: resolves or rejects when it ends (a rejection is reported), with the
   * `disconnected` reason when it has one; calls `markLive` once it reached `live`.
   */
  connection(markLive: () => void): Promise<string | undefined>;
}

/**
 * Creates the start/close/wait state of a feed.
 *
 * @example
 * const shell = createFeedShell({ report, interrupt: () => current?.abort() });
 * shell.start(() => runReconnectLoop(shell, loop));
 * await shell.close();
 */
export function createFeedShell(hooks: FeedShellHooks): FeedShell {
  let started = false;
  let closed = false;
  let running: Promise<void> = Promise.resolve();
  /** Ends the current wait (backoff or heartbeat interval) early. */
  let wake: (() => void) | null = null;

  return {
    get closed() {
      return closed;
    },
    report(error) {
      return hooks.report(error);
    },
    sleep(ms) {
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
    },
    wake() {
      wake?.();
    },
    start(run) {
      if (started) throw new Error('the feed has already been started');
      started = true;
      running = run().catch((error: unknown) => {
        hooks.report(error);
      });
    },
    async close() {
      closed = true;
      hooks.interrupt();
      wake?.();
      await running;
    },
  };
}

/**
 * Runs connections until `close()`: reports `connecting`, runs one, reports `disconnected`
 * with its reason, and waits an exponential delay with jitter (reset after a `live` one).
 *
 * @example
 * shell.start(() => runReconnectLoop(shell, { retryMs, maxRetryMs, attemptAfterLive: 0, endReason, state, connection }));
 */
export async function runReconnectLoop(shell: FeedShell, loop: ReconnectLoop): Promise<void> {
  const { state } = loop;
  let attempt = 0;
  // Runs until close(): every turn either stays connected or waits a growing delay.
  while (!shell.closed) {
    state({ status: 'connecting' });
    let reason = loop.endReason;
    let wasLive = false;
    try {
      reason =
        (await loop.connection(() => {
          wasLive = true;
        })) ?? reason;
    } catch (error) {
      if (shell.closed) break;
      reason = shell.report(error);
    }
    if (shell.closed) break;
    state({ status: 'disconnected', reason });
    attempt = wasLive ? loop.attemptAfterLive : Math.min(attempt + 1, MAX_BACKOFF_STEPS);
    const ceiling = Math.min(loop.maxRetryMs, loop.retryMs * 2 ** Math.max(0, attempt - 1));
    await shell.sleep(ceiling / 2 + Math.random() * (ceiling / 2));
  }
}

/**
 * Reads a delay option: `fallback` when undefined, else a positive finite number.
 *
 * @example
 * positive(options.retryMs, 500, 'retryMs'); // 500, or throws a TypeError naming "retryMs"
 */
export function positive(value: number | undefined, fallback: number, name: string): number {
  const ms = value ?? fallback;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw new TypeError(`"${name}" must be a positive number of milliseconds`);
  }
  return ms;
}
