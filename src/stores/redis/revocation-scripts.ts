/**
 * The Lua scripts of revocations (rules shared by every script: `./lua.ts`). The seq, the log
 * and the expiry index share the `{rev}` tag, so that assigning a seq and storing the record
 * are one step.
 */

import { defineScript } from './lua.js';

/**
 * KEYS: seq, log, expiry index. ARGV: record JSON without seq (starts with '{' and has at least
 * one member), expiresAt, initial seq (used only when the seq key is missing).
 * Returns the new seq.
 */
export const addRevocation = defineScript(
  'addRevocation',
  3,
  `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[3]) end
local seq = string.format('%d', redis.call('INCR', KEYS[1]))
redis.call('ZADD', KEYS[2], seq, '{"seq":' .. seq .. ',' .. string.sub(ARGV[1], 2))
redis.call('ZADD', KEYS[3], ARGV[2], seq)
return seq
`,
);

/**
 * KEYS: log. ARGV: min score ('-inf' or '(<afterSeq>'), now, limit (negative for no limit).
 * Returns the JSON of the records not expired at `now`, in seq order.
 */
export const listRevocations = defineScript(
  'listRevocations',
  1,
  `
local min, now, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
while true do
  local batch = redis.call('ZRANGEBYSCORE', KEYS[1], min, '+inf', 'WITHSCORES', 'LIMIT', 0, 256)
  for i = 1, #batch, 2 do
    if cjson.decode(batch[i]).expiresAt > now then
      out[#out + 1] = batch[i]
      if limit >= 0 and #out >= limit then return out end
    end
  end
  if #batch < 512 then return out end
  min = '(' .. batch[#batch]
end
`,
);

/**
 * KEYS: log, expiry index. ARGV: now, batch size.
 * Deletes up to `batch size` records expired at `now`; returns how many.
 */
export const deleteExpiredRevocations = defineScript(
  'deleteExpiredRevocations',
  2,
  `
local seqs = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, seq in ipairs(seqs) do
  redis.call('ZREMRANGEBYSCORE', KEYS[1], seq, seq)
  redis.call('ZREM', KEYS[2], seq)
end
return #seqs
`,
);
