/**
 * The JSON documents of the API: how records are shown to a client (snake_case members, ISO
 * 8601 times, never a hash or a secret). The core returns records; only this module shapes them.
 */

import type { AuditRecord, SessionMode, SessionRecord, UserRecord } from '../records.js';

export interface PublicUser {
  id: string;
  email: string;
  status: string;
  roles: string[];
  email_verified: boolean;
  created_at: string;
}

export interface PublicSession {
  id: string;
  mode: SessionMode;
  user_agent: string | null;
  ip: string | null;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  current: boolean;
}

/** The short form of a session in login, refresh and `/v1/me` answers. */
export interface SessionSummary {
  id: string;
  mode: SessionMode;
  expires_at: string;
  /** How the user authenticated (RFC 8176), as the access tokens say it. */
  amr: readonly string[];
  /** When the user authenticated, in seconds since the epoch (the tokens' `auth_time`). */
  auth_time: number;
  /** The assurance level: `1` or `mfa`. */
  acr: string;
}

/** Recent `iso` answers: a user's `created_at` and a session's expiry repeat on every request. */
const isoMemo = new Map<number, string>();
const ISO_MEMO_ENTRIES = 4096;

/**
 * The ISO 8601 form of a time in ms. `toISOString` costs about a microsecond, a large part of a
 * `GET /v1/me` served from the near cache, and the same few instants are formatted again and
 * again: they are remembered (a bounded memo, emptied when full; a string per number, so it
 * can never answer wrong).
 */
function iso(ms: number): string {
  let text = isoMemo.get(ms);
  if (text === undefined) {
    text = new Date(ms).toISOString();
    if (isoMemo.size >= ISO_MEMO_ENTRIES) isoMemo.clear();
    isoMemo.set(ms, text);
  }
  return text;
}

/** When a session ends if nothing slides it: the earlier of its idle and absolute expiries. */
const endOf = (session: SessionRecord): string =>
  iso(Math.min(session.idleExpiresAt, session.absoluteExpiresAt));

/** @example publicUser(user); // { id, email, status, roles, created_at } */
export function publicUser(user: UserRecord): PublicUser {
  return {
    id: user.id,
    email: user.email,
    status: user.status,
    roles: user.roles,
    email_verified: user.emailVerifiedAt !== null,
    created_at: iso(user.createdAt),
  };
}

/** @example sessionSummary(session); // { id, mode, expires_at, amr, auth_time, acr } */
export function sessionSummary(session: SessionRecord): SessionSummary {
  return {
    id: session.id,
    mode: session.mode,
    expires_at: endOf(session),
    amr: session.amr,
    auth_time: Math.floor(session.authTime / 1000),
    acr: session.acr,
  };
}

/** The `GET /v1/me` document: the caller and their session. */
export function meDocument(
  user: UserRecord,
  session: SessionRecord,
): { user: PublicUser; session: SessionSummary } {
  return { user: publicUser(user), session: sessionSummary(session) };
}

/** The JSON of {@link meDocument}, per shared session record, with the user it was made for. */
const sharedMeJSON = new WeakMap<SessionRecord, { user: UserRecord; json: string }>();

/**
 * {@link meDocument} serialized, for records the near session cache hands out: those are shared
 * and never mutated (`SessionCache`), so the JSON made for a session record and its user is kept
 * as long as the record lives (a `WeakMap`: it goes with the cache entry) and a repeated request
 * costs a lookup instead of building and serializing the document (about 1.5 µs). A record read
 * again, slid or replaced is a new object, hence a new document. Never for records a caller may
 * still change.
 */
export function meJSONOfShared(user: UserRecord, session: SessionRecord): string {
  const kept = sharedMeJSON.get(session);
  if (kept?.user === user) return kept.json;
  const json = JSON.stringify(meDocument(user, session));
  sharedMeJSON.set(session, { user, json });
  return json;
}

/** A row of `GET /v1/sessions`; `currentId` is the caller's own session. */
export function publicSession(session: SessionRecord, currentId: string): PublicSession {
  return {
    id: session.id,
    mode: session.mode,
    user_agent: session.userAgent,
    ip: session.ip,
    created_at: iso(session.createdAt),
    last_seen_at: iso(session.lastSeenAt),
    expires_at: endOf(session),
    current: session.id === currentId,
  };
}

/** The OAuth 2.0 token response of a token-mode login or refresh (RFC 6749 §5.1). */
export function tokenResponse(result: {
  accessToken: { token: string; expiresIn: number };
  refreshToken: string;
}): { access_token: string; token_type: 'Bearer'; expires_in: number; refresh_token: string } {
  return {
    access_token: result.accessToken.token,
    token_type: 'Bearer',
    expires_in: result.accessToken.expiresIn,
    refresh_token: result.refreshToken,
  };
}

/** One security event of the caller's history (`GET /v1/me/events`). */
export interface PublicAuditEvent {
  id: string;
  event: string;
  at: string;
  session_id: string | null;
  client_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, string | number | boolean>;
}

/** An audit record as the API shows it. */
export function publicAuditEvent(record: AuditRecord): PublicAuditEvent {
  return {
    id: record.id,
    event: record.event,
    at: iso(record.at),
    session_id: record.sessionId,
    client_id: record.clientId,
    ip: record.ip,
    user_agent: record.userAgent,
    details: record.details,
  };
}
