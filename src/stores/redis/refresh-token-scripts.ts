/**
 * The Lua scripts of refresh tokens (rules shared by every script: `./lua.ts`).
 *
 * A session's refresh tokens share one hash, in the session's slot, with values short enough
 * (<= 64 bytes) for Redis to keep a small hash in its compact encoding: `t:<id>` → secretHash,
 * `c:<id>` → `<createdAt>,<expiresAt>`, and, once rotated, `r:<id>` → `<rotatedAt>,<successorId>`.
 *
 * The hash keeps a chain's current token and the one it replaced (the grace window needs both),
 * not its whole history: a token whose successor was rotated in its turn is retired, moved to a
 * key of its own in its own slot, `P:{rt:<id>}:r`, where it replaces the token's index and expires
 * with it. So the hash does not grow with each rotation, and a retired token is still found and
 * recognised (reuse detection) until it expires.
 */

import { defineScript, EXTEND_TTL } from './lua.js';

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
 * Lua: `retirable(key, rotated)` lists, flat, `id, secretHash, times, rotation` of every token of
 * the hash whose successor is rotated too (`rotated` is the id just rotated); these are the
 * tokens to retire (see the module comment).
 */
const RETIRABLE = `
local function retirable(key, rotated)
  local fields = redis.call('HGETALL', key)
  local hash = {}
  for i = 1, #fields, 2 do hash[fields[i]] = fields[i + 1] end
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
 * KEYS: the session's refresh-token hash. ARGV: oldId, successorId, successor secretHash,
 * successor '<createdAt>,<expiresAt>', at, gcTtlMs, successorTaken ('1' when the id is known to
 * exist in another session).
 * Returns {1, retirable...} when rotated (the tokens to retire, flat: id, secretHash, times,
 * rotation), {0} when the old token is missing or already rotated, {-1} when the successor's id
 * exists (nothing changed).
 */
export const rotateRefreshToken = defineScript(
  'rotateRefreshToken',
  1,
  `${EXTEND_TTL}${RETIRABLE}
if redis.call('HEXISTS', KEYS[1], 't:' .. ARGV[1]) == 0 then return {0} end
if redis.call('HEXISTS', KEYS[1], 'r:' .. ARGV[1]) == 1 then return {0} end
if ARGV[7] == '1' or redis.call('HEXISTS', KEYS[1], 't:' .. ARGV[2]) == 1 then return {-1} end
redis.call('HSET', KEYS[1], 'r:' .. ARGV[1], ARGV[5] .. ',' .. ARGV[2],
  't:' .. ARGV[2], ARGV[3], 'c:' .. ARGV[2], ARGV[4])
extend_ttl(KEYS[1], ARGV[6])
local reply = retirable(KEYS[1], ARGV[1])
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
 * KEYS: the session's refresh-token hash. ARGV: ids of retired tokens.
 * Deletes their fields, once each has been moved to its retired record; only a rotated token's.
 * Returns how many it deleted.
 */
export const pruneRefreshTokens = defineScript(
  'pruneRefreshTokens',
  1,
  `
local count = 0
for _, id in ipairs(ARGV) do
  if redis.call('HEXISTS', KEYS[1], 'r:' .. id) == 1 then
    redis.call('HDEL', KEYS[1], 't:' .. id, 'c:' .. id, 'r:' .. id)
    count = count + 1
  end
end
return count
`,
);
