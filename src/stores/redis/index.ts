/**
 * The Redis store (`kind: 'redis'`): standalone Redis or Redis Cluster, through ioredis.
 *
 * ## Key layout (`P` is the prefix, `latchkey` by default)
 *
 * Every key carries a hash tag (`{...}`), and the keys that one Lua script touches share it, so
 * that every script runs on one Cluster slot. Inside a tag, ids are escaped (`%` → `%25`,
 * `{` → `%7B`, `}` → `%7D`) so that the tag always ends where the layout says.
 *
 * | key                        | type   | holds                                                     |
 * | -------------------------- | ------ | --------------------------------------------------------- |
 * | `P:{s:<sid>}:session`      | string | `<lastSeenAt>,<idleExpiresAt>,<revokedAt>[,<tokens>]\|<json>` (1) |
 * | `P:{s:<sid>}:rt`           | hash   | a session's refresh tokens when not folded in its value, 2 or 3 fields each (3) |
 * | `P:{rti:<n>}`              | hash   | refresh token id → session id, bucket `n` of 16 384 (immutable index) (3) |
 * | `P:{rt:<id>}`              | string | the same, one key per token, from earlier versions (read, not written) |
 * | `P:{ua:<ref>}`             | string | a user agent that sessions name by reference (5)          |
 * | `P:{u:<uid>}:sessions`     | zset   | the user's session ids, scored by `createdAt`             |
 * | `P:{u:<uid>}:user`         | hash   | the user (`roles` as a JSON array)                        |
 * | `P:{e:<email>}`            | string | the id of the user with this email (uniqueness claim)     |
 * | `P:{users}:by-email`       | zset   | `<email>\0<uid>`, all at score 0: byte order = code-point order |
 * | `P:{keys}:kid:<kid>`       | hash   | one signing key (null fields are absent)                  |
 * | `P:{keys}:index`           | set    | every kid                                                 |
 * | `P:{rev}:seq`              | string | the last revocation seq                                   |
 * | `P:{rev}:log`              | zset   | revocation JSON (with its seq), scored by seq             |
 * | `P:{rev}:exp`              | zset   | seqs scored by `expiresAt`, for the expiry sweep          |
 * | `P:{c:<key>}`              | hash   | a counter: `c` (count), `e` (expiresAt)                   |
 * | `P:{cl:<id>}:client`       | string | a machine client as JSON (created with `SET NX`)          |
 * | `P:{clients}:by-id`        | zset   | every client id, all at score 0 (lexicographic listing)   |
 * | `P:{sweep:<n>}:sessions`   | zset   | session ids scored by when they may next be due for the sweep (2) |
 * | `P:{sweep}:sessions`       | zset   | the same, one set, from earlier versions (swept, not written) |
 * | `P:{rt:<id>}:r`            | string | a retired refresh token, in place of its index (3)        |
 * | `P:{ot:<id>}`              | string | a one-time token: `[purpose, subject, data, createdAt, expiresAt]` (4) |
 * | `P:{ots:<subject>}:<purpose>` | set | the ids of the subject's one-time tokens for this purpose (4) |
 * | `P:{sweep}:one-time-tokens` | zset  | one-time token ids scored by `expiresAt`, for the sweep (4) |
 * | `P:{u:<uid>}:factors`      | hash   | the user's second factors, 1 to 3 fields each (`./factors.ts`) |
 * | `P:{pk:<credentialId>}`    | hash   | a passkey, by its credential id: `o` user, `r`, `n`, `u` (`./passkeys.ts`) |
 * | `P:{u:<uid>}:passkeys`     | set    | the credential ids of the user's passkeys                  |
 * | `P:{mail}:m:<id>`          | hash   | a queued or settled mail (`./mails.ts`)                   |
 * | `P:{mail}:due`             | zset   | queued mail ids scored by `nextAttemptAt`                 |
 * | `P:{mail}:all`             | zset   | every mail id scored by `createdAt` (listing)             |
 * | `P:{mail}:exp`             | zset   | settled mail ids scored by `expiresAt`, for the sweep     |
 * | `P:{audit}:records`        | hash   | audit records by id, JSON (`./audit-scripts.ts`)          |
 * | `P:{audit}:all`, `P:{audit}:u:<uid>` | zset | `<at>:<id>` at score 0: everyone's, a user's records |
 * | `P:{audit}:exp`            | zset   | the same members scored by `expiresAt`, for the sweep     |
 * | `P:{wh}:ep:<id>`           | string | a webhook endpoint, JSON (`./webhooks.ts`)                |
 * | `P:{wh}:endpoints`         | zset   | endpoint ids scored by `createdAt`                        |
 * | `P:{wh}:d:<id>`            | hash   | a webhook delivery (`./webhook-scripts.ts`)               |
 * | `P:{wh}:due`, `P:{wh}:exp` | zset   | queued deliveries by `nextAttemptAt`; settled ones by `expiresAt` |
 * | `P:{wh}:of:<endpointId>`   | zset   | an endpoint's deliveries scored by `createdAt`            |
 *
 * (1) The header holds the fields that change, so that scripts rewrite it without re-encoding
 * JSON (Lua prints numbers with 14 significant digits); `revokedAt` is empty while null;
 * `<tokens>` are the session's refresh tokens when they are folded into it (3). The JSON is the
 * array `[userId, secretHash, mode, createdAt, absoluteExpiresAt, userAgent, ip, persistent, amr, authTime, acr]`
 * (mode as its initial; the last three or four left out when they are a password login's at
 * creation, not persistent; `userAgent` may be `[ref]`, (5)): one string rather than a hash
 * because the session exceeds the 64 bytes under which Redis keeps a hash compact, and an array
 * because field names would be a fifth of its size.
 * (2) The score is never later than the session's real due time (the earliest of its idle
 * expiry, absolute expiry and revocation): touching a session does not update it, and the sweep
 * re-scores a session it finds still live. A lower score costs one extra look; a higher one
 * would delay the sweep, so writers only lower it (`ZADD LT`). A session's bucket is a hash
 * of its id modulo 16 384 (`./keys.ts`): small sets that Redis stores compactly (about 40 bytes
 * an entry up to two million sessions, against 130 in one large set), spread over a Cluster.
 * (3) `t:<id>` → secretHash, `c:<id>` → `<createdAt>,<expiresAt>` (base 36 after a `~`), and
 * once rotated `r:<id>` → `<rotatedAt>,<successorId>`, kept folded into the session's value
 * (`<id>:<hash>:<createdAt>:<expiresAt>[:<rotatedAt>:<successorId>]`, `;` between tokens) or in
 * the hash (values under 64 bytes: compact encoding); where: `./refresh-token-scripts.ts`. The
 * session keeps a chain's current token and the one it replaced; older ones are retired to
 * `P:{rt:<id>}:r`, which expires when they would have, so that it does not grow with each
 * rotation (`./refresh-tokens.ts`). The index buckets are small hashes (compact up to about two
 * million tokens); their entries leave with retirement and with the session's sweep.
 * (4) Each token has its own slot, so that consuming it is one script on one key; the two
 * indexes are written before it and cleaned after it (`./one-time-tokens.ts`).
 * (5) Stored once per distinct string, with a TTL raised to the longest session naming it
 * (`./user-agents.ts`).
 *
 * ## Time
 *
 * Expiry is logical: it is decided from the `now` the caller passes and the times stored in the
 * records, never from Redis's clock. Redis TTLs exist only as garbage collection for records that
 * nobody sweeps (sessions, refresh-token hashes, retired tokens, user agents, counters,
 * one-time tokens and their subject index): they are relative (`PEXPIRE`), computed from the record's own lifetime plus a
 * margin (a day; a minute for counters), so they are never shorter than the logical life,
 * whatever the callers' clock says. Users, keys, clients, revocations, the user-session index,
 * the refresh-token index buckets and the sweep indexes have no TTL.
 *
 * ## Atomicity
 *
 * Every read-then-write runs as one Lua script on one slot (`./scripts.ts` lists them; each lives
 * next to its record kind). Operations whose keys cannot share a slot are ordered so that a
 * failure between steps leaves only harmless leftovers: indexes are written before the record they point to, and readers check what an
 * index entry points to. The leftovers: a refresh-token index entry for a successor that lost its
 * rotation race (until its TTL); user-session and sweep entries of a session that was never
 * written (dropped by readers and the sweep); one-time-token index entries of a token that is
 * gone (see `./one-time-tokens.ts`); and, if the process dies between claiming an email and
 * writing the user, a claim that keeps the email taken until deleted by hand.
 *
 * Revocation seqs start from `createdAt × 1000` when the seq key is missing (first use, or after a
 * flush), so they keep increasing across a flush and feed positions stay valid.
 *
 * ## Modules
 *
 * One module per record kind (`./users.ts`, `./sessions.ts`, `./refresh-tokens.ts`,
 * `./signing-keys.ts`, `./revocations.ts`, `./clients.ts`, `./counters.ts`,
 * `./one-time-tokens.ts`), each with its scripts (`./<kind>-scripts.ts`); shared: key naming
 * (`./keys.ts`), decoding (`./codec.ts`), the client (`./connection.ts`), the operation and
 * script runners (`./context.ts`) and the script definition (`./lua.ts`). This module composes
 * them into the `Store`.
 *
 * Driver failures reject with `store_unavailable`, carrying the driver's error name and message
 * only (ioredis attaches command arguments, which may hold hashes, to its errors).
 */

