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
    createdAt: requiredNumber(createdAt, what),
    expiresAt: requiredNumber(expiresAt, what),
    rotatedAt: rotation === null ? null : requiredNumber(rotation[0], what),
    successorId: rotation === null ? null : rotation[1],
  };
}

async function createRefreshToken(context: RedisContext, token: RefreshTokenRecord): Promise<void> {
  const { client, keys } = context;
  const ttl = gcTTL(token.expiresAt - token.createdAt);
  const indexKey = keys.refreshTokenIndex(token.id);
  // The index first (immutable: id → session), then the token in its session's slot.
  if ((await client.set(indexKey, token.sessionId, 'PX', ttl, 'NX')) === null) {
    if ((await client.get(indexKey)) !== token.sessionId) throw duplicate('refresh token');
    await client.pexpire(indexKey, ttl, 'GT');
  }
  const created = await context.runScript(
    createScript,
    [keys.refreshTokens(token.sessionId), keys.session(token.sessionId)],
    [
      token.id,
      token.secretHash,
      `${token.createdAt},${token.expiresAt}`,
      ttl,
      foldable(token.id, token.secretHash),
    ],
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
  // One slot: the index of a live token, or the record of a retired one.
  const [sessionId, retired] = await client.mget(keys.refreshTokenIndex(id), keys.retiredRefreshToken(id));
  if (typeof retired === 'string') {
    // The sweep deletes a session and its hash, not the records of its retired tokens: a
    // retired token exists while its chain's current token does (in the session or its hash).
    const record = decodeRetired(id, retired);
    const live = await client.exists(keys.refreshTokens(record.sessionId), keys.session(record.sessionId));
    return live > 0 ? record : null;
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
 * Retires the tokens a rotation named (flat: id, secretHash, times, rotation): each moves to its
 * own record first, then leaves the hash, so that it is readable at every moment. A failure
 * leaves it in the hash, to be retired at the next rotation.
 */
async function retire(context: RedisContext, sessionId: string, flat: readonly unknown[]): Promise<void> {
  const { keys } = context;
  const retired: { id: string; record: string }[] = [];
  for (let i = 0; i + 3 < flat.length; i += 4) {
    const [id, secretHash, times, rotation] = flat.slice(i, i + 4);
    if (typeof id !== 'string') continue;
    retired.push({ id, record: JSON.stringify([sessionId, secretHash, times, rotation]) });
  }
  if (retired.length === 0) return;
  try {
    await mapInChunks(retired, ({ id, record }) =>
      context.runScript(
        retireRefreshToken,
        [keys.refreshTokenIndex(id), keys.retiredRefreshToken(id)],
        [record],
      ),
    );
    await context.runScript(
      pruneRefreshTokens,
      [keys.refreshTokens(sessionId), keys.session(sessionId)],
      retired.map(({ id }) => id),
    );
  } catch {
    // The rotation is done; what was not moved stays in the hash until the next rotation.
  }
}

async function rotateRefreshToken(
  context: RedisContext,
  oldId: string,
  successor: RefreshTokenRecord,
  at: number,
): Promise<boolean> {
  const { client, keys } = context;
  const sessionId = await client.get(keys.refreshTokenIndex(oldId));
  if (sessionId === null) return false;
  if (successor.sessionId !== sessionId) {
    throw new LatchkeyError(
      'internal_error',
      'A refresh token successor must belong to the session of the token it replaces',
    );
  }
  const ttl = gcTTL(successor.expiresAt - at);
  const indexKey = keys.refreshTokenIndex(successor.id);
  // Write the successor's index before the compare-and-set. A concurrent rotation of the
  // same token writes the same value (same session), so the loser's write is harmless.
  let taken = false;
  if ((await client.set(indexKey, sessionId, 'PX', ttl, 'NX')) === null) {
    taken = (await client.get(indexKey)) !== sessionId;
  }
  const reply = await context.runScript(
    rotateScript,
    [keys.refreshTokens(sessionId), keys.session(sessionId)],
    [
      oldId,
      successor.id,
      successor.secretHash,
      `${successor.createdAt},${successor.expiresAt}`,
      at,
      ttl,
      taken ? '1' : '0',
      foldable(successor.id, successor.secretHash),
    ],
  );
  const [code, ...retirable] = replyArray(reply, 'rotation');
  if (code === -1) throw duplicate('refresh token');
  if (code !== 1) return false;
  await retire(context, sessionId, retirable);
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
