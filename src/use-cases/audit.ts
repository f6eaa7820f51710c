/**
 * The audit trail, read: a signed-in user's own history (`GET /v1/me/events`: "why was I
 * signed out?") and, for the admin API, everyone's. Pages are newest first; a page's cursor is
 * opaque to the caller (its last record's time and id, base64url).
 */

import { LatchkeyError } from '../errors.js';
import type { AuditCursor, AuditRecord } from '../records.js';
import type { AuditStore } from '../store.js';
import type { Principal } from './authenticate.js';
import type { UseCaseContext } from './context.js';

/** Records per page when the caller names no limit, and the most it may ask for. */
export const AUDIT_PAGE_DEFAULT = 50;
export const AUDIT_PAGE_MAX = 200;

/** One page of the audit trail and the cursor of the next (null on the last page). */
export interface AuditPage {
  events: AuditRecord[];
  next: string | null;
}

export interface AuditPageInput {
  limit?: number | undefined;
  /** The `next` of the previous page. */
  cursor?: string | undefined;
}

/** The opaque form of a cursor. */
export function encodeAuditCursor(cursor: AuditCursor): string {
  return Buffer.from(`${cursor.at}:${cursor.id}`, 'utf8').toString('base64url');
}

/** A cursor from its opaque form; `bad_request` for anything this server did not make. */
export function decodeAuditCursor(text: string): AuditCursor {
  const decoded = /^[A-Za-z0-9_-]{1,400}$/.test(text) ? Buffer.from(text, 'base64url').toString('utf8') : '';
  const match = /^(\d{1,16}):([A-Za-z0-9_-]{1,255})$/.exec(decoded);
  if (match === null) throw new LatchkeyError('bad_request', 'The cursor is not valid');
  return { at: Number(match[1]), id: match[2] ?? '' };
}

/**
 * A page of the audit trail, of one user or (without `userId`) of everyone: the use case of the
 * admin listing, shared by the CLI and the admin API.
 *
 * @example
 * const { events, next } = await listAuditEvents(store, { limit: 50 });
 */
export async function listAuditEvents(
  store: AuditStore,
  input: AuditPageInput & { userId?: string | undefined },
): Promise<AuditPage> {
  const limit = Math.min(Math.max(Math.trunc(input.limit ?? AUDIT_PAGE_DEFAULT), 1), AUDIT_PAGE_MAX);
  const before = input.cursor === undefined ? undefined : decodeAuditCursor(input.cursor);
  // One more than the page tells whether there is a next page.
  const records = await store.listAuditRecords({ limit: limit + 1, userId: input.userId, before });
  const events = records.slice(0, limit);
  const last = events[events.length - 1];
  return { events, next: records.length > limit && last !== undefined ? encodeAuditCursor(last) : null };
}

export interface AuditUseCases {
  /** The caller's own security events, newest first. */
  listOwnEvents(principal: Principal, input: AuditPageInput): Promise<AuditPage>;
}

/**
 * @example
 * const { listOwnEvents } = createAuditUseCases(context);
 * const page = await listOwnEvents(principal, { limit: 20 });
 */
export function createAuditUseCases(context: UseCaseContext): AuditUseCases {
  return {
    listOwnEvents: (principal, input) =>
      listAuditEvents(context.store, { ...input, userId: principal.user.id }),
  };
}
