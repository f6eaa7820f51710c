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
 * | `P:{s:<sid>}:session`      | string | `<lastSeenAt>,<idleExpiresAt>,<revokedAt>\|<json>` (1)    |
 * | `P:{s:<sid>}:rt`           | hash   | the session's refresh tokens, 2 or 3 fields each (3)      |
 * | `P:{rt:<id>}`              | string | the session id of refresh token `<id>` (immutable index) |
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
 * | `P:{sweep}:sessions`       | zset   | session ids scored by when they may next be due for the sweep (2) |
 *
 * (1) The header holds the fields that change, so that scripts rewrite it without re-encoding
 * JSON (Lua prints numbers with 14 significant digits); `revokedAt` is empty while null. The
 * JSON is the array `[userId, secretHash, mode, createdAt, absoluteExpiresAt, userAgent, ip]`:
 * one string rather than a hash because a real user agent exceeds the 64 bytes under which Redis
 * keeps a hash compact, and an array because field names would be a fifth of its size.
 * (2) The score is never later than the session's real due time (the earliest of its idle
 * expiry, absolute expiry and revocation): touching a session does not update it, and the sweep
 * re-scores a session it finds still live. A lower score costs one extra look; a higher one
 * would delay the sweep, so writers only lower it (`ZADD LT`).
 * (3) `t:<id>` → secretHash, `c:<id>` → `<createdAt>,<expiresAt>`, and once rotated `r:<id>` →
 * `<rotatedAt>,<successorId>`: values under 64 bytes keep the hash in Redis's compact encoding
 * (less than half the memory of one JSON value per token).
 *
 * ## Time
 *
 * Expiry is logical: it is decided from the `now` the caller passes and the times stored in the
 * records, never from Redis's clock. Redis TTLs exist only as garbage collection for records that
 * nobody sweeps (sessions, refresh tokens and their index, counters): they are relative
 * (`PEXPIRE`), computed from the record's own lifetime plus a margin (a day; a minute for
 * counters), so they are never shorter than the logical life, whatever the callers' clock says.
 * Users, keys, clients, revocations and the user-session index have no TTL.
 *
 * ## Atomicity
 *
 * Every read-then-write runs as one Lua script on one slot (`./scripts.ts`). Operations whose
 * keys cannot share a slot are ordered so that a failure between steps leaves only harmless
 * leftovers: indexes are written before the record they point to, and readers check what an
 * index entry points to. The leftovers: a refresh-token index entry for a successor that lost its
 * rotation race (until its TTL); user-session and sweep entries of a session that was never
 * written (dropped by readers and the sweep); and, if the process dies between claiming an email
 * and writing the user, a claim that keeps the email taken until deleted by hand.
 *
 * Revocation seqs start from `createdAt × 1000` when the seq key is missing (first use, or after a
 * flush), so they keep increasing across a flush and feed positions stay valid.
 *
 * Driver failures reject with `store_unavailable`, carrying the driver's error name and message
 * only (ioredis attaches command arguments, which may hold hashes, to its errors).
 */

import { Redis } from 'ioredis';
import type { Cluster } from 'ioredis';
import { LatchkeyError, storeUnavailable } from '../../errors.js';
import { compareCodePoints } from '../ordering.js';
import type { Store } from '../types.js';
import type { ClientRecord, CounterValue, KeyAlgorithm, NewRevocation, RefreshTokenRecord, RevocationKind, RevocationRecord, SessionMode, SessionRecord, SigningKeyRecord, UserPatch, UserRecord, UserStatus } from '../../records.js';
import * as scripts from './scripts.js';
import type { RedisScript } from './scripts.js';

/** A standalone or Cluster ioredis client. */
export type RedisClient = Redis | Cluster;

/** Options of {@link createRedisStore}: exactly one of `url` and `client`. */
export interface RedisStoreOptions {
  /** `redis://` or `rediss://` URL: the store creates its own client and closes it on `close()`. */
  url?: string | undefined;
  /**
   * An existing client (standalone or Cluster). The store uses it as configured (see
   * {@link createRedisClient} for fail-fast settings) and does not close it.
   */
  client?: RedisClient | undefined;
  /** Prefix of every key (default `latchkey`); must not contain `{` or `}`. */
  prefix?: string | undefined;
}

/** Per-command timeout: a command that gets no answer fails after this long. */
const COMMAND_TIMEOUT_MS = 2_000;
const CONNECT_TIMEOUT_MS = 2_000;
/** Reconnection backoff: 100 ms, 200 ms, 400 ms ... capped here. */
const MAX_RECONNECT_DELAY_MS = 2_000;
/** How long after its logical end a session or refresh token may linger before Redis drops it. */
const GC_MARGIN_MS = 24 * 60 * 60 * 1_000;
/** The same for counters. */
const COUNTER_GC_MARGIN_MS = 60_000;
/**
 * A user-index entry whose session is missing is dropped by readers only when its `createdAt`
 * is older than this before `now`, so that an entry written just before its session (by a
 * createSession in progress) is never dropped.
 */
