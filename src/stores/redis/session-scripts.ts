/**
 * The Lua scripts of sessions (rules shared by every script: `./lua.ts`).
 *
 * A session is stored as one string, `<lastSeenAt>,<idleExpiresAt>,<revokedAt>[,<tokens>]|<json>`,
 * where the header holds the fields that change (`revokedAt` empty while null; `<tokens>`, the
 * session's refresh tokens when they are folded into it, `./refresh-token-scripts.ts`) and `<json>` is the
 * array `[userId, secretHash, mode, createdAt, absoluteExpiresAt, userAgent, ip, persistent, amr, authTime, acr]` of the fields
 * that never do; touch and revoke rewrite the header and copy the JSON untouched.
 *
 * Session liveness: the rule is `isSessionLive` in `src/records.ts` (not revoked, and `now`
 * before both expiries). Scripts cannot call it, so they keep its Lua form: touch and revoke
 * treat a non-empty `revokedAt` as final, and the sweep deletes a session once `now` reaches
 * the earliest of its idle expiry, absolute expiry and revocation time. Keep them in step with
 * `isSessionLive`.
 */

import { defineScript, EXTEND_TTL } from './lua.js';

/**
 * Lua: `parse_session(raw)` splits a session value into its header fields (lastSeenAt,
 * idleExpiresAt, revokedAt, and the refresh tokens folded into it, '' when none: see
 * `./refresh-token-scripts.ts`) and its immutable JSON; `session_value(...)` joins them again.
 */
export const PARSE_SESSION = `
local function parse_session(raw)
  return string.match(raw, '^([^,|]*),([^,|]*),([^,|]*),?([^|]*)|(.*)$')
end
local function session_value(last_seen, idle, revoked, tokens, json)
  local head = last_seen .. ',' .. idle .. ',' .. revoked
  if tokens ~= '' then head = head .. ',' .. tokens end
  return head .. '|' .. json
end
`;

/**
 * KEYS: session. ARGV: lastSeenAt, idleExpiresAt, gcTtlMs.
 * Returns 1 when touched, 0 when the session is missing or revoked.
 */
export const touchSession = defineScript(
  'touchSession',
  1,
  `${PARSE_SESSION}${EXTEND_TTL}
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local _, _, revoked, tokens, json = parse_session(raw)
if revoked ~= '' then return 0 end
redis.call('SET', KEYS[1], session_value(ARGV[1], ARGV[2], '', tokens, json), 'KEEPTTL')
extend_ttl(KEYS[1], ARGV[3])
return 1
`,
);

/**
 * KEYS: session. ARGV: at, checkUser ('1' or '0'), userId.
 * Sets `revokedAt` if it is empty (and, with checkUser, if the session belongs to userId).
 * Returns 1 for the call that revoked it, 0 otherwise.
 */
export const revokeSession = defineScript(
  'revokeSession',
  1,
  `${PARSE_SESSION}
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local last_seen, idle, revoked, tokens, json = parse_session(raw)
if revoked ~= '' then return 0 end
if ARGV[2] == '1' and cjson.decode(json)[1] ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], session_value(last_seen, idle, ARGV[1], tokens, json), 'KEEPTTL')
return 1
`,
);

/**
 * KEYS: session, the session's refresh-token hash. ARGV: now.
 * Deletes the session and its refresh tokens (its hash, or folded into it) when it expired or was revoked at or before `now`
 * (the Lua form of `isSessionLive` in `src/records.ts`, with the revocation time as one more
 * expiry: see the module comment).
 * Returns {0} when the session is missing, {1, userId, {refreshTokenIds...}} when deleted,
 * {2, dueAt} when it is still live (the sweep index held a stale score).
 */
export const sweepSession = defineScript(
  'sweepSession',
  2,
  `${PARSE_SESSION}
local raw = redis.call('GET', KEYS[1])
if not raw then return {0} end
local _, idle, revoked, tokens, json = parse_session(raw)
local session = cjson.decode(json)
local due = math.min(tonumber(idle), session[5])
if revoked ~= '' then due = math.min(due, tonumber(revoked)) end
if due > tonumber(ARGV[1]) then return {2, due} end
local ids = {}
for _, field in ipairs(redis.call('HKEYS', KEYS[2])) do
  if string.sub(field, 1, 2) == 't:' then ids[#ids + 1] = string.sub(field, 3) end
end
for id in string.gmatch(tokens, '([^:;]+):[^;]*') do ids[#ids + 1] = id end
redis.call('UNLINK', KEYS[1], KEYS[2])
return {1, session[1], ids}
`,
);
