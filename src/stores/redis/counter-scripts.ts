/**
 * The Lua script of counters (rules shared by every script: `./lua.ts`). A counter is one hash:
 * `c` (count) and `e` (expiresAt).
 */

import { defineScript } from './lua.js';

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
