/**
 * Refresh tokens in SQL (`latchkey_refresh_tokens`). Rotation is a compare-and-set on
 * `rotated_at IS NULL` plus the successor's insert, in one transaction.
 */

import type { RefreshTokenRecord } from '../../records.js';
import type { RefreshTokenStore } from '../../store.js';
import type { SqlParam } from './client.js';
import type { SqlContext } from './context.js';
import { rowCountOf, run } from './context.js';
import type { RefreshTokenRow } from './rows.js';
import { COLUMNS, toRefreshToken } from './rows.js';

function insertParams(token: RefreshTokenRecord): SqlParam[] {
  return [
    token.id,
    token.sessionId,
    token.secretHash,
    token.createdAt,
    token.expiresAt,
    token.rotatedAt,
    token.successorId,
  ];
}

/**
 * The refresh-token methods of the SQL store.
 *
 * @example
 * const tokens = createRefreshTokenStore(createSqlContext(client, postgresDialect));
 */
export function createRefreshTokenStore(context: SqlContext): RefreshTokenStore {
  const { client, dialect: d, guarded } = context;
  const statements = {
    insert: d.prepare(d.insert({ table: 'latchkey_refresh_tokens', columns: COLUMNS.refreshTokens })),
    byId: d.prepare(`SELECT ${COLUMNS.refreshTokens.join(', ')} FROM latchkey_refresh_tokens WHERE id = $1`),
    markRotated: d.prepare(
      `UPDATE latchkey_refresh_tokens SET rotated_at = $2, successor_id = $3
       WHERE id = $1 AND rotated_at IS NULL`,
    ),
  };

  return {
    createRefreshToken: (token) =>
      guarded(async () => {
        await run(client, statements.insert, insertParams(token));
      }),

    getRefreshToken: (id) =>
      guarded(async () => {
        const { rows } = await run<RefreshTokenRow>(client, statements.byId, [id]);
        const row = rows[0];
        return row === undefined ? null : toRefreshToken(row, d);
      }),

    rotateRefreshToken: (oldId, successor, at) =>
      guarded(() =>
        client.transaction(async (tx) => {
          // Concurrent callers queue on the row lock (or, where transactions serialise writers,
          // on the write lock); after the winner commits, the others
          // re-check `rotated_at IS NULL`, match nothing (rowCount 0) and store nothing.
          const marked = await run(tx, statements.markRotated, [oldId, at, successor.id]);
          if (rowCountOf(marked) === 0) return false;
          await run(tx, statements.insert, insertParams(successor));
          return true;
        }),
      ),
  };
}
