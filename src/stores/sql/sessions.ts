/**
 * Sessions in SQL (`latchkey_sessions`). The atomic steps are single conditional statements
 * (`UPDATE ... WHERE revoked_at IS NULL`), or, where a dialect lacks the one-statement form,
 * short transactions that lock the rows first; they hold under READ COMMITTED with many
 * processes.
 */

import type { SessionStore, SessionWithUser } from '../../store.js';
import type { SqlClient } from './client.js';
import type { SqlContext } from './context.js';
import { placeholderList, rowCountOf, run } from './context.js';
import type { SessionRow, UserRow } from './rows.js';
import { COLUMNS, toSession, toUser } from './rows.js';

/** The user's columns of the session-and-user join (all null when the user is gone). */
type PrefixedUserRow = Omit<{ [K in keyof UserRow as `u_${K}`]: UserRow[K] }, 'u_id'> & {
  u_id: string | null;
};

/** Ids per `UPDATE ... WHERE id IN (...)` of the portable bulk revocation (engines cap parameters). */
const REVOKE_CHUNK = 500;

type RevokeAll = (userId: string, at: number, except: string | undefined) => Promise<string[]>;

/**
 * One statement that revokes the user's live sessions and returns their ids. The subquery
 * locks the rows in id order, so that two bulk revocations (or a bulk revocation and the sweep)
 * cannot deadlock on the same user's sessions.
 */
function revokeAllReturning({ client, dialect: d }: SqlContext): RevokeAll {
  const statement = (except: boolean): string =>
    `UPDATE latchkey_sessions SET revoked_at = $2
     WHERE revoked_at IS NULL AND id IN (
       SELECT id FROM latchkey_sessions
       WHERE user_id = $1 AND revoked_at IS NULL${except ? ' AND id <> $3' : ''}
       ORDER BY id${d.forUpdate}
     )
     RETURNING id`;
  const all = d.prepare(statement(false));
  const allBut = d.prepare(statement(true));
  return async (userId, at, except) => {
    const { rows } =
      except === undefined
        ? await run<{ id: string }>(client, all, [userId, at])
        : await run<{ id: string }>(client, allBut, [userId, at, except]);
    return rows.map((row) => row.id);
  };
}

/**
 * The portable form: the live sessions are selected and locked in id order (same deadlock
 * rule), then revoked by id, in one transaction. A row locked by this transaction cannot be
 * revoked by another before it commits, so every selected id is one this call revoked.
 */
function revokeAllPortable({ client, dialect: d }: SqlContext): RevokeAll {
  const statement = (except: boolean): string =>
    `SELECT id FROM latchkey_sessions
     WHERE user_id = $1 AND revoked_at IS NULL${except ? ' AND id <> $2' : ''}
     ORDER BY id${d.forUpdate}`;
  const all = d.prepare(statement(false));
  const allBut = d.prepare(statement(true));
  const revoke = async (tx: SqlClient, ids: readonly string[], at: number): Promise<void> => {
    const update = d.prepare(
      `UPDATE latchkey_sessions SET revoked_at = $1
       WHERE revoked_at IS NULL AND id IN (${placeholderList(2, ids.length)})`,
    );
    await run(tx, update, [at, ...ids]);
  };
  return (userId, at, except) =>
    client.transaction(async (tx) => {
      const { rows } =
        except === undefined
          ? await run<{ id: string }>(tx, all, [userId])
          : await run<{ id: string }>(tx, allBut, [userId, except]);
      const ids = rows.map((row) => row.id);
      for (let start = 0; start < ids.length; start += REVOKE_CHUNK) {
        await revoke(tx, ids.slice(start, start + REVOKE_CHUNK), at);
      }
      return ids;
    });
}

/**
 * One statement that sweeps the sessions and their refresh tokens, locking the sessions in id
 * order (see {@link revokeAllReturning}).
 */
function sweepInOneStatement({ client, dialect: d }: SqlContext): (now: number) => Promise<number> {
  const statement = d.prepare(
    `WITH gone AS (
       DELETE FROM latchkey_sessions WHERE id IN (
         SELECT id FROM latchkey_sessions
         WHERE ${d.earliest(['idle_expires_at', 'absolute_expires_at', 'revoked_at'])} <= $1
         ORDER BY id${d.forUpdate}
       )
       RETURNING id
     ), tokens AS (
       DELETE FROM latchkey_refresh_tokens WHERE session_id IN (SELECT id FROM gone)
     )
     SELECT count(*) AS removed FROM gone`,
  );
  return async (now) => {
    const { rows } = await run<{ removed: number | string }>(client, statement, [now]);
    return d.readInteger(rows[0]?.removed ?? 0);
  };
}

/**
 * The portable sweep, in one transaction: the refresh tokens of the expired sessions, then the
 * expired sessions that have no refresh token left. A session that expires between the two
 * statements keeps its tokens and itself until the next sweep, so no token is ever orphaned.
 */
