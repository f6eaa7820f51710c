/**
 * Refresh tokens in Redis: the tokens of a session are kept in the session's slot, folded into
 * the session's own value, or in the hash `P:{s:<sid>}:rt`, with the same fields either way
 * (`t:<id>` → secretHash, `c:<id>` → `<createdAt>,<expiresAt>`, and once rotated `r:<id>` →
 * `<rotatedAt>,<successorId>`; where and when: `./refresh-token-scripts.ts`), and
 * `P:{rt:<id>}` holds the session id of token `<id>` (an immutable index, so that a token is
 * found by its id alone).
 *
 * Because a token and its successor are written by one script on the session's slot, a
 * successor must belong to the session of the token it replaces (`internal_error` otherwise).
 *
 * The session keeps a chain's current token and the one it replaced; older ones are retired to
 * `P:{rt:<id>}:r` (`["<sessionId>", "<secretHash>", "<createdAt>,<expiresAt>",
 * "<rotatedAt>,<successorId>"]`), which replaces their index and expires with it, so that the
 * hash does not grow with each rotation (see `./refresh-token-scripts.ts`). Hashes written before
 * this hold every token of the chain: they are read as they are, and retired at their next
 * rotation.
 */

import { LatchkeyError } from '../../errors.js';
import type { RefreshTokenRecord } from '../../records.js';
import type { RefreshTokenStore } from '../../store.js';
import { malformed, replyArray, requiredNumber } from './codec.js';
import { duplicate, gcTTL, mapInChunks, type RedisContext } from './context.js';
import {
  createRefreshToken as createScript,
  readRefreshTokens,
  pruneRefreshTokens,
  retireRefreshToken,
  rotateRefreshToken as rotateScript,
} from './refresh-token-scripts.js';

/** Whether a token's id and hash may be folded into its session's value (no separator in them). */
function foldable(id: string, secretHash: string): '1' | '0' {
  return /^[A-Za-z0-9_-]+$/.test(id) && /^[A-Za-z0-9_-]+$/.test(secretHash) ? '1' : '0';
}

/** A session's tokens, as the field → value map of their hash, wherever they are kept. */
export async function readTokenFields(
  context: RedisContext,
  sessionId: string,
): Promise<Record<string, string>> {
  const { keys } = context;
  const flat = replyArray(
    await context.runScript(readRefreshTokens, [keys.refreshTokens(sessionId), keys.session(sessionId)], []),
    'refresh tokens',
  );
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const [name, value] = [flat[i], flat[i + 1]];
    if (typeof name !== 'string' || typeof value !== 'string') throw malformed('refresh token');
    fields[name] = value;
  }
  return fields;
}

/**
 * A token's time as stored: `~` and base 36 for a safe non-negative integer (9 characters for a
 * time of this century instead of 13), else decimal (as tokens written before this all are).
 */
function encodeTime(time: number): string {
  return Number.isSafeInteger(time) && time >= 0 ? `~${time.toString(36)}` : String(time);
}

/** A token's `<createdAt>,<expiresAt>` as stored. */
function encodeTimes(token: RefreshTokenRecord): string {
  return `${encodeTime(token.createdAt)},${encodeTime(token.expiresAt)}`;
}

function decodeTime(text: string, what: string): number {
  if (!text.startsWith('~')) return requiredNumber(text, what);
  if (!/^~[0-9a-z]{1,11}$/.test(text)) throw malformed(what);
  return parseInt(text.slice(1), 36);
}

/** `<a>,<b>` → [a, b], where `b` may itself contain commas. */
function splitPair(value: string, what: string): [string, string] {
  const comma = value.indexOf(',');
  if (comma < 0) throw malformed(what);
  return [value.slice(0, comma), value.slice(comma + 1)];
}

