/**
 * What the Lua scripts of the Redis store share: how a script is defined, and the Lua helpers
 * that several scripts include. The scripts themselves live next to their record kind
 * (`./session-scripts.ts`, `./refresh-token-scripts.ts`, ...); `./scripts.ts` lists them all.
 *
 * Rules that every script follows (see the key layout in `./index.ts`):
 * - it touches only the keys passed in `KEYS`, and those keys share one hash tag, so that a
 *   script runs on one Redis Cluster slot;
 * - it never formats a timestamp: numbers come in as decimal strings in `ARGV` and are stored
 *   as given (Lua numbers print with 14 significant digits), and are only parsed to compare;
 * - it never reads Redis's clock: `now` is always an argument.
 */

import { createHash } from 'node:crypto';

/** A Lua script and its SHA-1, for EVALSHA (with EVAL as the fallback on NOSCRIPT). */
export interface RedisScript {
  readonly name: string;
  readonly lua: string;
  readonly sha: string;
  /** How many of the arguments are keys (all of which must share one hash slot). */
  readonly keyCount: number;
}

/**
 * Defines a script: trims its body and computes the SHA-1 that EVALSHA names it by.
 *
 * @example
 * export const getValue = defineScript('getValue', 1, `return redis.call('GET', KEYS[1])`);
 */
export function defineScript(name: string, keyCount: number, lua: string): RedisScript {
  const body = lua.trim();
  return { name, keyCount, lua: body, sha: createHash('sha1').update(body).digest('hex') };
}

/**
 * Lua: `extend_ttl(key, ttl)` extends a key's TTL (garbage collection only) to at least `ttl`
 * ms; it never shortens it. A key without a TTL (PTTL -1) gets one.
 */
export const EXTEND_TTL = `
local function extend_ttl(key, ttl)
  if redis.call('PTTL', key) < tonumber(ttl) then redis.call('PEXPIRE', key, ttl) end
end
`;
