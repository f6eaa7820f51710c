/**
 * What every record module of the Redis store works with: the client, the key names, the
 * wrapper that turns driver failures into `store_unavailable`, the script runner, and the
 * helpers for GC TTLs, batching and duplicate ids.
 */

import { LatchkeyError, storeUnavailable } from '../../errors.js';
import { sanitize, type RedisClient } from './connection.js';
import { redisKeys, type RedisKeys } from './keys.js';
import type { RedisScript } from './lua.js';

/** How long after its logical end a record may linger before Redis drops it. */
export const GC_MARGIN_MS = 24 * 60 * 60 * 1_000;
/** The same for counters. */
export const COUNTER_GC_MARGIN_MS = 60_000;
/** Concurrent commands per batch in operations over many records. */
const CHUNK_SIZE = 256;
/** Records per sweep round (sessions, one-time tokens); revocations per deletion script. */
export const SWEEP_BATCH = 1_000;

/** The client, key names and runners that one store's record modules share. */
export interface RedisContext {
  readonly client: RedisClient;
  readonly keys: RedisKeys;
  /** The user agents this process has read, by reference (immutable: `./user-agents.ts`). */
  readonly userAgents: Map<string, string>;
  /** Runs one operation; driver errors become `store_unavailable`, LatchkeyErrors pass through. */
  readonly run: <T>(operation: () => Promise<T>) => Promise<T>;
  /** EVALSHA, falling back to EVAL when the server does not have the script yet. */
  readonly runScript: (
    script: RedisScript,
    keys: readonly string[],
    args: readonly (string | number)[],
  ) => Promise<unknown>;
}

/**
 * Creates the context of one store. `isClosed` is read before every operation: once the store
 * is closed, every method rejects with `store_unavailable`.
 *
 * @example
 * const context = createRedisContext(client, 'latchkey', () => closed);
 * await context.run(() => context.client.ping());
 */
export function createRedisContext(
  client: RedisClient,
  prefix: string,
  isClosed: () => boolean,
): RedisContext {
  return {
    client,
    keys: redisKeys(prefix),
    userAgents: new Map(),
    // One promise chain on the operation's promise, not an async function awaiting it.
    run: <T>(operation: () => Promise<T>): Promise<T> => {
      if (isClosed()) return Promise.reject(closedError());
      try {
        return operation().then(undefined, rethrowStoreError);
      } catch (error) {
        return Promise.reject(storeError(error));
      }
    },
    runScript: (script, keys, args) => runScript(client, script, keys, args),
  };
}

/** What every operation rejects with once the store is closed. */
function closedError(): LatchkeyError {
  return new LatchkeyError('store_unavailable', 'The Redis store is closed', { retryAfter: 1 });
}

/** The error an operation rejects with: a LatchkeyError as it is, anything else as `store_unavailable`. */
function storeError(error: unknown): LatchkeyError {
  return error instanceof LatchkeyError ? error : storeUnavailable(sanitize(error));
}

function rethrowStoreError(error: unknown): never {
  throw storeError(error);
}

function runScript(
  client: RedisClient,
  script: RedisScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  if (keys.length !== script.keyCount) {
    return Promise.reject(new Error(`Script ${script.name} takes ${script.keyCount} keys`));
  }
  return client.evalsha(script.sha, keys.length, ...keys, ...args).then(undefined, (error: unknown) => {
    if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
    return client.eval(script.lua, keys.length, ...keys, ...args);
  });
}

/**
 * A GC TTL (ms, as the decimal string PEXPIRE takes) for a record that lives `lifeMs`: relative,
 * so that it never depends on how the caller's clock compares with Redis's.
 *
 * @example
 * client.set(key, value, 'PX', gcTTL(record.expiresAt - record.createdAt), 'NX');
 */
export function gcTTL(lifeMs: number, marginMs = GC_MARGIN_MS): string {
  return String(Math.ceil(Math.max(lifeMs, 0) + marginMs));
}

/**
 * Runs `task` over `items`, at most a chunk of them at a time; results in the order of `items`.
 *
 * @example
 * const raws = await mapInChunks(ids, (id) => client.get(keys.session(id)));
 */
export async function mapInChunks<T, R>(items: readonly T[], task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += CHUNK_SIZE) {
    results.push(...(await Promise.all(items.slice(start, start + CHUNK_SIZE).map(task))));
  }
  return results;
}

/**
 * The error for a record whose id already exists.
 *
 * @example
 * if (stored === null) throw duplicate('session');
 */
/**
 * Sweeps a sweep set: takes the ids due at `now` (scored by when they expire) in batches, and
 * lets `sweepOne` decide and remove each; returns how many it removed. An id is looked at once
 * per call, even if a stale (lower) score brings it back in range.
 *
 * @example
 * const removed = await sweepDue(context, context.keys.sweep, now, (id) => sweepSession(context, id, now));
 */
export async function sweepDue(
  context: RedisContext,
  sweepKey: string,
  now: number,
  sweepOne: (id: string) => Promise<boolean>,
): Promise<number> {
  let removed = 0;
  const seen = new Set<string>();
  for (;;) {
    const due = await context.client.zrangebyscore(sweepKey, '-inf', now, 'LIMIT', 0, SWEEP_BATCH);
    const batch = due.filter((id) => !seen.has(id));
    if (batch.length === 0) break;
    await mapInChunks(batch, async (id) => {
      seen.add(id);
      if (await sweepOne(id)) removed += 1;
    });
  }
  return removed;
}

export function duplicate(what: string): LatchkeyError {
  return new LatchkeyError('internal_error', `A ${what} with this id already exists`);
}
