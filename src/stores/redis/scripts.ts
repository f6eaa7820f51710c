/**
 * The Lua scripts of the Redis store: every operation that reads and then writes runs as one
 * script, so that it is atomic against every other client.
 *
 * Rules that every script here follows (see the key layout in `./index.ts`):
 * - it touches only the keys passed in `KEYS`, and those keys share one hash tag, so that a
 *   script runs on one Redis Cluster slot;
 * - it never formats a timestamp: numbers come in as decimal strings in `ARGV` and are stored
 *   as given (Lua numbers print with 14 significant digits), and are only parsed to compare;
 * - it never reads Redis's clock: `now` is always an argument.
 *
 * A session is stored as one string, `<lastSeenAt>,<idleExpiresAt>,<revokedAt>|<json>`, where
 * the header holds the fields that change (`revokedAt` empty while null) and `<json>` is the
 * array `[userId, secretHash, mode, createdAt, absoluteExpiresAt, userAgent, ip]` of the fields
 * that never do; touch and revoke rewrite the header and copy the JSON untouched.
 *
 * A session's refresh tokens share one hash, with values short enough (<= 64 bytes) for Redis
 * to keep a small hash in its compact encoding: `t:<id>` → secretHash, `c:<id>` →
 * `<createdAt>,<expiresAt>`, and, once rotated, `r:<id>` → `<rotatedAt>,<successorId>`.
 */

import { createHash } from 'node:crypto';

/** A Lua script and its SHA-1, for EVALSHA (with EVAL as the fallback on NOSCRIPT). */
export interface RedisScript {
  readonly name: string;
  readonly lua: string;
  readonly sha: string;
  /** How many of the arguments are keys (all of which must share one hash slot). */
  readonly keyCount: number;
}

function defineScript(name: string, keyCount: number, lua: string): RedisScript {
  const body = lua.trim();
  return { name, keyCount, lua: body, sha: createHash('sha1').update(body).digest('hex') };
}

/** Splits a session value into its header fields and its immutable JSON. */
const PARSE_SESSION = `
local function parse_session(raw)
  return string.match(raw, '^([^,]*),([^,]*),([^|]*)|(.*)$')
end
`;

/** Extends a key's TTL (garbage collection only) to at least `ttl` ms; never shortens it. */
const EXTEND_TTL = `
local function extend_ttl(key, ttl)
  if redis.call('PTTL', key) < tonumber(ttl) then redis.call('PEXPIRE', key, ttl) end
end
`;

/**
 * KEYS: session. ARGV: lastSeenAt, idleExpiresAt, gcTtlMs.
 * Returns 1 when touched, 0 when the session is missing or revoked.
 */
export const touchSession = defineScript(
  'touchSession',
  1,
  `${PARSE_SESSION}${EXTEND_TTL}
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local _, _, revoked, json = parse_session(raw)
if revoked ~= '' then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. ',' .. ARGV[2] .. ',|' .. json, 'KEEPTTL')
extend_ttl(KEYS[1], ARGV[3])
return 1
`,
);

/**
 * KEYS: session. ARGV: at, checkUser ('1' or '0'), userId.
 * Sets `revokedAt` if it is empty (and, with checkUser, if the session belongs to userId).
 * Returns 1 for the call that revoked it, 0 otherwise.
 */
export const revokeSession = defineScript(
  'revokeSession',
  1,
  `${PARSE_SESSION}
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local last_seen, idle, revoked, json = parse_session(raw)
if revoked ~= '' then return 0 end
if ARGV[2] == '1' and cjson.decode(json)[1] ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], last_seen .. ',' .. idle .. ',' .. ARGV[1] .. '|' .. json, 'KEEPTTL')
return 1
`,
);

/**
 * KEYS: session, the session's refresh-token hash. ARGV: now.
 * Deletes the session and its refresh tokens when it expired or was revoked at or before `now`.
 * Returns {0} when the session is missing, {1, userId, {refreshTokenIds...}} when deleted,
 * {2, dueAt} when it is still live (the sweep index held a stale score).
 */
export const sweepSession = defineScript(
  'sweepSession',
  2,
  `${PARSE_SESSION}
local raw = redis.call('GET', KEYS[1])
if not raw then return {0} end
local _, idle, revoked, json = parse_session(raw)
local session = cjson.decode(json)
local due = math.min(tonumber(idle), session[5])
if revoked ~= '' then due = math.min(due, tonumber(revoked)) end
if due > tonumber(ARGV[1]) then return {2, due} end
local ids = {}
for _, field in ipairs(redis.call('HKEYS', KEYS[2])) do
  if string.sub(field, 1, 2) == 't:' then ids[#ids + 1] = string.sub(field, 3) end
end
redis.call('UNLINK', KEYS[1], KEYS[2])
return {1, session[1], ids}
`,
);

/**
 * KEYS: the session's refresh-token hash. ARGV: id, secretHash, '<createdAt>,<expiresAt>', gcTtlMs.
 * Returns 1 when stored, 0 when the id exists.
 */
export const createRefreshToken = defineScript(
  'createRefreshToken',
  1,
  `${EXTEND_TTL}
if redis.call('HEXISTS', KEYS[1], 't:' .. ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 't:' .. ARGV[1], ARGV[2], 'c:' .. ARGV[1], ARGV[3])
extend_ttl(KEYS[1], ARGV[4])
return 1
`,
);