export function decodeRefreshToken(
  id: string,
  sessionId: string,
  fields: { secretHash: string; times: string | null; rotation: string | null },
): RefreshTokenRecord {
  const what = 'refresh token';
  if (fields.times === null) throw malformed(what);
  const [createdAt, expiresAt] = splitPair(fields.times, what);
  const rotation = fields.rotation === null ? null : splitPair(fields.rotation, what);
  return {
    id,
    sessionId,
    secretHash: fields.secretHash,
    createdAt: decodeTime(createdAt, what),
    expiresAt: decodeTime(expiresAt, what),
    rotatedAt: rotation === null ? null : requiredNumber(rotation[0], what),
    successorId: rotation === null ? null : rotation[1],
  };
}

/**
 * Adds `id` → `sessionId` to the token index (immutable); true when it was not there, false
 * when it was, for this session; `duplicate` when another session holds the id.
 */
async function indexToken({ client, keys }: RedisContext, id: string, sessionId: string): Promise<boolean> {
  const bucket = keys.refreshTokenBucket(id);
  if ((await client.hsetnx(bucket, id, sessionId)) === 1) return true;
  if ((await client.hget(bucket, id)) !== sessionId) throw duplicate('refresh token');
  return false;
}

/** The session of token `id` from the index (its bucket, then the per-token key of earlier versions). */
async function sessionOfToken({ client, keys }: RedisContext, id: string): Promise<string | null> {
  return (
    (await client.hget(keys.refreshTokenBucket(id), id)) ?? (await client.get(keys.refreshTokenIndex(id)))
  );
}

async function createRefreshToken(context: RedisContext, token: RefreshTokenRecord): Promise<void> {
  const { keys } = context;
  const ttl = gcTTL(token.expiresAt - token.createdAt);
  // The index first (immutable: id → session), then the token in its session's slot.
  await indexToken(context, token.id, token.sessionId);
  const created = await context.runScript(
    createScript,
    [keys.refreshTokens(token.sessionId), keys.session(token.sessionId)],
    [token.id, token.secretHash, encodeTimes(token), ttl, foldable(token.id, token.secretHash)],
  );
  if (created !== 1) throw duplicate('refresh token');
}

/** A retired token's record (`P:{rt:<id>}:r`, see the module comment). */
function decodeRetired(id: string, raw: string): RefreshTokenRecord {
  let fields: unknown;
  try {
    fields = JSON.parse(raw);
  } catch {
    throw malformed('retired refresh token');
  }
  if (!Array.isArray(fields) || fields.length !== 4 || !fields.every((field) => typeof field === 'string')) {
    throw malformed('retired refresh token');
  }
  const [sessionId, secretHash, times, rotation] = fields as [string, string, string, string];
  return decodeRefreshToken(id, sessionId, { secretHash, times, rotation });
}

async function getRefreshToken(context: RedisContext, id: string): Promise<RefreshTokenRecord | null> {
  const { client, keys } = context;
  // A live token is in the index; a retired one has left it for a record of its own, in one
  // slot with the per-token index of earlier versions.
  let sessionId = await client.hget(keys.refreshTokenBucket(id), id);
  if (sessionId === null) {
    const [legacy, retired] = await client.mget(keys.refreshTokenIndex(id), keys.retiredRefreshToken(id));
    if (typeof retired === 'string') {
      // The sweep deletes a session and its hash, not the records of its retired tokens: a
      // retired token exists while its chain's current token does (in the session or its hash).
      const record = decodeRetired(id, retired);
      const live = await client.exists(keys.refreshTokens(record.sessionId), keys.session(record.sessionId));
      return live > 0 ? record : null;
    }
    sessionId = legacy ?? null;
  }
  if (typeof sessionId !== 'string') return null;
  const fields = await readTokenFields(context, sessionId);
  const secretHash = fields[`t:${id}`];
  if (secretHash === undefined) return null;
  return decodeRefreshToken(id, sessionId, {
    secretHash,
    times: fields[`c:${id}`] ?? null,
    rotation: fields[`r:${id}`] ?? null,
  });
}

/**
 * Retires the tokens a rotation at `at` named (flat: id, secretHash, times, rotation): each moves
 * to its own record first (which lives until the token would have expired, plus the GC margin),
 * then leaves the index, then the session, so that it is readable at every moment. A failure
 * leaves it where it was, to be retired at the next rotation.
 */
