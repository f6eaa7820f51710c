/**
 * The Lua scripts of webhook deliveries (rules shared by every script: `./lua.ts`). Every key of
 * the webhooks carries the `{wh}` tag, so each script runs on one slot.
 *
 * A delivery is a hash: `r` the immutable part (JSON `[endpointId, event, payload, createdAt]`),
 * `x` expiresAt, `s` status, `a` attempts, `n` nextAttemptAt, `c` claimedBy, `t` settledAt,
 * `h` the last answer's HTTP status, `e` lastError (empty strings for null).
 */

import { defineScript } from './lua.js';

/**
 * KEYS: delivery, due, of (the endpoint's listing). ARGV: id, r, x, s, a, n, createdAt.
 * Stores the delivery unless its id exists. Returns 1 when stored, 0 for a duplicate id.
 */
export const queueWebhookDelivery = defineScript(
  'queueWebhookDelivery',
  3,
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'r', ARGV[2], 'x', ARGV[3], 's', ARGV[4], 'a', ARGV[5], 'n', ARGV[6], 'c', '', 't', '', 'h', '', 'e', '')
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[7], ARGV[1])
return 1
`,
);

/**
 * KEYS: delivery, due. ARGV: id, now, leaseEnd, claimant.
 * Claims the delivery when it is queued and due at `now` (as `claimMail`). Returns 1 or 0.
 */
export const claimWebhookDelivery = defineScript(
  'claimWebhookDelivery',
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
 * KEYS: delivery, due, exp. ARGV: id, claimant, status, at, responseStatus, error.
 * Settles a delivery that `claimant` holds: `queued` again for `at`, or `delivered` / `failed`
 * at `at` (then filed for the sweep). An empty error keeps the last one. Returns 1, or 0 when
 * the claim was lost.
 */
export const settleWebhookDelivery = defineScript(
  'settleWebhookDelivery',
  3,
  `
local state = redis.call('HMGET', KEYS[1], 's', 'c', 'x')
if state[1] ~= 'queued' or state[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'h', ARGV[5], 'c', '')
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'e', ARGV[6]) end
if ARGV[3] == 'queued' then
  redis.call('HSET', KEYS[1], 'n', ARGV[4])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
  return 1
end
redis.call('HSET', KEYS[1], 's', ARGV[3], 't', ARGV[4])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], state[3], ARGV[1])
return 1
`,
);

/**
 * KEYS: delivery, exp, of. ARGV: id, now.
 * Deletes a settled delivery whose expiry is at or before `now`. Returns 1 when deleted.
 */
export const sweepWebhookDelivery = defineScript(
  'sweepWebhookDelivery',
  3,
  `
local state = redis.call('HMGET', KEYS[1], 's', 'x')
if not state[1] then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
if state[1] == 'queued' or tonumber(state[2]) > tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`,
);