/**
 * KEYS: the session's refresh-token hash. ARGV: oldId, successorId, successor secretHash,
 * successor '<createdAt>,<expiresAt>', at, gcTtlMs, successorTaken ('1' when the id is known to
 * exist in another session).
 * Returns 1 when rotated, 0 when the old token is missing or already rotated, -1 when the
 * successor's id exists (nothing changed).
 */
export const rotateRefreshToken = defineScript(
  'rotateRefreshToken',
  1,
  `${EXTEND_TTL}
if redis.call('HEXISTS', KEYS[1], 't:' .. ARGV[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], 'r:' .. ARGV[1]) == 1 then return 0 end
if ARGV[7] == '1' or redis.call('HEXISTS', KEYS[1], 't:' .. ARGV[2]) == 1 then return -1 end
redis.call('HSET', KEYS[1], 'r:' .. ARGV[1], ARGV[5] .. ',' .. ARGV[2],
  't:' .. ARGV[2], ARGV[3], 'c:' .. ARGV[2], ARGV[4])
extend_ttl(KEYS[1], ARGV[6])
return 1
`,
);

/**
 * KEYS: key. ARGV: field, value, field, value, ...
 * Creates the hash only if the key does not exist. Returns 1 when created, 0 otherwise.
 */
export const createHashIfMissing = defineScript(
  'createHashIfMissing',
  1,
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`,
);

/**
 * KEYS: key. ARGV: field, value, field, value, ...
 * Sets fields of an existing hash. Returns 1 when it exists, 0 otherwise.
 */
export const updateHashIfExists = defineScript(
  'updateHashIfExists',
  1,
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`,
);

/** KEYS: key. ARGV: value. Deletes the key only if it holds `value`. Returns 1 when deleted. */
export const deleteIfEquals = defineScript(
  'deleteIfEquals',
  1,
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
);

/**
 * KEYS: key hash, key index set. ARGV: kid, field, value, field, value, ...
 * Returns 1 when inserted, 0 when the kid exists.
 */
export const insertKey = defineScript(
  'insertKey',
  2,
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SADD', KEYS[2], ARGV[1])
return 1
`,
);

/**
 * KEYS: key hash. ARGV: retiredMode, retiredAt, expiresMode, expiresAt, where a mode is
 * 'keep', 'set' or 'null'. Does nothing when the key is missing.
 */
export const updateKey = defineScript(
  'updateKey',
  1,
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local function apply(field, mode, value)
  if mode == 'set' then redis.call('HSET', KEYS[1], field, value)
  elseif mode == 'null' then redis.call('HDEL', KEYS[1], field) end
end
apply('retiredAt', ARGV[1], ARGV[2])
apply('expiresAt', ARGV[3], ARGV[4])
return 1
`,
);

/** KEYS: key hash, key index set. ARGV: kid. */
export const deleteKey = defineScript(
  'deleteKey',
  2,
  `
redis.call('UNLINK', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
`,
);

/**
 * KEYS: seq, log, expiry index. ARGV: record JSON without seq (starts with '{' and has at least
 * one member), expiresAt, initial seq (used only when the seq key is missing).
 * Returns the new seq.
 */
export const addRevocation = defineScript(
  'addRevocation',
  3,
  `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[3]) end
local seq = string.format('%d', redis.call('INCR', KEYS[1]))
redis.call('ZADD', KEYS[2], seq, '{"seq":' .. seq .. ',' .. string.sub(ARGV[1], 2))
redis.call('ZADD', KEYS[3], ARGV[2], seq)
return seq
`,
);

/**
 * KEYS: log. ARGV: min score ('-inf' or '(<afterSeq>'), now, limit (negative for no limit).
 * Returns the JSON of the records not expired at `now`, in seq order.
 */
export const listRevocations = defineScript(
  'listRevocations',
  1,
  `
local min, now, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
while true do
  local batch = redis.call('ZRANGEBYSCORE', KEYS[1], min, '+inf', 'WITHSCORES', 'LIMIT', 0, 256)
  for i = 1, #batch, 2 do
    if cjson.decode(batch[i]).expiresAt > now then
      out[#out + 1] = batch[i]
      if limit >= 0 and #out >= limit then return out end
    end
  end
  if #batch < 512 then return out end
  min = '(' .. batch[#batch]
end
`,
);

/**
 * KEYS: log, expiry index. ARGV: now, batch size.
 * Deletes up to `batch size` records expired at `now`; returns how many.
 */
export const deleteExpiredRevocations = defineScript(
  'deleteExpiredRevocations',
  2,
  `
local seqs = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, seq in ipairs(seqs) do
  redis.call('ZREMRANGEBYSCORE', KEYS[1], seq, seq)
  redis.call('ZREM', KEYS[2], seq)
end
return #seqs
`,
);

/**
 * KEYS: counter. ARGV: now, now + ttlMs, gcTtlMs.
 * Returns {count, expiresAt}.
 */
export const increment = defineScript(
  'increment',
  1,
  `
local expires_at = redis.call('HGET', KEYS[1], 'e')
if expires_at and tonumber(expires_at) > tonumber(ARGV[1]) then
  return {redis.call('HINCRBY', KEYS[1], 'c', 1), expires_at}
end
redis.call('HSET', KEYS[1], 'c', 1, 'e', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, ARGV[2]}
`,
);
