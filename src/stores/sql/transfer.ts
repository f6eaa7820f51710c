/**
 * The transfer methods of the SQL store (`../../store-transfer.ts`), for every SQL engine:
 * sessions paged by id (a page is one indexed range read), the refresh tokens of a page of
 * sessions in one `IN (...)`, and a revocation written with its own `seq`.
 *
 * A written `seq` must also push the engine's generator past it. SQLite (`AUTOINCREMENT`) and
 * MySQL / MariaDB (`AUTO_INCREMENT`) do so on their own when a larger value is inserted;
 * Postgres (`GENERATED ALWAYS AS IDENTITY`) needs `OVERRIDING SYSTEM VALUE` to take it and a
 * `setval` after it. The write runs under the `revocations` lock that `addRevocation` holds, so
 * that the feed still commits in `seq` order.
 */

import type { RevocationRecord } from '../../records.js';
import type { ImportOutcome, StoreTransfer } from '../../store-transfer.js';
import type { SqlContext } from './context.js';
import { placeholderList, run } from './context.js';
import type { SqlStatement } from './dialect.js';
import type { RefreshTokenRow, RevocationRow, SessionRow } from './rows.js';
import { COLUMNS, toRefreshToken, toRevocation, toSession } from './rows.js';

/** Session ids per `exportRefreshTokens` call (engines cap the number of parameters). */
const MAX_SESSION_IDS = 500;

function sameRevocation(a: RevocationRecord, b: RevocationRecord): boolean {
  return (
    a.seq === b.seq &&
    a.kind === b.kind &&
    a.subject === b.subject &&
    a.issuedBefore === b.issuedBefore &&
    a.createdAt === b.createdAt &&
    a.expiresAt === b.expiresAt
  );
}

/**
 * The transfer methods over one SQL store's context.
 *
 * @example
 * return withStoreTransfer(store, createSqlTransfer(context));
 */
export function createSqlTransfer(context: SqlContext): StoreTransfer {
  const { client, dialect: d, guarded } = context;
  const postgres = d.name === 'postgres';
  const sessionColumns = COLUMNS.sessions.join(', ');
  const statements = {
    firstSessions: d.prepare(`SELECT ${sessionColumns} FROM latchkey_sessions ORDER BY id LIMIT $1`),
    nextSessions: d.prepare(
      `SELECT ${sessionColumns} FROM latchkey_sessions WHERE id > $1 ORDER BY id LIMIT $2`,
    ),
    revocation: d.prepare(
      `SELECT ${COLUMNS.revocations.join(', ')} FROM latchkey_revocations WHERE seq = $1`,
    ),
    insertRevocation: d.prepare(
      `INSERT INTO latchkey_revocations (seq, kind, subject, issued_before, created_at, expires_at)
       ${postgres ? 'OVERRIDING SYSTEM VALUE ' : ''}VALUES ($1, $2, $3, $4, $5, $6)`,
    ),
    // nextval first: the generator never goes back, even below a seq already handed out.
    advanceSeq: d.prepare(
      `SELECT setval(pg_get_serial_sequence('latchkey_revocations', 'seq'), GREATEST(
         nextval(pg_get_serial_sequence('latchkey_revocations', 'seq')),
         (SELECT max(seq) FROM latchkey_revocations)))`,
    ),
  };
  const tokensOf = new Map<number, SqlStatement>();
  const tokensStatement = (count: number): SqlStatement => {
    let statement = tokensOf.get(count);
    if (statement === undefined) {
      statement = d.prepare(
        `SELECT ${COLUMNS.refreshTokens.join(', ')} FROM latchkey_refresh_tokens
         WHERE session_id IN (${placeholderList(1, count)}) ORDER BY id`,
      );
      tokensOf.set(count, statement);
    }
    return statement;
  };

  return {
    exportSessions: ({ cursor, limit }) =>
      guarded(async () => {
        const { rows } =
          cursor === null
            ? await run<SessionRow>(client, statements.firstSessions, [limit])
            : await run<SessionRow>(client, statements.nextSessions, [cursor, limit]);
        const records = rows.map((row) => toSession(row, d));
        const last = records.at(-1);
        return { records, cursor: records.length < limit || last === undefined ? null : last.id };
      }),

    exportRefreshTokens: (sessionIds) =>
      guarded(async () => {
        if (sessionIds.length === 0) return [];
        if (sessionIds.length > MAX_SESSION_IDS) {
          throw new RangeError(`At most ${MAX_SESSION_IDS} session ids per call`);
        }
        const { rows } = await run<RefreshTokenRow>(client, tokensStatement(sessionIds.length), sessionIds);
        return rows.map((row) => toRefreshToken(row, d));
      }),

    importRevocation: (record) =>
      guarded(() =>
        d.lockedTransaction(client, 'revocations', async (tx): Promise<ImportOutcome> => {
          const { rows } = await run<RevocationRow>(tx, statements.revocation, [record.seq]);
          const found = rows[0];
          if (found !== undefined)
            return sameRevocation(toRevocation(found, d), record) ? 'present' : 'conflict';
          await run(tx, statements.insertRevocation, [
            record.seq,
            record.kind,
            record.subject,
            record.issuedBefore,
            record.createdAt,
            record.expiresAt,
          ]);
          if (postgres) await run(tx, statements.advanceSeq);
          return 'created';
        }),
      ),
  };
}