async function retire(
  context: RedisContext,
  sessionId: string,
  flat: readonly unknown[],
  at: number,
): Promise<void> {
  const { client, keys } = context;
  const retired: { id: string; record: string; ttl: string }[] = [];
  for (let i = 0; i + 3 < flat.length; i += 4) {
    const [id, secretHash, times, rotation] = flat.slice(i, i + 4);
    if (typeof id !== 'string' || typeof times !== 'string') continue;
    let expiresAt = at; // a malformed time keeps the record for the GC margin only
    try {
      expiresAt = decodeTime(times.slice(times.indexOf(',') + 1), 'refresh token');
    } catch {
      // (see above)
    }
    const ttl = gcTTL(expiresAt - at);
    retired.push({ id, record: JSON.stringify([sessionId, secretHash, times, rotation]), ttl });
  }
  if (retired.length === 0) return;
  try {
    await mapInChunks(retired, async ({ id, record, ttl }) => {
      // A token indexed the earlier way moves with its index's TTL (`retireRefreshToken`).
      const moved = await context.runScript(
        retireRefreshToken,
        [keys.refreshTokenIndex(id), keys.retiredRefreshToken(id)],
        [record],
      );
      if (moved !== 1) await client.set(keys.retiredRefreshToken(id), record, 'PX', ttl);
      await client.hdel(keys.refreshTokenBucket(id), id);
    });
    await context.runScript(
      pruneRefreshTokens,
      [keys.refreshTokens(sessionId), keys.session(sessionId)],
      retired.map(({ id }) => id),
    );
  } catch {
    // The rotation is done; what was not moved stays in the session until the next rotation.
  }
}

/** Drops a successor's index entry that a rotation wrote and then did not use. */
async function dropUnusedIndex(context: RedisContext, sessionId: string, id: string): Promise<void> {
  try {
    // A concurrent rotation that won stored the same successor (same id), or another one.
    if ((await readTokenFields(context, sessionId))[`t:${id}`] === undefined) {
      await context.client.hdel(context.keys.refreshTokenBucket(id), id);
    }
  } catch {
    // An unused entry names no token: readers find nothing; the session's sweep ignores it.
  }
}

async function rotateRefreshToken(
  context: RedisContext,
  oldId: string,
  successor: RefreshTokenRecord,
  at: number,
): Promise<boolean> {
  const { keys } = context;
  const sessionId = await sessionOfToken(context, oldId);
  if (sessionId === null) return false;
  if (successor.sessionId !== sessionId) {
    throw new LatchkeyError(
      'internal_error',
      'A refresh token successor must belong to the session of the token it replaces',
    );
  }
  const ttl = gcTTL(successor.expiresAt - at);
  // Write the successor's index before the compare-and-set (a successor of another session's
  // id rejects here, unchanged). A concurrent rotation of the same token writes the same entry.
  const indexed = await indexToken(context, successor.id, sessionId);
  const reply = await context.runScript(
    rotateScript,
    [keys.refreshTokens(sessionId), keys.session(sessionId)],
    [
      oldId,
      successor.id,
      successor.secretHash,
      encodeTimes(successor),
      at,
      ttl,
      foldable(successor.id, successor.secretHash),
    ],
  );
  const [code, ...retirable] = replyArray(reply, 'rotation');
  if (code !== 1 && indexed) await dropUnusedIndex(context, sessionId, successor.id);
  if (code === -1) throw duplicate('refresh token');
  if (code !== 1) return false;
  await retire(context, sessionId, retirable, at);
  return true;
}

/**
 * The refresh-token operations of one Redis store.
 *
 * @example
 * const tokens = createRedisRefreshTokens(context);
 * await tokens.rotateRefreshToken(oldId, successor, now); // true for exactly one concurrent call
 */
export function createRedisRefreshTokens(context: RedisContext): RefreshTokenStore {
  const { run } = context;
  return {
    createRefreshToken: (token) => run(() => createRefreshToken(context, token)),
    getRefreshToken: (id) => run(() => getRefreshToken(context, id)),
    rotateRefreshToken: (oldId, successor, at) =>
      run(() => rotateRefreshToken(context, oldId, successor, at)),
  };
}
