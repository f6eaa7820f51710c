/**
 * Sessions in Redis: `P:{s:<sid>}:session` (one string, see below), the user's index
 * `P:{u:<uid>}:sessions` (session ids scored by `createdAt`, no TTL) and the sweep index,
 * session ids scored by when they may next be due, spread over the buckets
 * `P:{sweep:<n>}:sessions` (`./keys.ts` `sweepBucket`: small sorted sets, stored compactly, on
 * every slot of a Cluster). The one sorted set `P:{sweep}:sessions` of earlier versions is
 * still swept (and read by `latchkey copy`) until it is empty; nothing is added to it.
 *
 * A session is `<lastSeenAt>,<idleExpiresAt>,<revokedAt>[,<tokens>]|<json>`: the header holds
 * the fields that change, so that scripts rewrite it without re-encoding JSON (Lua prints numbers
 * with 14 significant digits); `revokedAt` is empty while null; `<tokens>` are the session's
 * refresh tokens folded into it (`./refresh-tokens.ts`). The JSON is the array
 * `[userId, secretHash, mode, createdAt, absoluteExpiresAt, userAgent, ip, persistent, amr, authTime, acr]`
 * (`mode` as its initial, or spelled out by earlier versions; `amr` space-separated; `userAgent`
 * the string, null, or `["<ref>"]` naming the shared key `P:{ua:<ref>}` that holds it,
 * `./user-agents.ts`). Its shortest form is written: the first seven fields when the session is
 * not persistent and its assurance is a password login at its creation, the first eight when
 * only the assurance is (sessions of earlier versions have these forms too, and read the same
 * way). One string rather than a hash because a session exceeds the 64 bytes under which Redis
 * keeps a hash compact, and an array because field names would be a fifth of its size.
 *
 * Liveness is `isSessionLive` from `src/records.ts`; the scripts keep its Lua form
 * (`./session-scripts.ts`).
 */

import { isSessionLive, type SessionMode, type SessionRecord } from '../../records.js';
import { compareCodePoints } from '../ordering.js';
import type { SessionStore } from '../../store.js';
import { legacyAssurance, type Assurance } from '../../token/assurance.js';
import { malformed, numberOrNull, oneOf, replyArray, replyNumber, requiredNumber } from './codec.js';
import { duplicate, gcTTL, mapInChunks, sweepDue, type RedisContext } from './context.js';
import { sweepBucket, SWEEP_BUCKETS } from './keys.js';
import { readUserAgents, storeUserAgent } from './user-agents.js';
import { revokeSession as revokeSessionScript, sweepSession, touchSession } from './session-scripts.js';

/**
 * A user-index entry whose session is missing is dropped by readers only when its `createdAt`
 * is older than this before `now`, so that an entry written just before its session (by a
 * createSession in progress) is never dropped.
 */
const STALE_INDEX_ENTRY_MS = 60 * 60 * 1_000;

const SESSION_MODES: readonly SessionMode[] = ['cookie', 'token', 'hybrid'];

/** A mode as stored: its initial (sessions written before this spell it out). */
const MODE_CODES: Record<string, SessionMode> = { c: 'cookie', t: 'token', h: 'hybrid' };

/** Whether a session's assurance is what the short forms mean: a password login at its creation. */
function isLegacyAssurance(session: SessionRecord): boolean {
  const legacy = legacyAssurance(session.createdAt);
  return (
    session.amr.length === 1 &&
    session.amr[0] === legacy.amr[0] &&
    session.authTime === legacy.authTime &&
    session.acr === legacy.acr
  );
}

/**
 * The session's value, its JSON in the shortest form that reads back the same record: seven
 * fields when it is not persistent and its assurance is a password login at its creation, eight
 * when only the assurance is, else eleven.
 */
function encodeSession(session: SessionRecord, userAgent: string | [string] | null): string {
  const fields: unknown[] = [
    session.userId,
    session.secretHash,
    session.mode.charAt(0),
    session.createdAt,
    session.absoluteExpiresAt,
    userAgent,
    session.ip,
  ];
  const legacy = isLegacyAssurance(session);
  if (session.persistent || !legacy) fields.push(session.persistent ? 1 : 0);
  if (!legacy) fields.push(session.amr.join(' '), session.authTime, session.acr);
  return `${session.lastSeenAt},${session.idleExpiresAt},${session.revokedAt ?? ''}|${JSON.stringify(fields)}`;
}

