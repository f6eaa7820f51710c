/**
 * The Lua scripts of the audit trail (rules shared by every script: `./lua.ts`). Every key of
 * the trail carries the `{audit}` tag, so each script runs on one slot.
 *
 * A record is a field of the `records` hash (its id → JSON `[at, event, userId, clientId,
 * sessionId, ip, userAgent, details, expiresAt]`); the listing sets (`all`, and one per user)
 * hold `<at, 16 digits>:<id>` at score 0, so that their byte order is `(at, id)` order; the
 * sweep set holds the same members scored by `expiresAt`.
 */

import { defineScript } from './lua.js';

/**
 * KEYS: records, all, user, exp. ARGV: id, json, member, expiresAt, hasUser (1/0).
 * Stores the record unless its id exists. Returns 1 when stored, 0 for a duplicate id.
 */
export const addAuditRecord = defineScript(
  'addAuditRecord',
  4,
  `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[3])
if ARGV[5] == '1' then redis.call('ZADD', KEYS[3], 0, ARGV[3]) end
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[3])
return 1
`,
);

/**
 * KEYS: records, all, user, exp. ARGV: id, member, now.
 * Deletes a record whose expiry (its score in `exp`) is at or before `now`, and its listing
 * entries. Returns 1 when deleted.
 */
export const sweepAuditRecord = defineScript(
  'sweepAuditRecord',
  4,
  `
local score = redis.call('ZSCORE', KEYS[4], ARGV[2])
if not score or tonumber(score) > tonumber(ARGV[3]) then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
return 1
`,
);
