/**
 * The Lua scripts of refresh tokens (rules shared by every script: `./lua.ts`).
 *
 * A session's refresh tokens are kept in one of two places, both in the session's slot, with
 * the same fields: `t:<id>` → secretHash, `c:<id>` → `<createdAt>,<expiresAt>`, and, once
 * rotated, `r:<id>` → `<rotatedAt>,<successorId>`.
 * - Folded into the session's own value (the usual case): the header's fourth field, entries
 *   `<id>:<secretHash>:<createdAt>:<expiresAt>[:<rotatedAt>:<successorId>]` separated by `;`
 *   (see `./session-scripts.ts`). A session's first token is folded when the session exists,
 *   has no token hash, and the token's id and hash are base64url (no separator can occur).
 * - In the hash `P:{s:<sid>}:rt` (values <= 64 bytes: compact encoding): tokens written before
 *   folding, tokens of a session that is not stored here, and tokens whose id or hash is not
 *   base64url. A folded set that meets such a token moves to the hash, never back.
 *
 * Either keeps a chain's current token and the one it replaced (the grace window needs both),
 * not its whole history: a token whose successor was rotated in its turn is retired, moved to a
 * key of its own in its own slot, `P:{rt:<id>}:r`, where it replaces the token's index and expires
 * with it. So neither grows with each rotation, and a retired token is still found and
 * recognised (reuse detection) until it expires.
 */

import { defineScript, EXTEND_TTL } from './lua.js';
import { PARSE_SESSION } from './session-scripts.js';

/**
 * Lua: `load_tokens(hash_key, session_key)` reads a session's tokens, wherever they are, as the
 * hash's fields: returns `fields` (field → value), `ids` (in order), `place` ('hash', 'session',
 * or nil when there are none) and `session` (the parsed session value, nil when it is missing).
 * `save_folded(session_key, session, fields, ids, ttl)` writes them into the session's value
 * (`ttl` nil: leave the TTL); `unfold(hash_key, session_key, session, fields)` moves them to the
 * hash.
 */
const TOKENS = `${PARSE_SESSION}${EXTEND_TTL}
local function load_tokens(hash_key, session_key)
  local fields, ids = {}, {}
  local flat = redis.call('HGETALL', hash_key)
  if #flat > 0 then
    for i = 1, #flat, 2 do
      fields[flat[i]] = flat[i + 1]
      if string.sub(flat[i], 1, 2) == 't:' then ids[#ids + 1] = string.sub(flat[i], 3) end
    end
    return fields, ids, 'hash', nil
  end
  local raw = redis.call('GET', session_key)
  if not raw then return fields, ids, nil, nil end
  local last_seen, idle, revoked, tokens, json = parse_session(raw)
  for entry in string.gmatch(tokens, '[^;]+') do
    local id, hash, created, expires, rotated, successor =
      string.match(entry, '^([^:]*):([^:]*):([^:]*):([^:]*):?([^:]*):?([^:]*)$')
    ids[#ids + 1] = id
    fields['t:' .. id] = hash
    fields['c:' .. id] = created .. ',' .. expires
    if rotated ~= '' then fields['r:' .. id] = rotated .. ',' .. successor end
  end
  local place = nil
  if tokens ~= '' then place = 'session' end
  return fields, ids, place, { last_seen, idle, revoked, json }
end
local function save_folded(session_key, session, fields, ids, ttl)
  local entries = {}
  for _, id in ipairs(ids) do
    local hash = fields['t:' .. id]
    if hash then
      local entry = id .. ':' .. hash .. ':' .. (string.gsub(fields['c:' .. id], ',', ':', 1))
      local rotation = fields['r:' .. id]
      if rotation then entry = entry .. ':' .. (string.gsub(rotation, ',', ':', 1)) end
      entries[#entries + 1] = entry
    end
  end
  redis.call('SET', session_key,
    session_value(session[1], session[2], session[3], table.concat(entries, ';'), session[4]), 'KEEPTTL')
  if ttl then extend_ttl(session_key, ttl) end
end
local function unfold(hash_key, session_key, session, fields)
  local flat = {}
  for field, value in pairs(fields) do
    flat[#flat + 1] = field
    flat[#flat + 1] = value
  end
  redis.call('HSET', hash_key, unpack(flat))
  redis.call('SET', session_key, session_value(session[1], session[2], session[3], '', session[4]), 'KEEPTTL')
end
`;

/**
 * KEYS: the session's refresh-token hash, the session. ARGV: id, secretHash,
 * '<createdAt>,<expiresAt>', gcTtlMs, foldable ('1' when the id and hash are base64url).
 * Returns 1 when stored, 0 when the id exists.
 */
export const createRefreshToken = defineScript(
  'createRefreshToken',
  2,
  `${TOKENS}
local fields, ids, place, session = load_tokens(KEYS[1], KEYS[2])
if fields['t:' .. ARGV[1]] then return 0 end
if session and place ~= 'hash' and ARGV[5] == '1' then
  ids[#ids + 1] = ARGV[1]
  fields['t:' .. ARGV[1]] = ARGV[2]
  fields['c:' .. ARGV[1]] = ARGV[3]
  save_folded(KEYS[2], session, fields, ids, ARGV[4])
  return 1
end
if place == 'session' then unfold(KEYS[1], KEYS[2], session, fields) end
redis.call('HSET', KEYS[1], 't:' .. ARGV[1], ARGV[2], 'c:' .. ARGV[1], ARGV[3])
extend_ttl(KEYS[1], ARGV[4])
return 1
`,
);

