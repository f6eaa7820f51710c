/**
 * The one gate every memory-store operation passes through: it refuses work once the store is
 * closed and turns a synchronous operation into the promise the `Store` contract asks for.
 */

import { LatchkeyError } from '../../errors.js';

/**
 * Runs one operation synchronously (hence atomically) and reports its outcome as a promise.
 * The operation must not `await`: with no yield between its reads and writes, no other call can
 * interleave, which is what makes every memory-store method atomic.
 */
export type RunOperation = <T>(operation: () => T) => Promise<T>;

/** The gate of one memory store: `run` for every operation, `close` to shut the gate for good. */
export interface MemoryRunner {
  readonly run: RunOperation;
  /** After this, every `run` rejects with `store_unavailable`. Idempotent. */
  close(): void;
}

/**
 * Creates the gate of one memory store. A throw inside an operation (or the closed gate itself)
 * becomes a rejected promise, never a synchronous throw, so callers see one failure path.
 *
 * @example
 * const { run, close } = createMemoryRunner();
 * await run(() => 42); // 42
 * close();
 * await run(() => 42); // rejects with LatchkeyError('store_unavailable')
 */
export function createMemoryRunner(): MemoryRunner {
  let closed = false;

  function run<T>(operation: () => T): Promise<T> {
    try {
      if (closed)
        throw new LatchkeyError('store_unavailable', 'The memory store is closed', { retryAfter: 1 });
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  function close(): void {
    closed = true;
  }

  return { run, close };
}
