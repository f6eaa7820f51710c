/**
 * User agents stored once per distinct string: a session keeps a reference (`["<ref>"]` in the
 * user-agent slot of its JSON, see `./sessions.ts`) to `P:{ua:<ref>}`, which holds the string.
 * A browser's user agent is about 120 bytes, a third of a session's record, and most sessions of
 * a deployment share a few hundred distinct ones.
 *
 * - `<ref>` is 12 base64url characters (72 bits) of the string's SHA-256. The key is written
 *   with `SET NX GET` before the session: a key already holding another string (a collision)
 *   makes the session keep its user agent inline, so a reference always names its own string.
 * - The key lives as long as the longest session that names it can: its TTL is raised (never
 *   lowered) to the session's absolute life plus the GC margin at each session written.
 * - The strings never change under a reference, so each process keeps those it has read in a
 *   bounded map (`RedisContext.userAgents`): reading a session costs no extra command once its
 *   user agent is known. A reference whose key is gone (a Redis that evicts) reads as null.
 * - Short user agents (up to {@link INLINE_MAX} characters) stay inline: a reference would not
 *   be smaller.
 */

import { createHash } from 'node:crypto';
import { gcTTL, mapInChunks, type RedisContext } from './context.js';

/** User agents up to this length stay in the session's own record. */
const INLINE_MAX = 24;
/** Entries of a process's map of user agents; it is cleared when full (they are re-read). */
const CACHE_MAX = 10_000;

/** The reference of a user agent: 12 base64url characters of its SHA-256. */
export function userAgentRef(userAgent: string): string {
  return createHash('sha256').update(userAgent).digest('base64url').slice(0, 12);
}

/** Remembers a string read from (or written to) its key. */
export function rememberUserAgent(context: RedisContext, ref: string, userAgent: string): void {
  if (context.userAgents.size >= CACHE_MAX) context.userAgents.clear();
  context.userAgents.set(ref, userAgent);
}

/**
 * Stores a session's user agent in its shared key when that pays; returns what the session's
 * JSON holds in its user-agent slot: the string itself, `[ref]`, or null.
 *
 * @example
 * const slot = await storeUserAgent(context, session.userAgent, session.absoluteExpiresAt - session.createdAt);
 */
export async function storeUserAgent(
  context: RedisContext,
  userAgent: string | null,
  lifeMs: number,
): Promise<string | [string] | null> {
  if (userAgent === null || userAgent.length <= INLINE_MAX) return userAgent;
  const { client, keys } = context;
  const ref = userAgentRef(userAgent);
  const key = keys.userAgent(ref);
  const ttl = gcTTL(lifeMs);
  // One round trip: create it, or raise its TTL (only ever raised: harmless on a key that turns
  // out to hold another string), and learn whether it holds ours.
  const [held] = await Promise.all([
    client.call('SET', key, userAgent, 'NX', 'GET', 'PX', ttl) as Promise<string | null>,
    client.pexpire(key, ttl, 'GT'),
  ]);
  if (held !== null && held !== userAgent) return userAgent;
  rememberUserAgent(context, ref, userAgent);
  return [ref];
}

/**
 * The user agents of `refs` (a map from each to its string, or null when its key is gone): from
 * the process's map, else one GET per missing reference.
 */
export async function readUserAgents(
  context: RedisContext,
  refs: readonly string[],
): Promise<Map<string, string | null>> {
  const found = new Map<string, string | null>();
  const missing: string[] = [];
  for (const ref of new Set(refs)) {
    const known = context.userAgents.get(ref);
    if (known === undefined) missing.push(ref);
    else found.set(ref, known);
  }
  const read = await mapInChunks(missing, (ref) => context.client.get(context.keys.userAgent(ref)));
  missing.forEach((ref, i) => {
    const userAgent = read[i] ?? null;
    if (userAgent !== null) rememberUserAgent(context, ref, userAgent);
    found.set(ref, userAgent);
  });
  return found;
}