const STALE_INDEX_ENTRY_MS = 60 * 60 * 1_000;
/** Concurrent commands per batch in operations over many records. */
const CHUNK_SIZE = 256;
/** Sessions per sweep round; revocations per deletion script. */
const SWEEP_BATCH = 1_000;

// ---- keys --------------------------------------------------------------------------------------

const TAG_ESCAPES: Record<string, string> = { '%': '%25', '{': '%7B', '}': '%7D' };

/** Escapes a value for use inside a hash tag. */
function tagged(value: string): string {
  return value.replace(/[%{}]/g, (char) => TAG_ESCAPES[char] ?? char);
}

function redisKeys(prefix: string) {
  return {
    session: (id: string): string => `${prefix}:{s:${tagged(id)}}:session`,
    refreshTokens: (sessionId: string): string => `${prefix}:{s:${tagged(sessionId)}}:rt`,
    refreshTokenIndex: (id: string): string => `${prefix}:{rt:${tagged(id)}}`,
    userSessions: (userId: string): string => `${prefix}:{u:${tagged(userId)}}:sessions`,
    user: (id: string): string => `${prefix}:{u:${tagged(id)}}:user`,
    email: (email: string): string => `${prefix}:{e:${tagged(email)}}`,
    usersByEmail: `${prefix}:{users}:by-email`,
    key: (kid: string): string => `${prefix}:{keys}:kid:${kid}`,
    keyIndex: `${prefix}:{keys}:index`,
    revocationSeq: `${prefix}:{rev}:seq`,
    revocationLog: `${prefix}:{rev}:log`,
    revocationExpiry: `${prefix}:{rev}:exp`,
    counter: (key: string): string => `${prefix}:{c:${tagged(key)}}`,
    sweep: `${prefix}:{sweep}:sessions`,
    client: (id: string): string => `${prefix}:{cl:${tagged(id)}}:client`,
    clientsById: `${prefix}:{clients}:by-id`,
  };
}

// ---- decoding ----------------------------------------------------------------------------------

function malformed(what: string): LatchkeyError {
  return new LatchkeyError('internal_error', `A ${what} record in Redis is malformed`);
}

type JsonObject = Record<string, unknown>;

function parseObject(text: string, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed(what);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(what);
  return value as JsonObject;
}

function readString(object: JsonObject, field: string, what: string): string {
  const value = object[field];
  if (typeof value !== 'string') throw malformed(what);
  return value;
}

function readNumber(object: JsonObject, field: string, what: string): number {
  const value = object[field];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw malformed(what);
  return value;
}

function readNullableNumber(object: JsonObject, field: string, what: string): number | null {
  const value = object[field];
  if (value === null) return null;
  return readNumber(object, field, what);
}

/** Parses a decimal string written by this store; `undefined` and `''` are null. */
function numberOrNull(text: string | undefined, what: string): number | null {
  if (text === undefined || text === '') return null;
  const value = Number(text);
  if (!Number.isFinite(value)) throw malformed(what);
  return value;
}

function requiredNumber(text: string | undefined, what: string): number {
  const value = numberOrNull(text, what);
  if (value === null) throw malformed(what);
  return value;
}

function replyNumber(reply: unknown, what: string): number {
  const value = typeof reply === 'string' ? Number(reply) : reply;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw malformed(what);
  return value;
}

function replyArray(reply: unknown, what: string): unknown[] {
  if (!Array.isArray(reply)) throw malformed(what);
  return reply as unknown[];
}

const SESSION_MODES: readonly SessionMode[] = ['cookie', 'token', 'hybrid'];
const USER_STATUSES: readonly UserStatus[] = ['active', 'disabled'];
const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['EdDSA', 'ES256', 'RS256', 'HS256'];
const REVOCATION_KINDS: readonly RevocationKind[] = ['session', 'user', 'token'];

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) throw malformed(what);
  return found;
}

function encodeSession(session: SessionRecord): string {
  const json = JSON.stringify([
    session.userId,
    session.secretHash,
    session.mode,
    session.createdAt,
    session.absoluteExpiresAt,
    session.userAgent,
    session.ip,
  ]);
  return `${session.lastSeenAt},${session.idleExpiresAt},${session.revokedAt ?? ''}|${json}`;
}

