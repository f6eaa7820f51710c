/**
 * The Lua script of `latchkey copy` on Redis (rules shared by every script: `./lua.ts`): a
 * revocation written with the seq it had in the source store, under the `{rev}` tag.
 */

import { defineScript } from './lua.js';

/**
 * KEYS: seq, log, expiry index. ARGV: seq, record JSON (with its seq), expiresAt.
 * Returns 1 when it stored the record, or the JSON already stored under this seq (nothing
 * written). Raises the seq key to at least this seq, so that later revocations come after it.
 */
export const importRevocation = defineScript(
  'importRevocation',
  3,
  `
local found = redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[1], ARGV[1], 'LIMIT', 0, 1)
if #found > 0 then return found[1] end
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
local current = redis.call('GET', KEYS[1])
if current == false or tonumber(current) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
`,
);
