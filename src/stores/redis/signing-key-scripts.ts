/**
 * The Lua scripts of signing keys (rules shared by every script: `./lua.ts`). A key's hash and
 * the kid index share the `{keys}` tag, so that one script writes both.
 */

import { defineScript } from './lua.js';

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
