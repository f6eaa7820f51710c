/**
 * The Lua scripts of refresh tokens (rules shared by every script: `./lua.ts`).
 *
 * A session's refresh tokens share one hash, in the session's slot, with values short enough
 * (<= 64 bytes) for Redis to keep a small hash in its compact encoding: `t:<id>` → secretHash,
 * `c:<id>` → `<createdAt>,<expiresAt>`, and, once rotated, `r:<id>` → `<rotatedAt>,<successorId>`.
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