/** A session as stored, before its user agent is looked up when it names it by reference. */
export interface ParsedSession {
  /** The record; its `userAgent` is null while `userAgentRef` is set. */
  session: SessionRecord;
  userAgentRef: string | null;
}

/**
 * The header's fields `<lastSeenAt>,<idleExpiresAt>,<revokedAt>[,<tokens>]` (the part of `raw`
 * before `bar`), as `split(',')` would give the first three; more than four is malformed.
 */
function headerFields(raw: string, bar: number): [string, string | undefined, string | undefined] {
  const first = raw.indexOf(',');
  if (first < 0 || first > bar) return [raw.slice(0, bar), undefined, undefined];
  const second = raw.indexOf(',', first + 1);
  if (second < 0 || second > bar) return [raw.slice(0, first), raw.slice(first + 1, bar), undefined];
  const third = raw.indexOf(',', second + 1);
  const revokedEnd = third < 0 || third > bar ? bar : third;
  // A fourth field holds the refresh tokens folded into the session (`./refresh-tokens.ts`).
  if (revokedEnd === third) {
    const fourth = raw.indexOf(',', third + 1);
    if (fourth >= 0 && fourth < bar) throw malformed('session');
  }
  return [raw.slice(0, first), raw.slice(first + 1, second), raw.slice(second + 1, revokedEnd)];
}

/**
 * A session from its stored value (see above). Reads the JSON array by index and fills the
 * record in one literal: this runs on every uncached session read.
 */
export function parseSession(id: string, raw: string): ParsedSession {
  const what = 'session';
  const bar = raw.indexOf('|');
  if (bar < 0) throw malformed(what);
  const [lastSeenAt, idleExpiresAt, revokedAt] = headerFields(raw, bar);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.slice(bar + 1));
  } catch {
    throw malformed(what);
  }
  // Older sessions have seven fields (before `persistent`) or eight (before the assurance).
  if (!Array.isArray(parsed)) throw malformed(what);
  const fields = parsed as unknown[];
  const count = fields.length;
  if (count !== 7 && count !== 8 && count !== 11) throw malformed(what);
  const userId = fields[0];
  const secretHash = fields[1];
  const mode = fields[2];
  const createdAt = fields[3];
  const absoluteExpiresAt = fields[4];
  const userAgent = fields[5];
  const ip = fields[6];
  const persistent = count === 7 ? 0 : fields[7];
  if (persistent !== 0 && persistent !== 1) throw malformed(what);
  const assurance = decodeAssurance(fields, createdAt);
  // The user-agent slot: a string, null, or `[ref]` (`./user-agents.ts`).
  let inlineAgent: string | null = null;
  let agentRef: string | null = null;
  if (userAgent === null || typeof userAgent === 'string') inlineAgent = userAgent;
  else if (Array.isArray(userAgent) && userAgent.length === 1 && typeof userAgent[0] === 'string') {
    agentRef = userAgent[0];
  } else throw malformed(what);
  if (
    typeof userId !== 'string' ||
    typeof secretHash !== 'string' ||
    typeof mode !== 'string' ||
    typeof createdAt !== 'number' ||
    typeof absoluteExpiresAt !== 'number' ||
    (ip !== null && typeof ip !== 'string')
  ) {
    throw malformed(what);
  }
  const session: SessionRecord = {
    id,
    userId,
    secretHash,
    mode: oneOf(MODE_CODES[mode] ?? mode, SESSION_MODES, what),
    createdAt,
    lastSeenAt: requiredNumber(lastSeenAt, what),
    idleExpiresAt: requiredNumber(idleExpiresAt, what),
    absoluteExpiresAt,
    userAgent: inlineAgent,
    ip,
    revokedAt: numberOrNull(revokedAt ?? '', what),
    persistent: persistent === 1,
    amr: assurance.amr,
    authTime: assurance.authTime,
    acr: assurance.acr,
  };
  return { session, userAgentRef: agentRef };
}

/**
 * Decodes stored sessions (`raw` null: missing, skipped) and looks up the user agents they name
 * by reference, from the process's map or with one GET each (`./user-agents.ts`).
 */
