/**
 * The Lua scripts of the mail outbox (rules shared by every script: `./lua.ts`). Every key of
 * the outbox carries the `{mail}` tag, so each script runs on one slot.
 *
 * A mail is a hash: `r` the immutable part (JSON `[kind, to, message, createdAt]`), `x`
 * expiresAt, `s` status, `a` attempts, `n` nextAttemptAt, `c` claimedBy, `t` settledAt,
 * `e` lastError (empty strings for null).
 */

import { defineScript } from './lua.js';

/**
 * KEYS: mail, due, all. ARGV: id, r, x, s, a, n, createdAt.
 * Stores the mail unless its id exists. Returns 1 when stored, 0 for a duplicate id.
 */
export const queueMail = defineScript(
  'queueMail',
  3,
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'r', ARGV[2], 'x', ARGV[3], 's', ARGV[4], 'a', ARGV[5], 'n', ARGV[6], 'c', '', 't', '', 'e', '')
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[7], ARGV[1])
return 1
`,
);

/**
 * KEYS: mail, due. ARGV: id, now, leaseEnd, claimant.
 * Claims the mail when it is queued and due at `now`: sets the claimant, moves `n` (and its
 * score) to the end of the lease, adds one attempt. Returns 1 when claimed, 0 otherwise.
 */
export const claimMail = defineScript(
  'claimMail',
  2,
  `
local state = redis.call('HMGET', KEYS[1], 's', 'n')
if state[1] ~= 'queued' or tonumber(state[2]) > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'c', ARGV[4], 'n', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'a', 1)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
`,
);

/**
 * KEYS: mail, due, exp. ARGV: id, claimant, status, at, error.
 * Settles a mail that `claimant` holds: `queued` again for `at` (with the error), or `sent` /
 * `failed` at `at` (then filed for the sweep under its expiry). Returns 1, or 0 when the claim
 * was lost.
 */
export const settleMail = defineScript(
  'settleMail',
  3,
  `
local state = redis.call('HMGET', KEYS[1], 's', 'c', 'x')
if state[1] ~= 'queued' or state[2] ~= ARGV[2] then return 0 end
if ARGV[3] == 'queued' then
  redis.call('HSET', KEYS[1], 'n', ARGV[4], 'e', ARGV[5], 'c', '')
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
  return 1
end
redis.call('HSET', KEYS[1], 's', ARGV[3], 't', ARGV[4], 'c', '')
if ARGV[3] == 'failed' then redis.call('HSET', KEYS[1], 'e', ARGV[5]) end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], state[3], ARGV[1])
return 1
`,
);

/**
 * KEYS: mail, exp, all. ARGV: id, now.
 * Deletes a settled mail whose expiry is at or before `now`. Returns 1 when deleted.
 */
export const sweepMail = defineScript(
  'sweepMail',
  3,
  `
local state = redis.call('HMGET', KEYS[1], 's', 'x')
if not state[1] then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  return 0
end
if state[1] == 'queued' or tonumber(state[2]) > tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`,
);