function decodeSession(id: string, raw: string): SessionRecord {
  const what = 'session';
  const bar = raw.indexOf('|');
  if (bar < 0) throw malformed(what);
  const [lastSeenAt, idleExpiresAt, revokedAt, extra] = raw.slice(0, bar).split(',');
  if (extra !== undefined) throw malformed(what);
  let fields: unknown;
  try {
    fields = JSON.parse(raw.slice(bar + 1));
  } catch {
    throw malformed(what);
  }
  if (!Array.isArray(fields) || fields.length !== 7) throw malformed(what);
  const [userId, secretHash, mode, createdAt, absoluteExpiresAt, userAgent, ip] = fields as unknown[];
  if (
    typeof userId !== 'string' ||
    typeof secretHash !== 'string' ||
    typeof mode !== 'string' ||
    typeof createdAt !== 'number' ||
    typeof absoluteExpiresAt !== 'number' ||
    (userAgent !== null && typeof userAgent !== 'string') ||
    (ip !== null && typeof ip !== 'string')
  ) {
    throw malformed(what);
  }
  return {
    id,
    userId,
    secretHash,
    mode: oneOf(mode, SESSION_MODES, what),
    createdAt,
    lastSeenAt: requiredNumber(lastSeenAt, what),
    idleExpiresAt: requiredNumber(idleExpiresAt, what),
    absoluteExpiresAt,
    userAgent,
    ip,
    revokedAt: numberOrNull(revokedAt ?? '', what),
  };
}

function encodeClient(client: ClientRecord): string {
  return JSON.stringify({
    id: client.id,
    name: client.name,
    secretHash: client.secretHash,
    scopes: client.scopes,
    audiences: client.audiences,
    createdAt: client.createdAt,
    disabledAt: client.disabledAt,
  });
}

function readStrings(object: JsonObject, field: string, what: string): string[] {
  const value = object[field];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw malformed(what);
  return [...value];
}

function decodeClient(raw: string): ClientRecord {
  const what = 'client';
  const json = parseObject(raw, what);
  return {
    id: readString(json, 'id', what),
    name: readString(json, 'name', what),
    secretHash: readString(json, 'secretHash', what),
    scopes: readStrings(json, 'scopes', what),
    audiences: readStrings(json, 'audiences', what),
    createdAt: readNumber(json, 'createdAt', what),
    disabledAt: readNullableNumber(json, 'disabledAt', what),
  };
}

/** When the sweep may remove the session: the earliest of its expiries and its revocation. */
function sessionDueAt(session: SessionRecord): number {
  return Math.min(session.idleExpiresAt, session.absoluteExpiresAt, session.revokedAt ?? Infinity);
}

function isSessionLive(session: SessionRecord, now: number): boolean {
  return session.revokedAt === null && session.idleExpiresAt > now && session.absoluteExpiresAt > now;
}

/** `<a>,<b>` → [a, b], where `b` may itself contain commas. */
function splitPair(value: string, what: string): [string, string] {
  const comma = value.indexOf(',');
  if (comma < 0) throw malformed(what);
  return [value.slice(0, comma), value.slice(comma + 1)];
}

function decodeRefreshToken(
  id: string,
  sessionId: string,
  fields: { secretHash: string; times: string | null; rotation: string | null },
): RefreshTokenRecord {
  const what = 'refresh token';
  if (fields.times === null) throw malformed(what);
  const [createdAt, expiresAt] = splitPair(fields.times, what);
  const rotation = fields.rotation === null ? null : splitPair(fields.rotation, what);
  return {
    id,
    sessionId,
    secretHash: fields.secretHash,
    createdAt: requiredNumber(createdAt, what),
    expiresAt: requiredNumber(expiresAt, what),
    rotatedAt: rotation === null ? null : requiredNumber(rotation[0], what),
    successorId: rotation === null ? null : rotation[1],
  };
}

function encodeUser(user: UserRecord): string[] {
  return [
    'id',
    user.id,
    'email',
    user.email,
    'passwordHash',
    user.passwordHash,
    'status',
    user.status,
    'roles',
    JSON.stringify(user.roles),
    'createdAt',
    String(user.createdAt),
    'updatedAt',
    String(user.updatedAt),
  ];
}

function decodeUser(hash: Record<string, string>): UserRecord | null {
  const what = 'user';
  if (hash.id === undefined) return null;
  let roles: unknown;
  try {
    roles = JSON.parse(hash.roles ?? '');
  } catch {
    throw malformed(what);
  }
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) throw malformed(what);
  const { email, passwordHash, status } = hash;
  if (email === undefined || passwordHash === undefined || status === undefined) throw malformed(what);
  return {
    id: hash.id,
    email,
    passwordHash,
    status: oneOf(status, USER_STATUSES, what),
    roles,
    createdAt: requiredNumber(hash.createdAt, what),
    updatedAt: requiredNumber(hash.updatedAt, what),
  };
}

