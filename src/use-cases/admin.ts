/**
 * What an operator does to other people's accounts, from the CLI (`latchkey users`, `latchkey
 * sessions`) or the admin API (`/v1/admin/...`): both call these, so the two do the same things.
 * Enabling, disabling and roles are `account.ts`'s (`setUserStatus`, `setUserRoles`, by email
 * or by id); this module lists and shows users, lists and revokes their sessions, and records
 * each admin call with its actor (`admin.*` events: the audit trail keeps them).
 *
 * The user list is in email order; a page's cursor is the last email read (base64url, opaque
 * to the caller). A search by prefix starts its read at the prefix; a search by substring reads
 * at most {@link SEARCH_SCAN_MAX} users per page, so a page may hold fewer users than asked
 * while `next` is not null.
 */

import type { AdminAction } from '../audit/admin-events.js';
import { LatchkeyError } from '../errors.js';
import { normalizeEmail } from '../password/policy.js';
import type { SessionRecord, UserRecord } from '../records.js';
import { listAuditEvents, type AuditPage, type AuditPageInput } from './audit.js';
import type { UseCaseContext } from './context.js';

export const USER_PAGE_DEFAULT = 50;
export const USER_PAGE_MAX = 200;
/** Users read for one page of a substring search. */
export const SEARCH_SCAN_MAX = 2_000;
const READ_BATCH = 200;

/** Who called the admin API: a signed-in user with the `admin` role, or a machine client. */
export type AdminActor =
  | { kind: 'user'; userId: string; sessionId: string; ip?: string | undefined }
  | { kind: 'client'; clientId: string; ip?: string | undefined };

export type { AdminAction } from '../audit/admin-events.js';

/** A user, by email (the CLI) or by id (the admin API). */
export type UserRef = string | { id: string };

export interface UserPageInput {
  limit?: number | undefined;
  cursor?: string | undefined;
  /** Only emails that start with it (case-insensitive). */
  emailPrefix?: string | undefined;
  /** Only emails that contain it (case-insensitive). */
  emailContains?: string | undefined;
}

export interface UserPage {
  users: UserRecord[];
  next: string | null;
}

export interface UserOverview {
  user: UserRecord;
  /** Live sessions. */
  sessions: number;
  /** Confirmed TOTP factors and passkeys. */
  factors: { totp: number; passkeys: number };
}

export interface AdminUseCases {
  /** A page of users, in email order, optionally filtered by email. */
  adminListUsers(input: UserPageInput): Promise<UserPage>;
  /** One user with counts of their live sessions and factors; `not_found` when there is none. */
  adminDescribeUser(ref: UserRef): Promise<UserOverview>;
  /** A user's live sessions, newest first. */
  adminListSessions(ref: UserRef): Promise<{ user: UserRecord; sessions: SessionRecord[] }>;
  /**
   * Revokes every session of a user and every access token issued until now (a user
   * revocation). Returns the user and how many sessions.
   */
  adminRevokeSessions(ref: UserRef): Promise<{ user: UserRecord; revoked: number }>;
  /** Revokes one live session of the user; `not_found` when it is not theirs or not live. */
  adminRevokeSession(ref: UserRef, sessionId: string): Promise<void>;
  /** The audit trail of everyone, or of one user, newest first. */
  adminListEvents(input: AuditPageInput & { userId?: string | undefined }): Promise<AuditPage>;
  /** Records an admin call (`admin.<action>`) with its actor and its target. */
  recordAdminAction(actor: AdminActor, action: AdminAction, target?: string): void;
}

/** The user a reference names; `not_found` when there is none. */
export async function findUser(context: UseCaseContext, ref: UserRef): Promise<UserRecord> {
  const { store } = context;
  let user: UserRecord | null = null;
  if (typeof ref === 'string') {
    const normalized = normalizeEmail(ref);
    user = normalized === null ? null : await store.getUserByEmail(normalized);
  } else if (/^[A-Za-z0-9_-]{1,64}$/.test(ref.id)) {
    user = await store.getUserById(ref.id);
  }
  if (user === null) throw new LatchkeyError('not_found', 'No such user');
  return user;
}

function normalizeSearch(text: string): string {
  return text.trim().normalize('NFKC').toLowerCase();
}

function encodeCursor(email: string): string {
  return Buffer.from(email, 'utf8').toString('base64url');
}

function decodeCursor(text: string): string {
  const decoded = /^[A-Za-z0-9_-]{1,400}$/.test(text) ? Buffer.from(text, 'base64url').toString('utf8') : '';
  if (decoded === '' || decoded.includes('\u0000'))
    throw new LatchkeyError('bad_request', 'The cursor is not valid');
  return decoded;
}

