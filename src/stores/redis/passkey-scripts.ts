/**
 * The Lua scripts of passkeys (rules shared by every script: `./lua.ts`).
 *
 * A passkey is one hash in its own slot, `P:{pk:<credentialId>}`: `o` its user id, `r` the
 * fixed part as JSON, `n` its name, `u` `<counter>,<backedUp 0|1>,<lastUsedAt>`.
 */

import { defineScript } from './lua.js';

/**
 * KEYS: the passkey hash. ARGV: counter, backedUp (0|1), at.
 * Records the use when the passkey exists and the counter grows (or both are 0). Returns 1 when
 * recorded, 0 otherwise.
 */
export const usePasskey = defineScript(
  'usePasskey',
  1,
  `
local use = redis.call('HGET', KEYS[1], 'u')
if not use then return 0 end
local stored = tonumber(string.match(use, '^([^,]*),'))
local counter = tonumber(ARGV[1])
if counter > stored or (counter == 0 and stored == 0) then
  redis.call('HSET', KEYS[1], 'u', ARGV[1] .. ',' .. ARGV[2] .. ',' .. ARGV[3])
  return 1
end
return 0
`,
);

/**
 * KEYS: the passkey hash. ARGV: userId, name.
 * Renames the passkey when it belongs to the user. Returns 1 when renamed, 0 otherwise.
 */
export const renamePasskey = defineScript(
  'renamePasskey',
  1,
  `
if redis.call('HGET', KEYS[1], 'o') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'n', ARGV[2])
return 1
`,
);

/**
 * KEYS: the passkey hash. ARGV: userId.
 * Deletes the passkey when it belongs to the user. Returns 1 when deleted, 0 otherwise.
 */
export const deletePasskey = defineScript(
  'deletePasskey',
  1,
  `
if redis.call('HGET', KEYS[1], 'o') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`,
);
