/**
 * The Lua scripts of second factors (rules shared by every script: `./lua.ts`).
 *
 * A user's factors are one hash, `P:{u:<uid>}:factors`: field `<id>` holds the factor's fixed
 * part as JSON, `<id>:c` when it was confirmed, and `<id>:s` `<lastUsedStep>,<lastUsedAt>` once
 * a code was accepted. The parts that change are fields of their own, so that a script writes
 * them as given and never re-encodes JSON.
 */

import { defineScript } from './lua.js';

/**
 * KEYS: the user's factor hash. ARGV: id, confirmedAt.
 * Sets `<id>:c` when the factor exists and has none. Returns 1 when set, 0 otherwise.
 */
export const confirmFactor = defineScript(
  'confirmFactor',
  1,
  `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], ARGV[1] .. ':c', ARGV[2])
`,
);

/**
 * KEYS: the user's factor hash. ARGV: id, step, at.
 * Records `step,at` when the factor exists and its last used step is absent or lower. Returns 1
 * when recorded, 0 otherwise.
 */
export const useFactorStep = defineScript(
  'useFactorStep',
  1,
  `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local last = redis.call('HGET', KEYS[1], ARGV[1] .. ':s')
if last then
  local step = tonumber(string.match(last, '^([^,]*),'))
  if step >= tonumber(ARGV[2]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1] .. ':s', ARGV[2] .. ',' .. ARGV[3])
return 1
`,
);

/**
 * KEYS: the user's factor hash. ARGV: id.
 * Deletes the factor and its changing fields. Returns 1 when it existed, 0 otherwise.
 */
export const deleteFactor = defineScript(
  'deleteFactor',
  1,
  `
local existed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1] .. ':c', ARGV[1] .. ':s')
return existed
`,
);