/**
 * KEYS: the session's refresh-token hash, the session. Returns the session's tokens as the
 * flat field/value list of their hash (`HGETALL`), wherever they are kept.
 */
export const readRefreshTokens = defineScript(
  'readRefreshTokens',
  2,
  `${TOKENS}
local fields, ids, place = load_tokens(KEYS[1], KEYS[2])
if place == 'hash' then return redis.call('HGETALL', KEYS[1]) end
local flat = {}
for field, value in pairs(fields) do
  flat[#flat + 1] = field
  flat[#flat + 1] = value
end
return flat
`,
);

/**
 * Lua: `retirable(fields, rotated)` lists, flat, `id, secretHash, times, rotation` of every
 * token whose successor is rotated too (`rotated` is the id just rotated); these are the
 * tokens to retire (see the module comment).
 */
const RETIRABLE = `
local function retirable(hash, rotated)
  local out = {}
  for field, value in pairs(hash) do
    if string.sub(field, 1, 2) == 'r:' then
      local id = string.sub(field, 3)
      local successor = string.match(value, '^[^,]*,(.*)$')
      if (successor == rotated or hash['r:' .. successor]) and hash['t:' .. id] then
        out[#out + 1] = id
        out[#out + 1] = hash['t:' .. id]
        out[#out + 1] = hash['c:' .. id] or ''
        out[#out + 1] = value
      end
    end
  end
  return out
end
`;

/**
 * KEYS: the session's refresh-token hash, the session. ARGV: oldId, successorId, successor
 * secretHash, successor '<createdAt>,<expiresAt>', at, gcTtlMs, foldable ('1' when the
 * successor's id and hash are base64url). A successor id held by another session is refused
 * before (its index entry, `indexToken` in `./refresh-tokens.ts`).
 * Returns {1, retirable...} when rotated (the tokens to retire, flat: id, secretHash, times,
 * rotation), {0} when the old token is missing or already rotated, {-1} when the successor's id
 * exists (nothing changed).
 */
export const rotateRefreshToken = defineScript(
  'rotateRefreshToken',
  2,
  `${TOKENS}${RETIRABLE}
local fields, ids, place, session = load_tokens(KEYS[1], KEYS[2])
if not fields['t:' .. ARGV[1]] or fields['r:' .. ARGV[1]] then return {0} end
if fields['t:' .. ARGV[2]] then return {-1} end
fields['r:' .. ARGV[1]] = ARGV[5] .. ',' .. ARGV[2]
fields['t:' .. ARGV[2]] = ARGV[3]
fields['c:' .. ARGV[2]] = ARGV[4]
ids[#ids + 1] = ARGV[2]
if place == 'session' and ARGV[7] == '1' then
  save_folded(KEYS[2], session, fields, ids, ARGV[6])
else
  if place == 'session' then
    unfold(KEYS[1], KEYS[2], session, fields)
  else
    redis.call('HSET', KEYS[1], 'r:' .. ARGV[1], fields['r:' .. ARGV[1]],
      't:' .. ARGV[2], ARGV[3], 'c:' .. ARGV[2], ARGV[4])
  end
  extend_ttl(KEYS[1], ARGV[6])
end
local reply = retirable(fields, ARGV[1])
table.insert(reply, 1, 1)
return reply
`,
);

/**
 * KEYS: a token's index `P:{rt:<id>}`, its retired record `P:{rt:<id>}:r`. ARGV: the record.
 * Moves the token to its retired record, which takes the index's TTL, and deletes the index.
 * Returns 1 when moved, 0 when the index is gone (the token expired: nothing to keep).
 */
export const retireRefreshToken = defineScript(
  'retireRefreshToken',
  2,
  `
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return 0 end
if ttl > 0 then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ttl)
else
  redis.call('SET', KEYS[2], ARGV[1])
end
redis.call('DEL', KEYS[1])
return 1
`,
);

/**
 * KEYS: the session's refresh-token hash, the session. ARGV: ids of retired tokens.
 * Deletes them, once each has been moved to its retired record; only a rotated token.
 * Returns how many it deleted.
 */
export const pruneRefreshTokens = defineScript(
  'pruneRefreshTokens',
  2,
  `${TOKENS}
local fields, ids, place, session = load_tokens(KEYS[1], KEYS[2])
local count = 0
for _, id in ipairs(ARGV) do
  if fields['r:' .. id] then
    if place == 'hash' then redis.call('HDEL', KEYS[1], 't:' .. id, 'c:' .. id, 'r:' .. id) end
    fields['t:' .. id], fields['c:' .. id], fields['r:' .. id] = nil, nil, nil
    count = count + 1
  end
end
if place == 'session' and count > 0 then save_folded(KEYS[2], session, fields, ids, nil) end
return count
`,
);
