/**
 * One-time tokens in SQL (`latchkey_one_time_tokens`): reset links, verification links,
 * second-step challenges, stored under the hash of their secret.
 *
 * Consumption is atomic because a row can be deleted only once: whichever caller's `DELETE`
 * matches it wins, and every other concurrent caller's matches nothing.
 */

import type { OneTimeTokenRecord } from '../../records.js';
import type { OneTimeTokenStore } from '../../store.js';
import type { SqlContext } from './context.js';
import { rowCountOf, run } from './context.js';
import type { OneTimeTokenRow } from './rows.js';
import { COLUMNS, toOneTimeToken } from './rows.js';

type Consume = (id: string, purpose: string, now: number) => Promise<OneTimeTokenRow | undefined>;

/** A token is consumable while it exists, has the purpose asked for and has not expired. */
const CONSUMABLE = 'id = $1 AND purpose = $2 AND expires_at > $3';

/**
 * The consumption: one `DELETE ... RETURNING` where the dialect has it; otherwise a `SELECT`,
 * then a `DELETE` of the same live row, whose affected-row count says whether this caller won
 * (records never change, so the row read is the row deleted).
 */
function consumeStatement({ client, dialect: d }: SqlContext): Consume {
  const columns = COLUMNS.oneTimeTokens.join(', ');
  if (d.supports.deleteReturning) {
    const take = d.prepare(`DELETE FROM latchkey_one_time_tokens WHERE ${CONSUMABLE} RETURNING ${columns}`);
    return async (id, purpose, now) => (await run<OneTimeTokenRow>(client, take, [id, purpose, now])).rows[0];
  }
  const read = d.prepare(`SELECT ${columns} FROM latchkey_one_time_tokens WHERE ${CONSUMABLE}`);
  const remove = d.prepare(`DELETE FROM latchkey_one_time_tokens WHERE ${CONSUMABLE}`);
  return async (id, purpose, now) => {
    const row = (await run<OneTimeTokenRow>(client, read, [id, purpose, now])).rows[0];
    if (row === undefined) return undefined;
    return rowCountOf(await run(client, remove, [id, purpose, now])) > 0 ? row : undefined;
  };
}

/**
 * The one-time-token methods of the SQL store.
 *
 * @example
 * const tokens = createOneTimeTokenStore(createSqlContext(client, postgresDialect));
 * await tokens.putOneTimeToken(record);
 * await tokens.consumeOneTimeToken(record.id, 'password_reset', Date.now()); // record, then null
 */
export function createOneTimeTokenStore(context: SqlContext): OneTimeTokenStore {
  const { client, dialect: d, guarded } = context;
  const consume = consumeStatement(context);
  const statements = {
    // A duplicate id fails as a unique violation, which `guarded` reports as internal_error.
    insert: d.prepare(d.insert({ table: 'latchkey_one_time_tokens', columns: COLUMNS.oneTimeTokens })),
    deleteOfSubject: d.prepare('DELETE FROM latchkey_one_time_tokens WHERE subject = $1 AND purpose = $2'),
    deleteExpired: d.prepare('DELETE FROM latchkey_one_time_tokens WHERE expires_at <= $1'),
    countOfSubject: d.prepare(
      'SELECT COUNT(*) AS live FROM latchkey_one_time_tokens WHERE subject = $1 AND purpose = $2 AND expires_at > $3',
    ),
  };

  return {
    putOneTimeToken: (token: OneTimeTokenRecord) =>
      guarded(async () => {
        await run(client, statements.insert, [
          token.id,
          token.purpose,
          token.subject,
          token.data,
          token.createdAt,
          token.expiresAt,
        ]);
      }),

    consumeOneTimeToken: (id, purpose, now) =>
      guarded(async () => {
        const row = await consume(id, purpose, now);
        return row === undefined ? null : toOneTimeToken(row, d);
      }),

    deleteOneTimeTokens: (subject, purpose) =>
      guarded(async () => rowCountOf(await run(client, statements.deleteOfSubject, [subject, purpose]))),

    countOneTimeTokens: (subject, purpose, now) =>
      guarded(async () => {
        const rows = (
          await run<{ live: unknown }>(client, statements.countOfSubject, [subject, purpose, now])
        ).rows;
        // COUNT(*) comes back as a number, a bigint or a numeric string, depending on the driver.
        return Number(rows[0]?.live ?? 0);
      }),

    deleteExpiredOneTimeTokens: (now) =>
      guarded(async () => rowCountOf(await run(client, statements.deleteExpired, [now]))),
  };
}
