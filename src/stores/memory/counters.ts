/** Counters (rate limits, lockouts) in the memory store, by key. */

import type { CounterValue } from '../../records.js';
import type { CounterStore } from '../../store.js';
import type { RunOperation } from './runner.js';

/** Expired counters are dropped every this many increments, so that the map cannot grow forever. */
const COUNTER_SWEEP_INTERVAL = 1_000;

/** Drops every counter expired at `now`. */
function sweepCounters(counters: Map<string, CounterValue>, now: number): void {
  for (const [name, value] of counters) if (value.expiresAt <= now) counters.delete(name);
}

/**
 * Creates the counter operations of one memory store, over state of their own.
 *
 * @example
 * const counters = createMemoryCounters(run);
 * const { count } = await counters.increment('login:ip', 60_000, Date.now());
 */
export function createMemoryCounters(run: RunOperation): CounterStore {
  const counters = new Map<string, CounterValue>();
  let incrementsSinceSweep = 0;

  return {
    increment(key: string, ttlMs: number, now: number): Promise<CounterValue> {
      return run(() => {
        incrementsSinceSweep += 1;
        if (incrementsSinceSweep >= COUNTER_SWEEP_INTERVAL) {
          incrementsSinceSweep = 0;
          sweepCounters(counters, now);
        }
        const current = counters.get(key);
        const next: CounterValue =
          current === undefined || current.expiresAt <= now
            ? { count: 1, expiresAt: now + ttlMs }
            : { count: current.count + 1, expiresAt: current.expiresAt };
        counters.set(key, next);
        return { ...next };
      });
    },

    getCounter(key: string, now: number): Promise<CounterValue | null> {
      return run(() => {
        const current = counters.get(key);
        if (current === undefined || current.expiresAt <= now) return null;
        return { ...current };
      });
    },

    deleteCounter(key: string): Promise<void> {
      return run(() => {
        counters.delete(key);
      });
    },
  };
}