export async function decodeSessions(
  context: RedisContext,
  entries: readonly { id: string; raw: string | null }[],
): Promise<SessionRecord[]> {
  const parsed: ParsedSession[] = [];
  for (const { id, raw } of entries) if (raw !== null) parsed.push(parseSession(id, raw));
  const refs = parsed.flatMap(({ userAgentRef }) => (userAgentRef === null ? [] : [userAgentRef]));
  const agents = refs.length === 0 ? null : await readUserAgents(context, refs);
  return parsed.map(({ session, userAgentRef }) =>
    userAgentRef === null ? session : { ...session, userAgent: agents?.get(userAgentRef) ?? null },
  );
}

/** The assurance fields of a session's JSON, or those of a password login at `createdAt` before them. */
function decodeAssurance(fields: unknown[], createdAt: unknown): Assurance {
  if (fields.length < 11) return legacyAssurance(typeof createdAt === 'number' ? createdAt : 0);
  const [amr, authTime, acr] = fields.slice(8);
  if (typeof amr !== 'string' || typeof authTime !== 'number' || typeof acr !== 'string') {
    throw malformed('session');
  }
  return { amr: amr.split(' ').filter((method) => method.length > 0), authTime, acr };
}

/** When the sweep may remove the session: the earliest of its expiries and its revocation. */
function sessionDueAt(session: SessionRecord): number {
  return Math.min(session.idleExpiresAt, session.absoluteExpiresAt, session.revokedAt ?? Infinity);
}

type SweepOutcome =
  | { kind: 'missing' }
  | { kind: 'deleted'; userId: string; refreshTokenIds: string[] }
  | { kind: 'live'; dueAt: number };

function parseSweepReply(reply: unknown): SweepOutcome {
  const what = 'sweep reply';
  const [code, first, second] = replyArray(reply, what);
  if (code === 0) return { kind: 'missing' };
  if (code === 2) return { kind: 'live', dueAt: replyNumber(first, what) };
  if (code === 1 && typeof first === 'string') {
    const ids = replyArray(second ?? [], what);
    if (!ids.every((id) => typeof id === 'string')) throw malformed(what);
    return { kind: 'deleted', userId: first, refreshTokenIds: ids };
  }
  throw malformed(what);
}

/** Lowers a session's sweep score; best effort, after a revocation that already succeeded. */
async function lowerSweepScore({ client, keys }: RedisContext, sessionId: string, at: number): Promise<void> {
  try {
    await client.zadd(keys.sweepBucket(sweepBucket(sessionId)), 'LT', at, sessionId);
  } catch {
    // The session is still swept at its expiry, or dropped by its TTL.
  }
}

/** Revokes one session (only the user's, when `userId` is given); true for the call that did. */
async function revokeOne(
  context: RedisContext,
  id: string,
  at: number,
  userId: string | null,
): Promise<boolean> {
  const reply = await context.runScript(
    revokeSessionScript,
    [context.keys.session(id)],
    [at, userId === null ? '0' : '1', userId ?? ''],
  );
  return reply === 1;
}

async function createSession(context: RedisContext, session: SessionRecord): Promise<void> {
  const { client, keys } = context;
  // Indexes first: a session must never exist without its user-index entry, or
  // revokeUserSessions would miss it; and the shared user agent before the session naming it.
  const [userAgent] = await Promise.all([
    storeUserAgent(context, session.userAgent, session.absoluteExpiresAt - session.createdAt),
    client.zadd(keys.userSessions(session.userId), session.createdAt, session.id),
    client.zadd(keys.sweepBucket(sweepBucket(session.id)), 'LT', sessionDueAt(session), session.id),
  ]);
  const ttl = gcTTL(Math.min(session.idleExpiresAt, session.absoluteExpiresAt) - session.createdAt);
  const stored = await client.set(
    keys.session(session.id),
    encodeSession(session, userAgent),
    'PX',
    ttl,
    'NX',
  );
  if (stored === null) throw duplicate('session');
}

export async function getSession(context: RedisContext, id: string): Promise<SessionRecord | null> {
  const raw = await context.client.get(context.keys.session(id));
  if (raw === null) return null;
  const [session] = await decodeSessions(context, [{ id, raw }]);
  return session ?? null;
}

async function touchOne(
  context: RedisContext,
  id: string,
  update: { lastSeenAt: number; idleExpiresAt: number },
): Promise<void> {
  await context.runScript(
    touchSession,
    [context.keys.session(id)],
    [update.lastSeenAt, update.idleExpiresAt, gcTTL(update.idleExpiresAt - update.lastSeenAt)],
  );
}

async function revokeSession(context: RedisContext, id: string, at: number): Promise<boolean> {
  if (!(await revokeOne(context, id, at, null))) return false;
  await lowerSweepScore(context, id, at);
  return true;
}

