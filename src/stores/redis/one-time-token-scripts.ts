/**
 * The Lua scripts of one-time tokens (rules shared by every script: `./lua.ts`).
 *
 * A token is one string under its own tag, `P:{ot:<id>}`: the JSON array
 * `[purpose, subject, data, createdAt, expiresAt]`. Every step that removes a token is one
 * script on that one key, so that exactly one of any number of concurrent consumers, deleters
 * and sweepers removes it (and only that one returns or counts it). The indexes that point to
 * it (its subject's set, the sweep set) live in other slots and are updated around the script.
 *
 * Expiry is the same rule as everywhere in the store: a token is expired at `now` when
 * `expiresAt <= now`.
 */

import { defineScript, EXTEND_TTL } from './lua.js';

/**
 * KEYS: the index of a subject's tokens of one purpose. ARGV: id, gcTtlMs.
 * Adds the id and extends the set's GC TTL to at least gcTtlMs. Returns 1.
 */
export const indexOneTimeToken = defineScript(
  'indexOneTimeToken',
  1,
  `${EXTEND_TTL}
redis.call('SADD', KEYS[1], ARGV[1])
extend_ttl(KEYS[1], ARGV[2])
return 1
`,
);

/**
 * KEYS: token. ARGV: purpose, now.
 * Deletes and returns the stored value when the token exists, has this purpose and has not
 * expired at `now`; returns nil otherwise, and then deletes nothing.
 */
export const consumeOneTimeToken = defineScript(
  'consumeOneTimeToken',
  1,
  `
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local token = cjson.decode(raw)
if token[1] ~= ARGV[1] or token[5] <= tonumber(ARGV[2]) then return false end
redis.call('DEL', KEYS[1])
return raw
`,
);

/**
 * KEYS: token. ARGV: subject, purpose.
 * Deletes the token if it belongs to this subject and purpose, expired or not. Returns 1 when
 * deleted, 0 when missing, -1 when it belongs to another subject or purpose (nothing deleted).
 */
export const deleteOneTimeToken = defineScript(
  'deleteOneTimeToken',
  1,
  `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local token = cjson.decode(raw)
if token[2] ~= ARGV[1] or token[1] ~= ARGV[2] then return -1 end
redis.call('DEL', KEYS[1])
return 1
`,
);

/**
 * KEYS: token. ARGV: now.
 * Deletes the token when it expired at or before `now`. Returns {0} when missing, {1, value}
 * when deleted, {2, value} when still live (the sweep index held a stale score). The value is
 * returned as stored, so that the caller reads `expiresAt` exactly (Lua would round it).
 */
export const sweepOneTimeToken = defineScript(
  'sweepOneTimeToken',
  1,
  `
local raw = redis.call('GET', KEYS[1])
if not raw then return {0} end
if cjson.decode(raw)[5] > tonumber(ARGV[1]) then return {2, raw} end
redis.call('DEL', KEYS[1])
return {1, raw}
`,
);
