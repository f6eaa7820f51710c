/**
 * Counters in Redis: one hash per counter, `P:{c:<key>}` (`c` count, `e` expiresAt), with a GC
 * TTL of its window plus a minute. The expiry that counts is `e`, compared with the caller's
 * `now`.
 */

import type { CounterValue } from '../../records.js';
import type { CounterStore } from '../../store.js';
import { numberOrNull, replyArray, replyNumber, requiredNumber } from './codec.js';
import { COUNTER_GC_MARGIN_MS, gcTTL, type RedisContext } from './context.js';
import { increment as incrementScript } from './counter-scripts.js';

async function increment(
  context: RedisContext,
  key: string,
  ttlMs: number,
  now: number,
): Promise<CounterValue> {
  const reply = replyArray(
    await context.runScript(
      incrementScript,
      [context.keys.counter(key)],
      [now, now + ttlMs, gcTTL(ttlMs, COUNTER_GC_MARGIN_MS)],
    ),
    'counter',
  );
  return { count: replyNumber(reply[0], 'counter'), expiresAt: replyNumber(reply[1], 'counter') };
}

async function getCounter(
  { client, keys }: RedisContext,
  key: string,
  now: number,
): Promise<CounterValue | null> {
  const [count, expiresAt] = await client.hmget(keys.counter(key), 'c', 'e');
  const expiry = numberOrNull(expiresAt ?? undefined, 'counter');
  if (expiry === null || expiry <= now) return null;
  return { count: requiredNumber(count ?? undefined, 'counter'), expiresAt: expiry };
}

async function deleteCounter({ client, keys }: RedisContext, key: string): Promise<void> {
  await client.unlink(keys.counter(key));
}

/**
 * The counter operations of one Redis store.
 *
 * @example
 * const counters = createRedisCounters(context);
 * const { count } = await counters.increment('login:1.2.3.4', 60_000, now);
 */
export function createRedisCounters(context: RedisContext): CounterStore {
  const { run } = context;
  return {
    increment: (key, ttlMs, now) => run(() => increment(context, key, ttlMs, now)),
    getCounter: (key, now) => run(() => getCounter(context, key, now)),
    deleteCounter: (key) => run(() => deleteCounter(context, key)),
  };
}