import type { Store } from '../../store.js';
import { withStoreTransfer } from '../../store-transfer.js';
import { createRedisClients } from './clients.js';
import {
  connectRedisClient,
  createRedisClient,
  pingRedis,
  validatePrefix,
  type RedisClient,
} from './connection.js';
import { createRedisContext } from './context.js';
import { createRedisCounters } from './counters.js';
import { createRedisMails } from './mails.js';
import { createRedisAudit } from './audit.js';
import { createRedisWebhooks } from './webhooks.js';
import { createRedisOneTimeTokens } from './one-time-tokens.js';
import { createRedisFactors } from './factors.js';
import { createRedisPasskeys } from './passkeys.js';
import { createRedisRefreshTokens } from './refresh-tokens.js';
import { createRedisRevocations } from './revocations.js';
import { createRedisSessions } from './sessions.js';
import { getSessionWithUser } from './session-with-user.js';
import { createRedisSigningKeys } from './signing-keys.js';
import { createRedisTransfer } from './transfer.js';
import { createRedisUsers } from './users.js';

export { createRedisClient };
export { readRedisPersistence } from './persistence.js';
export type { RedisClient };

/** Options of {@link createRedisStore}: exactly one of `url` and `client`. */
export interface RedisStoreOptions {
  /**
   * `redis://`, `rediss://`, or a Cluster's `redis+cluster://host:port,host:port` (`rediss+cluster://`):
   * the store creates its own client (see {@link createRedisClient}) and closes it on `close()`.
   */
  url?: string | undefined;
  /**
   * An existing client (standalone or Cluster). The store uses it as configured (see
   * {@link createRedisClient} for fail-fast settings) and does not close it.
   */
  client?: RedisClient | undefined;
  /** Prefix of every key (default `latchkey`); must not contain `{` or `}`. */
  prefix?: string | undefined;
}

