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
import { malformed, replyArray } from './codec.js';
import type { RedisContext } from './context.js';
import { defineScript } from './lua.js';
import { getSession as getSessionRecord, parseSession } from './sessions.js';
import { rememberUserAgent } from './user-agents.js';
import { decodeUser, getUserById as getUserRecord } from './users.js';

/**
 * KEYS: session. ARGV: the user key before its id (`<prefix>:{u:`), the user-agent key before
 * its reference (`<prefix>:{ua:`).
 * Returns nil when the session is missing, else `{session value, HGETALL of its user, user
 * agent}` (an empty array when the user is gone; the user agent is false unless the session
 * names one by reference, `./user-agents.ts`, and its key is there). The user id is escaped as
 * `./keys.ts` `tagged` does (a reference is base64url: nothing to escape).
 */
export const getSessionWithUserScript = defineScript(
  'getSessionWithUser',
  1,
  `
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local session = cjson.decode(string.match(raw, '|(.*)$'))
local escaped = (string.gsub(session[1], '[%%{}]', { ['%'] = '%25', ['{'] = '%7B', ['}'] = '%7D' }))
local agent = false
if type(session[6]) == 'table' then agent = redis.call('GET', ARGV[2] .. session[6][1] .. '}') end
return { raw, redis.call('HGETALL', ARGV[1] .. escaped .. '}:user'), agent }
`,
);

function toHash(flat: unknown[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i];
    const value = flat[i + 1];
    if (typeof name !== 'string' || typeof value !== 'string') throw malformed('user');
    hash[name] = value;
  }
  return hash;
}

/** The session `id` and its user (see above); null when the session is missing. */
export async function getSessionWithUser(context: RedisContext, id: string): Promise<SessionWithUser | null> {
  const { client, keys } = context;
  if (client.isCluster) {
    const session = await getSessionRecord(context, id);
    return session === null ? null : { session, user: await getUserRecord(context, session.userId) };
  }
  const userKey = keys.user('');
  const agentKey = keys.userAgent('');
  const reply = await context.runScript(
    getSessionWithUserScript,
    [keys.session(id)],
    [userKey.slice(0, userKey.length - '}:user'.length), agentKey.slice(0, agentKey.length - 1)],
  );
  if (reply === null) return null;
  const [raw, user, agent] = replyArray(reply, 'session and user');
  if (typeof raw !== 'string') throw malformed('session');
  const { session, userAgentRef } = parseSession(id, raw);
  if (userAgentRef !== null) {
    if (typeof agent === 'string') rememberUserAgent(context, userAgentRef, agent);
    session.userAgent = typeof agent === 'string' ? agent : null;
  }
  return { session, user: decodeUser(toHash(replyArray(user, 'user'))) };
}
