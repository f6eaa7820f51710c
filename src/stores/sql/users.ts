/**
 * Users in SQL (`latchkey_users`). The email is unique: `createUser` inserts unless a row with
 * the email exists, in one statement, which is what makes it atomic on email.
 */

import { LatchkeyError } from '../../errors.js';
import type { UserPatch } from '../../records.js';
import type { UserStore } from '../../store.js';
import type { SqlContext } from './context.js';
import { rowCountOf, run } from './context.js';
import type { UserRow } from './rows.js';
import { COLUMNS, toUser } from './rows.js';

/**
 * The user methods of the SQL store.
 *
 * @example
 * const users = createUserStore(createSqlContext(client, postgresDialect));
 */
export function createUserStore(context: SqlContext): UserStore {
  const { client, dialect: d, guarded } = context;
  const columns = COLUMNS.users.join(', ');
  const statements = {
    // A duplicate email inserts nothing (rowCount 0); a duplicate id still fails as a unique
    // violation, which `guarded` reports as internal_error.
    insert: d.prepare(
      d.insert({ table: 'latchkey_users', columns: COLUMNS.users, onConflict: { columns: ['email'] } }),
    ),
    byId: d.prepare(`SELECT ${columns} FROM latchkey_users WHERE id = $1`),
    byEmail: d.prepare(`SELECT ${columns} FROM latchkey_users WHERE email = $1`),
    update: d.prepare(
      `UPDATE latchkey_users SET
         password_hash = COALESCE(${d.cast('$2', 'text')}, password_hash),
         status = COALESCE(${d.cast('$3', 'text')}, status),
         roles = COALESCE(${d.cast('$4', 'strings')}, roles),
         updated_at = $5,
         email = COALESCE(${d.cast('$8', 'text')}, email),
         email_verified_at = CASE WHEN ${d.cast('$6', 'bigint')} = 1 THEN ${d.cast('$7', 'bigint')} ELSE email_verified_at END
       WHERE id = $1`,
    ),
    firstPage: d.prepare(`SELECT ${columns} FROM latchkey_users ORDER BY email LIMIT $1`),
    nextPage: d.prepare(`SELECT ${columns} FROM latchkey_users WHERE email > $2 ORDER BY email LIMIT $1`),
  };

  return {
    createUser: (user) =>
      guarded(async () => {
        const result = await run(client, statements.insert, [
          user.id,
          user.email,
          user.passwordHash,
          user.status,
          d.writeStrings(user.roles),
          user.createdAt,
          user.updatedAt,
          user.emailVerifiedAt,
        ]);
        if (rowCountOf(result) === 0) throw new LatchkeyError('email_taken');
      }),

    getUserById: (id) =>
      guarded(async () => {
        const { rows } = await run<UserRow>(client, statements.byId, [id]);
        const row = rows[0];
        return row === undefined ? null : toUser(row, d);
      }),

    getUserByEmail: (email) =>
      guarded(async () => {
        const { rows } = await run<UserRow>(client, statements.byEmail, [email]);
        const row = rows[0];
        return row === undefined ? null : toUser(row, d);
      }),

    updateUser: (id: string, patch: UserPatch) =>
      guarded(async () => {
        const result = await run(client, statements.update, [
          id,
          patch.passwordHash ?? null,
          patch.status ?? null,
          patch.roles === undefined ? null : d.writeStrings(patch.roles),
          patch.updatedAt,
          patch.emailVerifiedAt === undefined ? 0 : 1,
          patch.emailVerifiedAt ?? null,
          patch.email ?? null,
        ]).catch((error: unknown) => {
          // Only the email can collide on an update: another user has it.
          if (patch.email !== undefined && d.isUniqueViolation(error)) throw new LatchkeyError('email_taken');
          throw error;
        });
        return rowCountOf(result) > 0;
      }),

    listUsers: (options) =>
      guarded(async () => {
        if (options.limit <= 0) return [];
        const { rows } =
          options.after === undefined
            ? await run<UserRow>(client, statements.firstPage, [options.limit])
            : await run<UserRow>(client, statements.nextPage, [options.limit, options.after]);
        return rows.map((row) => toUser(row, d));
      }),
  };
}