/**
 * Creates a store over Redis (`kind: 'redis'`). With `url`, the store owns its client (see
 * {@link createRedisClient}); it connects in the background, and commands fail with
 * `store_unavailable` until it is connected. Use {@link openRedisStore} to wait for the
 * connection.
 *
 * Conventions shared with the memory store: a record is expired at `now` when its expiry is
 * `<= now`; duplicate ids and kids reject with `internal_error`; after `close()` every method
 * rejects with `store_unavailable`. One difference: a refresh token's successor must belong to
 * the same session (`internal_error` otherwise), because both live in the session's slot.
 *
 * @example
 * const store = createRedisStore({ url: 'redis://127.0.0.1:6379', prefix: 'latchkey' });
 * await store.ping();
 */
export function createRedisStore(options: RedisStoreOptions): Store {
  const prefix = options.prefix ?? 'latchkey';
  validatePrefix(prefix);
  if (options.client !== undefined) {
    if (options.url !== undefined) throw new TypeError('Pass either "url" or "client", not both');
    return buildRedisStore(options.client, prefix, false);
  }
  if (options.url === undefined || options.url === '') throw new TypeError('"url" or "client" is required');
  return buildRedisStore(createRedisClient(options.url), prefix, true);
}

/**
 * Connects to Redis, checks that it answers, and returns a store that owns the connection.
 * Rejects with `store_unavailable` when Redis cannot be reached.
 *
 * @example
 * const store = await openRedisStore({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
 */
export async function openRedisStore(options: { url: string; prefix?: string | undefined }): Promise<Store> {
  const prefix = options.prefix ?? 'latchkey';
  validatePrefix(prefix);
  const store = buildRedisStore(await connectRedisClient(options.url), prefix, true);
  try {
    await store.ping();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/** The store over `client`: the record modules over one shared context, plus ping and close. */
function buildRedisStore(client: RedisClient, prefix: string, ownsClient: boolean): Store {
  let closed = false;
  const context = createRedisContext(client, prefix, () => closed);
  const store: Store = {
    kind: 'redis',

    ping(): Promise<void> {
      return context.run(() => pingRedis(client));
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (!ownsClient) return;
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },

    ...createRedisUsers(context),
    ...createRedisSessions(context),
    getSessionWithUser: (id) => getSessionWithUser(context, id),
    ...createRedisRefreshTokens(context),
    ...createRedisSigningKeys(context),
    ...createRedisRevocations(context),
    ...createRedisClients(context),
    ...createRedisCounters(context),
    ...createRedisOneTimeTokens(context),
    ...createRedisFactors(context),
    ...createRedisPasskeys(context),
    ...createRedisMails(context),
    ...createRedisAudit(context),
    ...createRedisWebhooks(context),
  };
  return withStoreTransfer(store, createRedisTransfer(context));
}