async function revokeUserSessions(
  context: RedisContext,
  userId: string,
  at: number,
  options?: { except?: string },
): Promise<string[]> {
  const ids = (await context.client.zrange(context.keys.userSessions(userId), 0, -1)).filter(
    (id) => id !== options?.except,
  );
  const outcomes = await mapInChunks(ids, (id) => revokeOne(context, id, at, userId));
  const revoked = ids.filter((_, i) => outcomes[i] === true);
  await mapInChunks(revoked, (id) => lowerSweepScore(context, id, at));
  return revoked;
}

async function listUserSessions(
  context: RedisContext,
  userId: string,
  now: number,
): Promise<SessionRecord[]> {
  const { client, keys } = context;
  const indexKey = keys.userSessions(userId);
  const entries = await client.zrange(indexKey, 0, -1, 'WITHSCORES');
  const ids: { id: string; createdAt: number }[] = [];
  for (let i = 0; i + 1 < entries.length; i += 2) {
    ids.push({ id: entries[i] ?? '', createdAt: Number(entries[i + 1]) });
  }
  const raws = await mapInChunks(ids, ({ id }) => client.get(keys.session(id)));
  const stale: string[] = [];
  const found: { id: string; raw: string }[] = [];
  raws.forEach((raw, i) => {
    const entry = ids[i];
    if (entry === undefined) return;
    if (raw !== null) found.push({ id: entry.id, raw });
    else if (entry.createdAt < now - STALE_INDEX_ENTRY_MS) stale.push(entry.id);
  });
  const live: SessionRecord[] = [];
  for (const session of await decodeSessions(context, found)) {
    if (session.userId !== userId) stale.push(session.id);
    else if (isSessionLive(session, now)) live.push(session);
  }
  if (stale.length > 0) await client.zrem(indexKey, ...stale);
  return live.sort((a, b) => b.createdAt - a.createdAt || compareCodePoints(b.id, a.id));
}

/** Sweeps one session that sweep index `sweepKey` says is due; true when it was deleted. */
async function sweepOne(context: RedisContext, sweepKey: string, id: string, now: number): Promise<boolean> {
  const { client, keys, runScript } = context;
  const outcome = parseSweepReply(
    await runScript(sweepSession, [keys.session(id), keys.refreshTokens(id)], [now]),
  );
  if (outcome.kind === 'live') {
    await client.zadd(sweepKey, outcome.dueAt, id);
    return false;
  }
  if (outcome.kind === 'deleted') {
    await Promise.all([
      client.zrem(keys.userSessions(outcome.userId), id),
      ...outcome.refreshTokenIds.map((tokenId) =>
        Promise.all([
          client.hdel(keys.refreshTokenBucket(tokenId), tokenId),
          client.unlink(keys.refreshTokenIndex(tokenId)),
        ]),
      ),
    ]);
  }
  await client.zrem(sweepKey, id);
  return outcome.kind === 'deleted';
}

/** Every sweep index: the buckets, then the single index of earlier versions. */
function sweepKeys(context: RedisContext): string[] {
  const keys = Array.from({ length: SWEEP_BUCKETS }, (_, n) => context.keys.sweepBucket(n));
  keys.push(context.keys.sweep);
  return keys;
}

async function deleteExpiredSessions(context: RedisContext, now: number): Promise<number> {
  const counts = await mapInChunks(sweepKeys(context), (key) =>
    sweepDue(context, key, now, (id) => sweepOne(context, key, id, now)),
  );
  return counts.reduce((sum, count) => sum + count, 0);
}

/**
 * The session operations of one Redis store.
 *
 * @example
 * const sessions = createRedisSessions(context);
 * await sessions.revokeSession(id, now); // true for the one call that revoked it
 */
export function createRedisSessions(context: RedisContext): SessionStore {
  const { run } = context;
  return {
    createSession: (session) => run(() => createSession(context, session)),
    getSession: (id) => run(() => getSession(context, id)),
    touchSession: (id, update) => run(() => touchOne(context, id, update)),
    revokeSession: (id, at) => run(() => revokeSession(context, id, at)),
    revokeUserSessions: (userId, at, options) => run(() => revokeUserSessions(context, userId, at, options)),
    listUserSessions: (userId, now) => run(() => listUserSessions(context, userId, now)),
    deleteExpiredSessions: (now) => run(() => deleteExpiredSessions(context, now)),
  };
}