/** A string just below every string that starts with `prefix` (the store lists after it). */
function justBefore(prefix: string): string | undefined {
  const chars = Array.from(prefix);
  const last = chars.pop()?.codePointAt(0);
  if (last === undefined || last === 0) return undefined;
  // Never a lone surrogate: below U+E000 comes U+D7FF.
  const below = last === 0xe000 ? 0xd7ff : last - 1;
  return chars.join('') + String.fromCodePoint(below) + '\u{10FFFF}';
}

/**
 * @example
 * const { adminListUsers } = createAdminUseCases(context);
 * const { users, next } = await adminListUsers({ limit: 20, emailPrefix: 'ada' });
 */
export function createAdminUseCases(context: UseCaseContext): AdminUseCases {
  const { store, clock, logger, sessions, revocations } = context;

  async function listUsers(input: UserPageInput): Promise<UserPage> {
    const limit = Math.min(Math.max(Math.trunc(input.limit ?? USER_PAGE_DEFAULT), 1), USER_PAGE_MAX);
    const prefix = normalizeSearch(input.emailPrefix ?? '');
    const contains = normalizeSearch(input.emailContains ?? '');
    let after = input.cursor === undefined ? undefined : decodeCursor(input.cursor);
    if (prefix !== '' && (after === undefined || after < prefix)) after = justBefore(prefix);
    const filtered = contains !== '' || prefix !== '';
    const users: UserRecord[] = [];
    let scanned = 0;
    for (;;) {
      const batchSize = filtered ? READ_BATCH : limit - users.length + 1;
      const batch = await store.listUsers({ limit: batchSize, ...(after === undefined ? {} : { after }) });
      for (const user of batch) {
        // The stores list in code-point order from just below the prefix: the emails that start
        // with it come first, so the first that does not ends the search.
        if (prefix !== '' && !user.email.startsWith(prefix)) return { users, next: null };
        if (contains === '' || user.email.includes(contains)) {
          if (users.length === limit) return { users, next: encodeCursor(after ?? '') };
          users.push(user);
        }
        after = user.email;
      }
      scanned += batch.length;
      if (batch.length < batchSize) return { users, next: null };
      if (!filtered && users.length === limit) return { users, next: encodeCursor(after ?? '') };
      if (scanned >= SEARCH_SCAN_MAX)
        return { users, next: after === undefined ? null : encodeCursor(after) };
    }
  }

  return {
    adminListUsers: listUsers,

    async adminDescribeUser(ref) {
      const user = await findUser(context, ref);
      const [live, factors, passkeys] = await Promise.all([
        store.listUserSessions(user.id, clock()),
        store.listFactors(user.id),
        store.listPasskeys(user.id),
      ]);
      const totp = factors.filter((factor) => factor.kind === 'totp' && factor.confirmedAt !== null).length;
      return { user, sessions: live.length, factors: { totp, passkeys: passkeys.length } };
    },

    async adminListSessions(ref) {
      const user = await findUser(context, ref);
      return { user, sessions: await store.listUserSessions(user.id, clock()) };
    },

    async adminRevokeSessions(ref) {
      const user = await findUser(context, ref);
      const revoked = await context.revokeUserSessions(user.id);
      await revocations.userRevoked(user.id);
      logger.info(
        { event: 'session.revoke_all', userId: user.id, count: revoked, by: 'admin' },
        'sessions revoked',
      );
      return { user, revoked };
    },

    async adminRevokeSession(ref, sessionId) {
      const user = await findUser(context, ref);
      const session = /^[A-Za-z0-9_-]{1,64}$/.test(sessionId) ? await store.getSession(sessionId) : null;
      if (session === null || session.userId !== user.id || !sessions.isLive(session)) {
        throw new LatchkeyError('not_found', 'No such session');
      }
      await context.revokeSession(sessionId);
      logger.info({ event: 'session.revoke', userId: user.id, sessionId, by: 'admin' }, 'session revoked');
    },

    adminListEvents: (input) => listAuditEvents(store, input),

    recordAdminAction(actor, action, target) {
      const who =
        actor.kind === 'user'
          ? { userId: actor.userId, sessionId: actor.sessionId, actor: `user:${actor.userId}` }
          : { clientId: actor.clientId, actor: `client:${actor.clientId}` };
      logger.info(
        { event: `admin.${action}`, ...who, ...(target === undefined ? {} : { target }), ip: actor.ip },
        'admin call',
      );
    },
  };
}
