/**
 * The guard of a pub/sub feed's current connection: why it was lost, and a bound on every
 * operation pending on it (subscribe, ping, snapshot), which is rejected after a timeout, on
 * connection loss or on close.
 *
 * @see ./pubsub-feed.ts the engine that uses it
 */

/** See {@link createConnectionGuard}. */
export interface ConnectionGuard {
  /** Why the current connection was lost, null while it is up (read through a call: it changes in callbacks). */
  loss(): Error | null;
  /** A new connection: it is up. */
  reset(): void;
  /** The current connection was lost: records why and rejects the operations pending on it. */
  lose(error: Error): void;
  /** Rejects the operations pending on the current connection (on loss or close). */
  abortAll(error: Error): void;
  /** `promise`, or a rejection after the timeout, on connection loss or on close. */
  within<T>(promise: Promise<T>, what: string): Promise<T>;
}

/**
 * Creates the guard, with the connection up and nothing pending.
 *
 * @example
 * const guard = createConnectionGuard(5_000);
 * await guard.within(connection.ping(), 'ping'); // "ping timed out after 5000 ms"
 */
export function createConnectionGuard(timeoutMs: number): ConnectionGuard {
  /** Why the current connection was lost; null while it is up. */
  let lostError: Error | null = null;
  /** Rejects the operations pending on the current connection (on loss or close). */
  const aborters = new Set<(error: Error) => void>();

  function abortAll(error: Error): void {
    for (const abort of [...aborters]) abort(error);
  }

  return {
    loss() {
      return lostError;
    },
    reset() {
      lostError = null;
    },
    lose(error) {
      lostError = error;
      abortAll(error);
    },
    abortAll,
    within<T>(promise: Promise<T>, what: string): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const settle = (): void => {
          clearTimeout(timer);
          aborters.delete(abort);
        };
        const abort = (error: Error): void => {
          settle();
          reject(error);
        };
        const timer = setTimeout(
          () => abort(new Error(`${what} timed out after ${timeoutMs} ms`)),
          timeoutMs,
        );
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
    },
  };
}