function sweepPortable({ client, dialect: d }: SqlContext): (now: number) => Promise<number> {
  const expired = `${d.earliest(['idle_expires_at', 'absolute_expires_at', 'revoked_at'])} <= $1`;
  const tokens = d.prepare(
    `DELETE FROM latchkey_refresh_tokens
     WHERE session_id IN (SELECT id FROM latchkey_sessions WHERE ${expired})`,
  );
  const sessions = d.prepare(
    `DELETE FROM latchkey_sessions WHERE ${expired} AND NOT EXISTS (
       SELECT 1 FROM latchkey_refresh_tokens WHERE latchkey_refresh_tokens.session_id = latchkey_sessions.id
     )`,
  );
  return (now) =>
    client.transaction(async (tx) => {
      await run(tx, tokens, [now]);
      return rowCountOf(await run(tx, sessions, [now]));
    });
}

/**
 * The session methods of the SQL store.
 *
 * @example
 * const sessions = createSessionStore(createSqlContext(client, postgresDialect));
 */
export function createSessionStore(
  context: SqlContext,
): SessionStore & { getSessionWithUser(id: string): Promise<SessionWithUser | null> } {
  const { client, dialect: d, guarded } = context;
  const columns = COLUMNS.sessions.join(', ');
  // The user's columns come back as `u_<name>` next to the session's.
  const userColumns = COLUMNS.users.map((name) => `u.${name} AS u_${name}`).join(', ');
  const statements = {
    insert: d.prepare(d.insert({ table: 'latchkey_sessions', columns: COLUMNS.sessions })),
    byId: d.prepare(`SELECT ${columns} FROM latchkey_sessions WHERE id = $1`),
    withUser: d.prepare(
      `SELECT ${COLUMNS.sessions.map((name) => `s.${name}`).join(', ')}, ${userColumns}
       FROM latchkey_sessions s LEFT JOIN latchkey_users u ON u.id = s.user_id
       WHERE s.id = $1`,
    ),
    touch: d.prepare(
      `UPDATE latchkey_sessions SET last_seen_at = $2, idle_expires_at = $3
       WHERE id = $1 AND revoked_at IS NULL`,
    ),
    revoke: d.prepare('UPDATE latchkey_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL'),
    liveOfUser: d.prepare(
      `SELECT ${columns} FROM latchkey_sessions
       WHERE user_id = $1 AND revoked_at IS NULL AND idle_expires_at > $2 AND absolute_expires_at > $2
       ORDER BY created_at DESC, id DESC`,
    ),
  };
  const revokeAll = d.supports.updateReturning ? revokeAllReturning(context) : revokeAllPortable(context);
  const sweep = d.supports.writableCte ? sweepInOneStatement(context) : sweepPortable(context);

  return {
    createSession: (session) =>
      guarded(async () => {
        await run(client, statements.insert, [
          session.id,
          session.userId,
          session.secretHash,
          session.mode,
          session.createdAt,
          session.lastSeenAt,
          session.idleExpiresAt,
          session.absoluteExpiresAt,
          session.userAgent,
          session.ip,
          session.revokedAt,
          d.writeBoolean(session.persistent),
          session.amr.join(' '),
          session.authTime,
          session.acr,
        ]);
      }),

    getSession: (id) =>
      guarded(async () => {
        const { rows } = await run<SessionRow>(client, statements.byId, [id]);
        const row = rows[0];
        return row === undefined ? null : toSession(row, d);
      }),

    getSessionWithUser: (id) =>
      guarded(async () => {
        const { rows } = await run<SessionRow & PrefixedUserRow>(client, statements.withUser, [id]);
        const row = rows[0];
        if (row === undefined) return null;
        const user: UserRow | null =
          row.u_id === null
            ? null
            : {
                id: row.u_id,
                email: row.u_email,
                password_hash: row.u_password_hash,
                status: row.u_status,
                roles: row.u_roles,
                created_at: row.u_created_at,
                updated_at: row.u_updated_at,
                email_verified_at: row.u_email_verified_at,
              };
        return { session: toSession(row, d), user: user === null ? null : toUser(user, d) };
      }),

    touchSession: (id, update) =>
      guarded(async () => {
        await run(client, statements.touch, [id, update.lastSeenAt, update.idleExpiresAt]);
      }),

    // One conditional statement: of concurrent calls, only the one whose update matched sees 1.
    revokeSession: (id, at) =>
      guarded(async () => rowCountOf(await run(client, statements.revoke, [id, at])) > 0),

    revokeUserSessions: (userId, at, options) => guarded(() => revokeAll(userId, at, options?.except)),

    listUserSessions: (userId, now) =>
      guarded(async () => {
        const { rows } = await run<SessionRow>(client, statements.liveOfUser, [userId, now]);
        return rows.map((row) => toSession(row, d));
      }),

    deleteExpiredSessions: (now) => guarded(() => sweep(now)),
  };
}