function encodeSigningKey(key: SigningKeyRecord): string[] {
  const fields = [
    'kid',
    key.kid,
    'alg',
    key.alg,
    'encryptedPrivateKey',
    key.encryptedPrivateKey,
    'createdAt',
    String(key.createdAt),
    'activatesAt',
    String(key.activatesAt),
  ];
  if (key.publicJwk !== null) fields.push('publicJwk', key.publicJwk);
  if (key.retiredAt !== null) fields.push('retiredAt', String(key.retiredAt));
  if (key.expiresAt !== null) fields.push('expiresAt', String(key.expiresAt));
  return fields;
}

function decodeSigningKey(hash: Record<string, string>): SigningKeyRecord | null {
  const what = 'signing key';
  if (hash.kid === undefined) return null;
  const { alg, encryptedPrivateKey } = hash;
  if (alg === undefined || encryptedPrivateKey === undefined) throw malformed(what);
  return {
    kid: hash.kid,
    alg: oneOf(alg, KEY_ALGORITHMS, what),
    publicJwk: hash.publicJwk ?? null,
    encryptedPrivateKey,
    createdAt: requiredNumber(hash.createdAt, what),
    activatesAt: requiredNumber(hash.activatesAt, what),
    retiredAt: numberOrNull(hash.retiredAt, what),
    expiresAt: numberOrNull(hash.expiresAt, what),
  };
}

function decodeRevocation(raw: string): RevocationRecord {
  const what = 'revocation';
  const json = parseObject(raw, what);
  return {
    seq: readNumber(json, 'seq', what),
    kind: oneOf(readString(json, 'kind', what), REVOCATION_KINDS, what),
    subject: readString(json, 'subject', what),
    issuedBefore: readNullableNumber(json, 'issuedBefore', what),
    createdAt: readNumber(json, 'createdAt', what),
    expiresAt: readNumber(json, 'expiresAt', what),
  };
}

// ---- helpers -----------------------------------------------------------------------------------

/** A GC TTL (ms, as the decimal string PEXPIRE takes) for a record that lives `lifeMs`. */
function gcTTL(lifeMs: number, marginMs = GC_MARGIN_MS): string {
  return String(Math.ceil(Math.max(lifeMs, 0) + marginMs));
}

async function mapInChunks<T, R>(items: readonly T[], task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += CHUNK_SIZE) {
    results.push(...(await Promise.all(items.slice(start, start + CHUNK_SIZE).map(task))));
  }
  return results;
}

/** Keeps only the name and message of a driver error: ioredis attaches command arguments. */
function sanitize(error: unknown): Error {
  if (!(error instanceof Error)) return new Error('Redis command failed');
  const clean = new Error(error.message);
  clean.name = error.name;
  return clean;
}

function duplicate(what: string): LatchkeyError {
  return new LatchkeyError('internal_error', `A ${what} with this id already exists`);
}

// ---- client ------------------------------------------------------------------------------------

/**
 * Creates an ioredis client that fails fast while disconnected and reconnects by itself: no
 * offline queue, no retry or resend of a command that was in flight when the connection dropped
 * (a retried script could apply twice), a 2 s command timeout, and capped exponential backoff.
 * An `error` listener is attached: failures surface through the commands that fail.
 *
 * @example
 * const store = createRedisStore({ client: createRedisClient('redis://127.0.0.1:6379') });
 */
export function createRedisClient(url: string, options: { lazyConnect?: boolean } = {}): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (attempt: number): number =>
      Math.min(100 * 2 ** Math.min(attempt - 1, 10), MAX_RECONNECT_DELAY_MS),
    lazyConnect: options.lazyConnect ?? false,
  });
  client.on('error', () => {
    // Connection errors reach callers as store_unavailable from the commands that fail.
  });
  return client;
}

