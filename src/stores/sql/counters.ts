/**
 * Counters in SQL (`latchkey_counters`), for rate limits and lockouts. An increment is one
 * upsert: the engine guarantees insert-or-update under concurrency, and the row lock orders
 * concurrent increments.
 */

import type { CounterValue } from '../../records.js';
import type { CounterStore } from '../../store.js';
import type { SqlContext } from './context.js';
import { run } from './context.js';
import type { CounterRow } from './rows.js';
import { COLUMNS, toCounter } from './rows.js';

/** The key column, quoted: `key` is a reserved word in MySQL (see `rows.ts`). */
const KEY = COLUMNS.counters[0];

/** Expired counters are swept by one increment in this many (per store instance). */
const COUNTER_SWEEP_INTERVAL = 1_000;

type Increment = (key: string, ttlMs: number, now: number) => Promise<CounterRow | undefined>;

/**
 * The increment: starts the counter at 1 with `expires_at = now + ttl` when it is absent or
 * expired at `now`, else adds 1 and keeps the expiry. With `RETURNING` on the upsert it is one
 * statement; without, the upsert and a read of the row it holds locked, in one transaction.
 */
function incrementStatement({ client, dialect: d }: SqlContext): Increment {
  const returning = d.supports.upsertReturning;
  const upsert = d.prepare(
    d.insert({
      table: 'latchkey_counters',
      columns: COLUMNS.counters,
      values: ['$1', '1', d.cast('$3', 'bigint')],
      onConflict: {
        columns: [KEY],
        update: ({ existing, proposed }) => {
          const expired = `${existing('expires_at')} <= ${d.cast('$2', 'bigint')}`;
          return [
            ['count', `CASE WHEN ${expired} THEN 1 ELSE ${existing('count')} + 1 END`],
            [
              'expires_at',
              `CASE WHEN ${expired} THEN ${proposed('expires_at')} ELSE ${existing('expires_at')} END`,
            ],
          ];
        },
      },
      ...(returning ? { returning: ['count', 'expires_at'] } : {}),
    }),
  );
  const read = d.prepare(`SELECT count, expires_at FROM latchkey_counters WHERE ${KEY} = $1`);
  if (returning) {
    return async (key, ttlMs, now) =>
      (await run<CounterRow>(client, upsert, [key, now, now + ttlMs])).rows[0];
  }
  return (key, ttlMs, now) =>
    client.transaction(async (tx) => {
      await run(tx, upsert, [key, now, now + ttlMs]);
      return (await run<CounterRow>(tx, read, [key])).rows[0];
    });
}

/**
 * The counter methods of the SQL store.
 *
 * @example
 * const counters = createCounterStore(createSqlContext(client, postgresDialect));
 */
export function createCounterStore(context: SqlContext): CounterStore {
  const { client, dialect: d, guarded } = context;
  const increment = incrementStatement(context);
  const statements = {
    live: d.prepare(`SELECT count, expires_at FROM latchkey_counters WHERE ${KEY} = $1 AND expires_at > $2`),
    delete: d.prepare(`DELETE FROM latchkey_counters WHERE ${KEY} = $1`),
    deleteExpired: d.prepare('DELETE FROM latchkey_counters WHERE expires_at <= $1'),
  };

  let incrementsSinceSweep = 0;
  const sweepCounters = async (now: number): Promise<void> => {
    incrementsSinceSweep += 1;
    if (incrementsSinceSweep < COUNTER_SWEEP_INTERVAL) return;
    incrementsSinceSweep = 0;
    try {
      await run(client, statements.deleteExpired, [now]);
    } catch {
      // Housekeeping only: the increment itself succeeded, and the next sweep will retry.
    }
  };

  return {
    increment: (key, ttlMs, now) =>
      guarded(async (): Promise<CounterValue> => {
        const row = await increment(key, ttlMs, now);
        if (row === undefined) throw new Error('The incremented counter could not be read back');
        await sweepCounters(now);
        return toCounter(row, d);
      }),

    getCounter: (key, now) =>
      guarded(async () => {
        const { rows } = await run<CounterRow>(client, statements.live, [key, now]);
        const row = rows[0];
        return row === undefined ? null : toCounter(row, d);
      }),

    deleteCounter: (key) =>
      guarded(async () => {
        await run(client, statements.delete, [key]);
      }),
  };
}
