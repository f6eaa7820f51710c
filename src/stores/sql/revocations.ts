/**
 * Revocations in SQL (`latchkey_revocations`): an append-only feed whose position is the
 * generated `seq`.
 *
 * `addRevocation` runs under the dialect's `revocations` lock, so that revocations commit in
 * `seq` order: a `seq` is taken only while holding the lock, so a feed reader that has seen
 * `seq = n` can never later find a smaller one committing behind it.
 */

import type { NewRevocation } from '../../records.js';
import type { RevocationStore } from '../../store.js';
import type { SqlClient } from './client.js';
import type { SqlContext } from './context.js';
import { rowCountOf, run } from './context.js';
import type { RevocationRow } from './rows.js';
import { COLUMNS, toRevocation } from './rows.js';

/** The columns an insert sets (`seq` is generated). */
const INSERTED = ['kind', 'subject', 'issued_before', 'created_at', 'expires_at'];

/**
 * The revocation methods of the SQL store.
 *
 * @example
 * const revocations = createRevocationStore(createSqlContext(client, postgresDialect));
 */
export function createRevocationStore(context: SqlContext): RevocationStore {
  const { client, dialect: d, guarded } = context;
  const columns = COLUMNS.revocations.join(', ');
  const returning = d.supports.insertReturning;
  const statements = {
    insert: d.prepare(
      d.insert({
        table: 'latchkey_revocations',
        columns: INSERTED,
        ...(returning ? { returning: COLUMNS.revocations } : {}),
      }),
    ),
    // Without RETURNING: under the lock, the newest row is the one this transaction inserted.
    newest: d.prepare(`SELECT ${columns} FROM latchkey_revocations ORDER BY seq DESC LIMIT 1`),
    page: d.prepare(
      `SELECT ${columns} FROM latchkey_revocations
       WHERE seq > $2 AND expires_at > $1 ORDER BY seq LIMIT $3`,
    ),
    all: d.prepare(
      `SELECT ${columns} FROM latchkey_revocations WHERE seq > $2 AND expires_at > $1 ORDER BY seq`,
    ),
    deleteExpired: d.prepare('DELETE FROM latchkey_revocations WHERE expires_at <= $1'),
  };

  const insert = async (tx: SqlClient, record: NewRevocation): Promise<RevocationRow | undefined> => {
    const params = [record.kind, record.subject, record.issuedBefore, record.createdAt, record.expiresAt];
    const inserted = await run<RevocationRow>(tx, statements.insert, params);
    if (returning) return inserted.rows[0];
    return (await run<RevocationRow>(tx, statements.newest)).rows[0];
  };

  return {
    addRevocation: (record) =>
      guarded(() =>
        d.lockedTransaction(client, 'revocations', async (tx) => {
          const row = await insert(tx, record);
          if (row === undefined) throw new Error('The inserted revocation could not be read back');
          return toRevocation(row, d);
        }),
      ),

    listRevocations: (options) =>
      guarded(async () => {
        if (options.limit !== undefined && options.limit <= 0) return [];
        const afterSeq = options.afterSeq ?? 0;
        const { rows } =
          options.limit === undefined
            ? await run<RevocationRow>(client, statements.all, [options.now, afterSeq])
            : await run<RevocationRow>(client, statements.page, [options.now, afterSeq, options.limit]);
        return rows.map((row) => toRevocation(row, d));
      }),

    deleteExpiredRevocations: (now) =>
      guarded(async () => {
        const result = await run(client, statements.deleteExpired, [now]);
        return rowCountOf(result);
      }),
  };
}