function validatePrefix(prefix: string): void {
  if (prefix.length === 0 || /[{}]/.test(prefix)) {
    throw new TypeError('"prefix" must be a non-empty string without "{" or "}"');
  }
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
  const client = createRedisClient(options.url, { lazyConnect: true });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw storeUnavailable(sanitize(error));
  }
  const store = buildRedisStore(client, prefix, true);
  try {
    await store.ping();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

type SweepOutcome =
  | { kind: 'missing' }
  | { kind: 'deleted'; userId: string; refreshTokenIds: string[] }
  | { kind: 'live'; dueAt: number };

function parseSweepReply(reply: unknown): SweepOutcome {
  const what = 'sweep reply';
  const [code, first, second] = replyArray(reply, what);
  if (code === 0) return { kind: 'missing' };
  if (code === 2) return { kind: 'live', dueAt: replyNumber(first, what) };
  if (code === 1 && typeof first === 'string') {
    const ids = replyArray(second ?? [], what);
    if (!ids.every((id) => typeof id === 'string')) throw malformed(what);
    return { kind: 'deleted', userId: first, refreshTokenIds: ids };
  }
  throw malformed(what);
}

function buildRedisStore(client: RedisClient, prefix: string, ownsClient: boolean): Store {
  const keys = redisKeys(prefix);
  let closed = false;

  /** Runs one operation; driver errors become `store_unavailable`, LatchkeyErrors pass through. */
  const run = async <T>(operation: () => Promise<T>): Promise<T> => {
    if (closed) throw new LatchkeyError('store_unavailable', 'The Redis store is closed', { retryAfter: 1 });
    try {
      return await operation();
    } catch (error) {
      throw error instanceof LatchkeyError ? error : storeUnavailable(sanitize(error));
    }
  };

  /** EVALSHA, falling back to EVAL when the server does not have the script yet. */
  const runScript = async (
    script: RedisScript,
    scriptKeys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> => {
    if (scriptKeys.length !== script.keyCount) {
      throw new Error(`Script ${script.name} takes ${script.keyCount} keys`);
    }
    try {
      return await client.evalsha(script.sha, scriptKeys.length, ...scriptKeys, ...args);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
      return client.eval(script.lua, scriptKeys.length, ...scriptKeys, ...args);
    }
  };

  /** Lowers a session's sweep score; best effort, after a revocation that already succeeded. */
  const lowerSweepScore = async (sessionId: string, at: number): Promise<void> => {
    try {
      await client.zadd(keys.sweep, 'LT', at, sessionId);
    } catch {
      // The session is still swept at its expiry, or dropped by its TTL.
    }
  };

  const getUserById = async (id: string): Promise<UserRecord | null> =>
    decodeUser(await client.hgetall(keys.user(id)));

  const revokeSession = async (id: string, at: number, userId: string | null): Promise<boolean> => {
    const reply = await runScript(
      scripts.revokeSession,
      [keys.session(id)],
      [at, userId === null ? '0' : '1', userId ?? ''],
    );
    return reply === 1;
  };

  return {
    kind: 'redis',

    ping(): Promise<void> {
      return run(async () => {
        await client.ping();
      });
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

    // ---- users -------------------------------------------------------------------------------

    createUser(user: UserRecord): Promise<void> {
      return run(async () => {
        const emailKey = keys.email(user.email);
        const userKey = keys.user(user.id);
        const listing = `${user.email}\0${user.id}`;
        // Claim the email first: the claim is what makes the email unique.
        if ((await client.set(emailKey, user.id, 'NX')) === null) throw new LatchkeyError('email_taken');
        try {
          await client.zadd(keys.usersByEmail, 0, listing);
          const created = await runScript(scripts.createHashIfMissing, [userKey], encodeUser(user));
          if (created !== 1) throw duplicate('user');
        } catch (error) {
          // A driver error leaves the outcome unknown: undo only if the user was not written.
          if (!(error instanceof LatchkeyError)) {
            const written = await client.exists(userKey).catch(() => 1);
            if (written !== 0) throw error;
          }
          await Promise.allSettled([
            runScript(scripts.deleteIfEquals, [emailKey], [user.id]),
            client.zrem(keys.usersByEmail, listing),
          ]);
          throw error;
        }
      });
    },

    getUserById(id: string): Promise<UserRecord | null> {
      return run(() => getUserById(id));
    },

    getUserByEmail(email: string): Promise<UserRecord | null> {
      return run(async () => {
        const id = await client.get(keys.email(email));
        if (id === null) return null;
        const user = await getUserById(id);
        return user !== null && user.email === email ? user : null;
      });
    },

    updateUser(id: string, patch: UserPatch): Promise<boolean> {
      return run(async () => {
        const fields = ['updatedAt', String(patch.updatedAt)];
        if (patch.passwordHash !== undefined) fields.push('passwordHash', patch.passwordHash);
        if (patch.status !== undefined) fields.push('status', patch.status);
        if (patch.roles !== undefined) fields.push('roles', JSON.stringify(patch.roles));
        return (await runScript(scripts.updateHashIfExists, [keys.user(id)], fields)) === 1;
      });
    },

    listUsers(options: { limit: number; after?: string }): Promise<UserRecord[]> {
      return run(async () => {
        const { limit, after } = options;
        const page: UserRecord[] = [];
        // `<after>\x01` sorts after every `<after>\0<id>` and before every greater email.
        let min = after === undefined ? '-' : `[${after}\u0001`;
        while (page.length < limit) {
          const wanted = limit - page.length;
          const members = await client.zrangebylex(keys.usersByEmail, min, '+', 'LIMIT', 0, wanted);
          const users = await mapInChunks(members, async (member) => {
            const nul = member.indexOf('\0');
            const user = await getUserById(member.slice(nul + 1));
            // Skip creations in progress or undone, whose user is not (or no longer) there.
            return user !== null && user.email === member.slice(0, nul) ? user : null;
          });
          for (const user of users) if (user !== null) page.push(user);
          const last = members.at(-1);
          if (members.length < wanted || last === undefined) break;
          min = `(${last}`;
        }
        return page;
      });
    },

    // ---- sessions ----------------------------------------------------------------------------

    createSession(session: SessionRecord): Promise<void> {
      return run(async () => {
        // Indexes first: a session must never exist without its user-index entry, or
        // revokeUserSessions would miss it.
        await Promise.all([
          client.zadd(keys.userSessions(session.userId), session.createdAt, session.id),
          client.zadd(keys.sweep, 'LT', sessionDueAt(session), session.id),
        ]);
        const ttl = gcTTL(Math.min(session.idleExpiresAt, session.absoluteExpiresAt) - session.createdAt);
        const stored = await client.set(keys.session(session.id), encodeSession(session), 'PX', ttl, 'NX');
        if (stored === null) throw duplicate('session');
      });
    },

    getSession(id: string): Promise<SessionRecord | null> {
      return run(async () => {
        const raw = await client.get(keys.session(id));
        return raw === null ? null : decodeSession(id, raw);
      });
    },

    touchSession(id: string, update: { lastSeenAt: number; idleExpiresAt: number }): Promise<void> {
      return run(async () => {
        await runScript(
          scripts.touchSession,
          [keys.session(id)],
          [update.lastSeenAt, update.idleExpiresAt, gcTTL(update.idleExpiresAt - update.lastSeenAt)],
        );
      });
    },

    revokeSession(id: string, at: number): Promise<boolean> {
      return run(async () => {
        if (!(await revokeSession(id, at, null))) return false;
        await lowerSweepScore(id, at);
        return true;
      });
    },

    revokeUserSessions(userId: string, at: number, options?: { except?: string }): Promise<string[]> {
      return run(async () => {
        const ids = (await client.zrange(keys.userSessions(userId), 0, -1)).filter(
          (id) => id !== options?.except,
        );
        const outcomes = await mapInChunks(ids, (id) => revokeSession(id, at, userId));
        const revoked = ids.filter((_, i) => outcomes[i] === true);
        await mapInChunks(revoked, (id) => lowerSweepScore(id, at));
        return revoked;
      });
    },

    listUserSessions(userId: string, now: number): Promise<SessionRecord[]> {
      return run(async () => {
        const indexKey = keys.userSessions(userId);
        const entries = await client.zrange(indexKey, 0, -1, 'WITHSCORES');
        const ids: { id: string; createdAt: number }[] = [];
        for (let i = 0; i + 1 < entries.length; i += 2) {
          ids.push({ id: entries[i] ?? '', createdAt: Number(entries[i + 1]) });
        }
        const raws = await mapInChunks(ids, ({ id }) => client.get(keys.session(id)));
        const live: SessionRecord[] = [];
        const stale: string[] = [];
        raws.forEach((raw, i) => {
          const entry = ids[i];
          if (entry === undefined) return;
          if (raw === null) {
            if (entry.createdAt < now - STALE_INDEX_ENTRY_MS) stale.push(entry.id);
            return;
          }
          const session = decodeSession(entry.id, raw);
          if (session.userId !== userId) stale.push(entry.id);
          else if (isSessionLive(session, now)) live.push(session);
        });
        if (stale.length > 0) await client.zrem(indexKey, ...stale);
        return live.sort((a, b) => b.createdAt - a.createdAt || compareCodePoints(b.id, a.id));
      });
    },

    deleteExpiredSessions(now: number): Promise<number> {
      return run(async () => {
        let removed = 0;
        const seen = new Set<string>();
        for (;;) {
          const due = await client.zrangebyscore(keys.sweep, '-inf', now, 'LIMIT', 0, SWEEP_BATCH);
          const batch = due.filter((id) => !seen.has(id));
          if (batch.length === 0) break;
          await mapInChunks(batch, async (id) => {
            seen.add(id);
            const outcome = parseSweepReply(
              await runScript(scripts.sweepSession, [keys.session(id), keys.refreshTokens(id)], [now]),
            );
            if (outcome.kind === 'live') {
              await client.zadd(keys.sweep, outcome.dueAt, id);
              return;
            }
            if (outcome.kind === 'deleted') {
              removed += 1;
              await Promise.all([
                client.zrem(keys.userSessions(outcome.userId), id),
                ...outcome.refreshTokenIds.map((tokenId) => client.unlink(keys.refreshTokenIndex(tokenId))),
              ]);
            }
            await client.zrem(keys.sweep, id);
          });
        }
        return removed;
      });
    },

    // ---- refresh tokens ----------------------------------------------------------------------

    createRefreshToken(token: RefreshTokenRecord): Promise<void> {
      return run(async () => {
        const ttl = gcTTL(token.expiresAt - token.createdAt);
        const indexKey = keys.refreshTokenIndex(token.id);
        // The index first (immutable: id → session), then the token in its session's slot.
        if ((await client.set(indexKey, token.sessionId, 'PX', ttl, 'NX')) === null) {
          if ((await client.get(indexKey)) !== token.sessionId) throw duplicate('refresh token');
          await client.pexpire(indexKey, ttl, 'GT');
        }
        const created = await runScript(
          scripts.createRefreshToken,
          [keys.refreshTokens(token.sessionId)],
          [token.id, token.secretHash, `${token.createdAt},${token.expiresAt}`, ttl],
        );
        if (created !== 1) throw duplicate('refresh token');
      });
    },

    getRefreshToken(id: string): Promise<RefreshTokenRecord | null> {
      return run(async () => {
        const sessionId = await client.get(keys.refreshTokenIndex(id));
        if (sessionId === null) return null;
        const [secretHash, times, rotation] = await client.hmget(
          keys.refreshTokens(sessionId),
          `t:${id}`,
          `c:${id}`,
          `r:${id}`,
        );
        if (secretHash === null || secretHash === undefined) return null;
        return decodeRefreshToken(id, sessionId, {
          secretHash,
          times: times ?? null,
          rotation: rotation ?? null,
        });
      });
    },

    rotateRefreshToken(oldId: string, successor: RefreshTokenRecord, at: number): Promise<boolean> {
      return run(async () => {
        const sessionId = await client.get(keys.refreshTokenIndex(oldId));
        if (sessionId === null) return false;
        if (successor.sessionId !== sessionId) {
          throw new LatchkeyError(
            'internal_error',
            'A refresh token successor must belong to the session of the token it replaces',
          );
        }
        const ttl = gcTTL(successor.expiresAt - at);
        const indexKey = keys.refreshTokenIndex(successor.id);
        // Write the successor's index before the compare-and-set. A concurrent rotation of the
        // same token writes the same value (same session), so the loser's write is harmless.
        let taken = false;
        if ((await client.set(indexKey, sessionId, 'PX', ttl, 'NX')) === null) {
          taken = (await client.get(indexKey)) !== sessionId;
        }
        const reply = await runScript(
          scripts.rotateRefreshToken,
          [keys.refreshTokens(sessionId)],
          [
            oldId,
            successor.id,
            successor.secretHash,
            `${successor.createdAt},${successor.expiresAt}`,
            at,
            ttl,
            taken ? '1' : '0',
          ],
        );
        if (reply === -1) throw duplicate('refresh token');
        return reply === 1;
      });
    },

    // ---- signing keys ------------------------------------------------------------------------

    listKeys(): Promise<SigningKeyRecord[]> {
      return run(async () => {
        const kids = await client.smembers(keys.keyIndex);
        const records = await mapInChunks(kids, async (kid) =>
          decodeSigningKey(await client.hgetall(keys.key(kid))),
        );
        return records
          .filter((record) => record !== null)
          .sort((a, b) => a.createdAt - b.createdAt || compareCodePoints(a.kid, b.kid));
      });
    },

    insertKey(key: SigningKeyRecord): Promise<void> {
      return run(async () => {
        const inserted = await runScript(
          scripts.insertKey,
          [keys.key(key.kid), keys.keyIndex],
          [key.kid, ...encodeSigningKey(key)],
        );
        if (inserted !== 1)
          throw new LatchkeyError('internal_error', 'A signing key with this kid already exists');
      });
    },

    updateKey(kid: string, patch: { retiredAt?: number | null; expiresAt?: number | null }): Promise<void> {
      return run(async () => {
        const mode = (value: number | null | undefined): [string, string] =>
          value === undefined ? ['keep', ''] : value === null ? ['null', ''] : ['set', String(value)];
        await runScript(
          scripts.updateKey,
          [keys.key(kid)],
          [...mode(patch.retiredAt), ...mode(patch.expiresAt)],
        );
      });
    },

    deleteKey(kid: string): Promise<void> {
      return run(async () => {
        await runScript(scripts.deleteKey, [keys.key(kid), keys.keyIndex], [kid]);
      });
    },

    // ---- revocations -------------------------------------------------------------------------

    addRevocation(record: NewRevocation): Promise<RevocationRecord> {
      return run(async () => {
        const json = JSON.stringify({
          kind: record.kind,
          subject: record.subject,
          issuedBefore: record.issuedBefore,
          createdAt: record.createdAt,
          expiresAt: record.expiresAt,
        });
        // When the seq key is missing (first use, or after a flush), seqs restart from
        // createdAt × 1000, above any seq issued before: feed positions stay valid.
        const initial = Math.floor(record.createdAt) * 1_000;
        const seq = replyNumber(
          await runScript(
            scripts.addRevocation,
            [keys.revocationSeq, keys.revocationLog, keys.revocationExpiry],
            [json, record.expiresAt, Number.isSafeInteger(initial) && initial > 0 ? initial : 0],
          ),
          'revocation seq',
        );
        return {
          seq,
          kind: record.kind,
          subject: record.subject,
          issuedBefore: record.issuedBefore,
          createdAt: record.createdAt,
          expiresAt: record.expiresAt,
        };
      });
    },

    listRevocations(options: {
      now: number;
      afterSeq?: number;
      limit?: number;
    }): Promise<RevocationRecord[]> {
      return run(async () => {
        const { now, afterSeq, limit } = options;
        if (limit !== undefined && limit <= 0) return [];
        const reply = await runScript(
          scripts.listRevocations,
          [keys.revocationLog],
          [afterSeq === undefined ? '-inf' : `(${afterSeq}`, now, limit ?? -1],
        );
        return replyArray(reply, 'revocation list').map((raw) => {
          if (typeof raw !== 'string') throw malformed('revocation');
          return decodeRevocation(raw);
        });
      });
    },

    deleteExpiredRevocations(now: number): Promise<number> {
      return run(async () => {
        let removed = 0;
        for (;;) {
          const count = replyNumber(
            await runScript(
              scripts.deleteExpiredRevocations,
              [keys.revocationLog, keys.revocationExpiry],
              [now, SWEEP_BATCH],
            ),
            'revocation count',
          );
          removed += count;
          if (count < SWEEP_BATCH) return removed;
        }
      });
    },

    // ---- clients -----------------------------------------------------------------------------

    createClient(record: ClientRecord): Promise<void> {
      return run(async () => {
        // The index first (idempotent; readers skip entries whose client is missing), then the
        // record with SET NX, which is what makes the id unique.
        await client.zadd(keys.clientsById, 0, record.id);
        if ((await client.set(keys.client(record.id), encodeClient(record), 'NX')) === null) {
          throw duplicate('client');
        }
      });
    },

    getClient(id: string): Promise<ClientRecord | null> {
      return run(async () => {
        const raw = await client.get(keys.client(id));
        return raw === null ? null : decodeClient(raw);
      });
    },

    listClients(options: { limit: number; after?: string }): Promise<ClientRecord[]> {
      return run(async () => {
        const { limit, after } = options;
        const page: ClientRecord[] = [];
        let min = after === undefined ? '-' : `(${after}`;
        while (page.length < limit) {
          const wanted = limit - page.length;
          const ids = await client.zrangebylex(keys.clientsById, min, '+', 'LIMIT', 0, wanted);
          const raws = await mapInChunks(ids, (id) => client.get(keys.client(id)));
          for (const raw of raws) if (raw !== null) page.push(decodeClient(raw));
          const last = ids.at(-1);
          if (ids.length < wanted || last === undefined) break;
          min = `(${last}`;
        }
        return page;
      });
    },

    updateClient(id: string, patch: { disabledAt: number | null }): Promise<boolean> {
      return run(async () => {
        // Only `disabledAt` ever changes, so a plain read-modify-write (last writer wins) is enough.
        const key = keys.client(id);
        const raw = await client.get(key);
        if (raw === null) return false;
        const updated = { ...decodeClient(raw), disabledAt: patch.disabledAt };
        return (await client.set(key, encodeClient(updated), 'XX')) !== null;
      });
    },

    // ---- counters ----------------------------------------------------------------------------

    increment(key: string, ttlMs: number, now: number): Promise<CounterValue> {
      return run(async () => {
        const reply = replyArray(
          await runScript(
            scripts.increment,
            [keys.counter(key)],
            [now, now + ttlMs, gcTTL(ttlMs, COUNTER_GC_MARGIN_MS)],
          ),
          'counter',
        );
        return { count: replyNumber(reply[0], 'counter'), expiresAt: replyNumber(reply[1], 'counter') };
      });
    },

    getCounter(key: string, now: number): Promise<CounterValue | null> {
      return run(async () => {
        const [count, expiresAt] = await client.hmget(keys.counter(key), 'c', 'e');
        const expiry = numberOrNull(expiresAt ?? undefined, 'counter');
        if (expiry === null || expiry <= now) return null;
        return { count: requiredNumber(count ?? undefined, 'counter'), expiresAt: expiry };
      });
    },

    deleteCounter(key: string): Promise<void> {
      return run(async () => {
        await client.unlink(keys.counter(key));
      });
    },
  };
}
