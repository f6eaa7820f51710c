/**
 * One-time tokens in Redis.
 *
 * | key                            | type   | holds                                                   |
 * | ------------------------------ | ------ | ------------------------------------------------------- |
 * | `P:{ot:<id>}`                  | string | `[purpose, subject, data, createdAt, expiresAt]` (JSON) |
 * | `P:{ots:<subject>}:<purpose>`  | set    | the ids of the subject's tokens for this purpose         |
 * | `P:{sweep}:one-time-tokens`    | zset   | token ids scored by `expiresAt`, for the expiry sweep    |
 *
 * Each token has its own slot, and every step that removes one is a script on that one key
 * (`./one-time-token-scripts.ts`): of any number of concurrent consumers, deleters and
 * sweepers, exactly one removes it, and only that one returns or counts it. `SET NX` on the
 * token's key is what makes the id unique. The two indexes live in other slots, so, as
 * everywhere in this store, they are written before the record they point to, and readers
 * check what an entry points to: `deleteOneTimeTokens` deletes a token only if the script finds
 * it filed under that subject and purpose, and the sweep only if it has expired.
 *
 * Index entries are removed, best effort, by whoever removed the token (the token itself is
 * the truth: a consumer that got the record gets it even if that cleanup fails). The leftovers
 * are harmless: a sweep entry whose token is missing is dropped by the sweep; a subject entry
 * whose token is missing is skipped (it may be a put in progress, so it is kept) until the set's
 * GC TTL drops it; a subject entry written by a put that was refused as a duplicate points to a
 * token of another subject or purpose, and is dropped by `deleteOneTimeTokens`. These rules
 * assume what the core guarantees: an id (the hash of a random secret) never comes back.
 *
 * Redis TTLs are only garbage collection, relative and computed from the token's own lifetime
 * plus a day (`gcTTL(expiresAt - createdAt)`), never from the wall clock: the token's key gets
 * it on `SET`, the subject's set is extended to at least it on every put, and the sweep set has
 * none (like the session sweep set).
 */

import type { OneTimeTokenRecord } from '../../records.js';
import type { OneTimeTokenStore } from '../../store.js';
import { malformed, parseTuple, replyArray } from './codec.js';
import { duplicate, gcTTL, mapInChunks, sweepDue, type RedisContext } from './context.js';
import {
  consumeOneTimeToken as consumeScript,
  deleteOneTimeToken as deleteScript,
  indexOneTimeToken as indexScript,
  sweepOneTimeToken as sweepScript,
} from './one-time-token-scripts.js';

const WHAT = 'one-time token';

/** A JSON array: field names would be most of a small record, and the scripts read it by position. */
function encodeOneTimeToken(token: OneTimeTokenRecord): string {
  return JSON.stringify([token.purpose, token.subject, token.data, token.createdAt, token.expiresAt]);
}

function decodeOneTimeToken(id: string, raw: unknown): OneTimeTokenRecord {
  if (typeof raw !== 'string') throw malformed(WHAT);
  const [purpose, subject, data, createdAt, expiresAt] = parseTuple(raw, 5, WHAT);
  if (
    typeof purpose !== 'string' ||
    typeof subject !== 'string' ||
    (data !== null && typeof data !== 'string') ||
    typeof createdAt !== 'number' ||
    typeof expiresAt !== 'number'
  ) {
    throw malformed(WHAT);
  }
  return { id, purpose, subject, data, createdAt, expiresAt };
}

/** Drops the index entries of a token that this call removed; best effort (see the module comment). */
async function dropIndexEntries(
  { client, keys }: RedisContext,
  token: Pick<OneTimeTokenRecord, 'id' | 'subject' | 'purpose'>,
): Promise<void> {
  await Promise.allSettled([
    client.srem(keys.oneTimeTokensOf(token.subject, token.purpose), token.id),
    client.zrem(keys.oneTimeTokenSweep, token.id),
  ]);
}

export async function putOneTimeToken(context: RedisContext, token: OneTimeTokenRecord): Promise<void> {
  const { client, keys } = context;
  const ttl = gcTTL(token.expiresAt - token.createdAt);
  // The indexes first, then the token. The sweep score only goes down (ZADD LT): a duplicate
  // that expires earlier makes the sweep look early and re-score, never look late.
  await Promise.all([
    context.runScript(indexScript, [keys.oneTimeTokensOf(token.subject, token.purpose)], [token.id, ttl]),
    client.zadd(keys.oneTimeTokenSweep, 'LT', token.expiresAt, token.id),
  ]);
  const stored = await client.set(keys.oneTimeToken(token.id), encodeOneTimeToken(token), 'PX', ttl, 'NX');
  if (stored === null) throw duplicate(WHAT);
}

