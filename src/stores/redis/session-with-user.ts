/**
 * A session and its user in one round trip: what every cookie-authenticated request reads.
 *
 * On a standalone Redis it is one script, and the one exception to the rules of `./lua.ts`: it
 * declares only the session's key, and reads the user's hash at a key it builds from the
 * session (the user id is only known once the session is read, and lives in the user's slot).
 * Standalone Redis allows that; a Redis Cluster does not (the user may live on another node), so
 * on a Cluster client it is two commands, the session then its user, as before.
 */

import type { SessionWithUser } from '../../store.js';
import { malformed } from './codec.js';
import type { RedisContext } from './context.js';
import { defineScript } from './lua.js';
import { getSession as getSessionRecord, parseSession } from './sessions.js';
import { rememberUserAgent } from './user-agents.js';
import { decodeUserValues, getUserById as getUserRecord, USER_FIELDS } from './users.js';

/** Where the session's value and its user agent sit in the script's reply, after the user's fields. */
const RAW = USER_FIELDS.length;
const AGENT = RAW + 1;

/**
 * KEYS: session (`<prefix>:{s:<id>}:session`; the prefix has no `{`, so the user's and the user
 * agent's keys are built from what precedes the first `{`).
 * Returns nil when the session is missing, else one JSON array (cjson: one bulk string costs the
 * client much less than an array reply, each element of which it turns into a string): the
 * values of `USER_FIELDS` (HMGET: all false when the user is gone), the session's value, and its
 * user agent (false unless the session names one by reference, `./user-agents.ts`, and its key
 * is there).
 *
 * The user id and the user-agent reference are found with plain searches in the JSON written by
 * `./sessions.ts` (`JSON.stringify`, no whitespace): the id is the first string when it holds no
 * escape; a reference is the only nested array (`,["<ref>"],`; a `,["` that is not one is the end
 * of a string and is followed by `,` or `]`, which the check refuses). Any other layout is decoded
 * with cjson as before. The id is escaped as `./keys.ts` `tagged` does (a reference is base64url).
 */
export const getSessionWithUserScript = defineScript(
  'getSessionWithUser',
  1,
  `
local key = KEYS[1]
local raw = redis.call('GET', key)
if not raw then return false end
local base = string.sub(key, 1, string.find(key, '{', 1, true))
local bar = string.find(raw, '|', 1, true)
local id, ref
if bar and string.sub(raw, bar + 1, bar + 2) == '["' then
  local close = string.find(raw, '"', bar + 3, true)
  if close then
    id = string.sub(raw, bar + 3, close - 1)
    if string.find(id, '\\\\', 1, true) then
      id = nil
    else
      local at = string.find(raw, ',["', close, true)
      if at then
        ref = string.match(raw, '^([%w_-]+)"%],', at + 3)
        if not ref then id = nil end
      end
    end
  end
end
if not id then
  local session = cjson.decode(string.match(raw, '|(.*)$'))
  id = session[1]
  ref = nil
  if type(session[6]) == 'table' then ref = session[6][1] end
end
if string.find(id, '%', 1, true) or string.find(id, '{', 1, true) or string.find(id, '}', 1, true) then
  id = string.gsub(id, '[%%{}]', { ['%'] = '%25', ['{'] = '%7B', ['}'] = '%7D' })
end
local reply = redis.call('HMGET', base .. 'u:' .. id .. '}:user', ${USER_FIELDS.map((field) => `'${field}'`).join(', ')})
reply[${RAW + 1}] = raw
reply[${AGENT + 1}] = false
if ref then reply[${AGENT + 1}] = redis.call('GET', base .. 'ua:' .. ref .. '}') end
return cjson.encode(reply)
`,
);

/** The session `id` and its user from the script's reply (see above). */
function decodeReply(context: RedisContext, id: string, reply: unknown): SessionWithUser | null {
  if (reply === null) return null;
  if (typeof reply !== 'string') throw malformed('session and user');
  let values: unknown;
  try {
    values = JSON.parse(reply);
  } catch {
    throw malformed('session and user');
  }
  if (!Array.isArray(values) || values.length !== AGENT + 1) throw malformed('session and user');
  const raw: unknown = values[RAW];
  if (typeof raw !== 'string') throw malformed('session');
  const { session, userAgentRef } = parseSession(id, raw);
  if (userAgentRef !== null) {
    const agent: unknown = values[AGENT];
    if (typeof agent === 'string') rememberUserAgent(context, userAgentRef, agent);
    session.userAgent = typeof agent === 'string' ? agent : null;
  }
  return { session, user: decodeUserValues(values) };
}

/**
 * The session `id` and its user (see above); null when the session is missing. On a Cluster, two
 * commands (the user lives in another slot). `run` and `runScript` are single promise chains, so
 * this is one chain on the EVALSHA with their error mapping and NOSCRIPT fallback.
 */
export function getSessionWithUser(context: RedisContext, id: string): Promise<SessionWithUser | null> {
  if (context.client.isCluster) {
    return context.run(async () => {
      const session = await getSessionRecord(context, id);
      return session === null ? null : { session, user: await getUserRecord(context, session.userId) };
    });
  }
  return context.run(() =>
    context
      .runScript(getSessionWithUserScript, [context.keys.session(id)], [])
      .then((reply) => decodeReply(context, id, reply)),
  );
}
