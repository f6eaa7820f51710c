/**
 * The Lua scripts of users (rules shared by every script: `./lua.ts`). They are generic (a hash
 * created only if missing, updated only if present, a string deleted only if it holds a value)
 * but only users use them.
 */

import { defineScript } from './lua.js';

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