async function consumeOneTimeToken(
  context: RedisContext,
  id: string,
  purpose: string,
  now: number,
): Promise<OneTimeTokenRecord | null> {
  const raw = await context.runScript(consumeScript, [context.keys.oneTimeToken(id)], [purpose, now]);
  if (raw === null) return null;
  const token = decodeOneTimeToken(id, raw);
  await dropIndexEntries(context, token);
  return token;
}

export async function deleteOneTimeTokens(
  context: RedisContext,
  subject: string,
  purpose: string,
): Promise<number> {
  const { client, keys } = context;
  const indexKey = keys.oneTimeTokensOf(subject, purpose);
  const ids = await client.smembers(indexKey);
  const outcomes = await mapInChunks(ids, (id) =>
    context.runScript(deleteScript, [keys.oneTimeToken(id)], [subject, purpose]),
  );
  const deleted = ids.filter((_, i) => outcomes[i] === 1);
  // -1: the entry points to a token of another subject or purpose (a refused duplicate put).
  const foreign = ids.filter((_, i) => outcomes[i] === -1);
  const cleanup: Promise<number>[] = [];
  if (deleted.length + foreign.length > 0) cleanup.push(client.srem(indexKey, ...deleted, ...foreign));
  if (deleted.length > 0) cleanup.push(client.zrem(keys.oneTimeTokenSweep, ...deleted));
  await Promise.allSettled(cleanup);
  return deleted.length;
}

/**
 * Counts the live tokens filed under a subject and purpose: each entry's token is read (one
 * `GET` each: the tokens live in other slots) and counted only when it is still there, is of
 * this subject and purpose, and has not expired.
 */
async function countOneTimeTokens(
  context: RedisContext,
  subject: string,
  purpose: string,
  now: number,
): Promise<number> {
  const { client, keys } = context;
  const ids = await client.smembers(keys.oneTimeTokensOf(subject, purpose));
  const raws = await mapInChunks(ids, (id) => client.get(keys.oneTimeToken(id)));
  return ids.filter((id, i) => {
    const raw = raws[i];
    if (raw === null || raw === undefined) return false;
    const token = decodeOneTimeToken(id, raw);
    return token.subject === subject && token.purpose === purpose && token.expiresAt > now;
  }).length;
}

/** Sweeps one token that the sweep index says is due; true when this call deleted it. */
async function sweepOne(context: RedisContext, id: string, now: number): Promise<boolean> {
  const { client, keys } = context;
  const what = 'one-time token sweep reply';
  const [code, raw] = replyArray(await context.runScript(sweepScript, [keys.oneTimeToken(id)], [now]), what);
  if (code === 0) {
    await client.zrem(keys.oneTimeTokenSweep, id);
    return false;
  }
  if (code === 2) {
    await client.zadd(keys.oneTimeTokenSweep, decodeOneTimeToken(id, raw).expiresAt, id);
    return false;
  }
  if (code !== 1) throw malformed(what);
  await dropIndexEntries(context, decodeOneTimeToken(id, raw));
  return true;
}

function deleteExpiredOneTimeTokens(context: RedisContext, now: number): Promise<number> {
  return sweepDue(context, context.keys.oneTimeTokenSweep, now, (id) => sweepOne(context, id, now));
}

/**
 * The one-time-token operations of one Redis store.
 *
 * @example
 * const tokens = createRedisOneTimeTokens(context);
 * await tokens.putOneTimeToken(record);
 * await tokens.consumeOneTimeToken(record.id, record.purpose, now); // the record, once
 */
export function createRedisOneTimeTokens(context: RedisContext): OneTimeTokenStore {
  const { run } = context;
  return {
    putOneTimeToken: (token) => run(() => putOneTimeToken(context, token)),
    consumeOneTimeToken: (id, purpose, now) => run(() => consumeOneTimeToken(context, id, purpose, now)),
    deleteOneTimeTokens: (subject, purpose) => run(() => deleteOneTimeTokens(context, subject, purpose)),
    countOneTimeTokens: (subject, purpose, now) =>
      run(() => countOneTimeTokens(context, subject, purpose, now)),
    deleteExpiredOneTimeTokens: (now) => run(() => deleteExpiredOneTimeTokens(context, now)),
  };
}
