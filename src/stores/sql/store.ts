/**
 * The SQL store: every contract method as plain Postgres, over any driver wrapped as a
 * {@link SqlClient}. PGlite and a Postgres server run exactly the same statements.
 *
 * Atomic operations are single statements (`UPDATE ... WHERE revoked_at IS NULL RETURNING`,
 * `INSERT ... ON CONFLICT`) or short transactions; they hold under READ COMMITTED with many
 * processes. Times are `bigint` milliseconds; `bigint` values are converted back to `number`
 * whatever the driver returns (string, number or BigInt).
 */

import { LatchkeyError, storeUnavailable } from '../../errors.js';
import type { Store } from '../types.js';
import type { ClientRecord, CounterValue, KeyAlgorithm, NewRevocation, RefreshTokenRecord, RevocationKind, RevocationRecord, SessionMode, SessionRecord, SigningKeyRecord, UserPatch, UserRecord, UserStatus } from '../../records.js';
import type { SqlClient, SqlParam } from './client.js';
import { sqlStateOf } from './client.js';

/** What a driver may return for a `bigint` column. */
type Int8 = string | number | bigint;

interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  status: string;
  roles: string[];
  created_at: Int8;
  updated_at: Int8;
}

interface SessionRow {
  id: string;
  user_id: string;
  secret_hash: string;
  mode: string;
  created_at: Int8;
  last_seen_at: Int8;
  idle_expires_at: Int8;
  absolute_expires_at: Int8;
  user_agent: string | null;
  ip: string | null;
  revoked_at: Int8 | null;
}

interface RefreshTokenRow {
  id: string;
  session_id: string;
  secret_hash: string;
  created_at: Int8;
  expires_at: Int8;
  rotated_at: Int8 | null;
  successor_id: string | null;
}

interface SigningKeyRow {
  kid: string;
  alg: string;
  public_jwk: string | null;
  encrypted_private_key: string;
  created_at: Int8;
  activates_at: Int8;
  retired_at: Int8 | null;
  expires_at: Int8 | null;
}

interface RevocationRow {
  seq: Int8;
  kind: string;
  subject: string;
  issued_before: Int8 | null;
  created_at: Int8;
  expires_at: Int8;
}

interface ClientRow {
  id: string;
  name: string;
  secret_hash: string;
  scopes: string[];
  audiences: string[];
  created_at: Int8;
  disabled_at: Int8 | null;
}

interface CounterRow {
  count: number | string;
  expires_at: Int8;
}

const USER_COLUMNS = 'id, email, password_hash, status, roles, created_at, updated_at';
const SESSION_COLUMNS =
  'id, user_id, secret_hash, mode, created_at, last_seen_at, idle_expires_at, absolute_expires_at, user_agent, ip, revoked_at';
const REFRESH_TOKEN_COLUMNS = 'id, session_id, secret_hash, created_at, expires_at, rotated_at, successor_id';
const SIGNING_KEY_COLUMNS =
  'kid, alg, public_jwk, encrypted_private_key, created_at, activates_at, retired_at, expires_at';
const CLIENT_COLUMNS = 'id, name, secret_hash, scopes, audiences, created_at, disabled_at';
const REVOCATION_COLUMNS = 'seq, kind, subject, issued_before, created_at, expires_at';

/**
 * Serializes `addRevocation` so that revocations commit in `seq` order: an identity value is
 * taken only while holding this lock, so a feed reader that has seen `seq = n` can never later
 * find a smaller one committing behind it. ("LKRV" in ASCII.)
 */
const REVOCATION_LOCK_KEY = 0x4c4b5256;

/** Expired counters are swept by one increment in this many (per store instance). */
const COUNTER_SWEEP_INTERVAL = 1_000;

/** Converts a `bigint` column to a safe integer number. */
function toNumber(value: Int8): number {
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(number))
    throw new RangeError('A bigint column is outside the safe integer range');
  return number;
}

function toNullableNumber(value: Int8 | null): number | null {
  return value === null ? null : toNumber(value);
}

function toUser(row: UserRow): UserRecord {
  return {
    id: row.id,
    email: row.email,
    passwordHash: row.password_hash,
    status: row.status as UserStatus,
    roles: [...row.roles],
    createdAt: toNumber(row.created_at),
    updatedAt: toNumber(row.updated_at),
  };
}

function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    secretHash: row.secret_hash,
    mode: row.mode as SessionMode,
    createdAt: toNumber(row.created_at),
    lastSeenAt: toNumber(row.last_seen_at),
    idleExpiresAt: toNumber(row.idle_expires_at),
    absoluteExpiresAt: toNumber(row.absolute_expires_at),
    userAgent: row.user_agent,
    ip: row.ip,
    revokedAt: toNullableNumber(row.revoked_at),
  };
}

function toRefreshToken(row: RefreshTokenRow): RefreshTokenRecord {
  return {
    id: row.id,
    sessionId: row.session_id,
    secretHash: row.secret_hash,
    createdAt: toNumber(row.created_at),
    expiresAt: toNumber(row.expires_at),
    rotatedAt: toNullableNumber(row.rotated_at),
    successorId: row.successor_id,
  };
}

function toSigningKey(row: SigningKeyRow): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg as KeyAlgorithm,
    publicJwk: row.public_jwk,
    encryptedPrivateKey: row.encrypted_private_key,
    createdAt: toNumber(row.created_at),
    activatesAt: toNumber(row.activates_at),
    retiredAt: toNullableNumber(row.retired_at),
    expiresAt: toNullableNumber(row.expires_at),
  };
}

function toRevocation(row: RevocationRow): RevocationRecord {
  return {
    seq: toNumber(row.seq),
    kind: row.kind as RevocationKind,
    subject: row.subject,
    issuedBefore: toNullableNumber(row.issued_before),
    createdAt: toNumber(row.created_at),
    expiresAt: toNumber(row.expires_at),
  };
}

function toClient(row: ClientRow): ClientRecord {
  return {
    id: row.id,
    name: row.name,
    secretHash: row.secret_hash,
    scopes: [...row.scopes],
    audiences: [...row.audiences],
    createdAt: toNumber(row.created_at),
    disabledAt: toNullableNumber(row.disabled_at),
  };
}

function toCounter(row: CounterRow): CounterValue {
  return { count: toNumber(row.count), expiresAt: toNumber(row.expires_at) };
}

function refreshTokenParams(token: RefreshTokenRecord): SqlParam[] {
  return [
    token.id,
    token.sessionId,
    token.secretHash,
    token.createdAt,
    token.expiresAt,
    token.rotatedAt,
    token.successorId,
  ];
}

const INSERT_REFRESH_TOKEN = `INSERT INTO latchkey_refresh_tokens (${REFRESH_TOKEN_COLUMNS})
  VALUES ($1, $2, $3, $4, $5, $6, $7)`;

/**
 * Turns a driver failure into a LatchkeyError. A unique violation is a caller bug (a duplicate
 * id), not an outage: `internal_error`. Anything else is `store_unavailable`. The driver error
 * is replaced by a summary (SQLSTATE and message) because drivers attach the statement and its
 * parameters, which may hold secret hashes.
 */
function toStoreError(error: unknown): LatchkeyError {
  if (error instanceof LatchkeyError) return error;
  const state = sqlStateOf(error);
  const message = error instanceof Error ? error.message : String(error);
  const summary = new Error(state === undefined ? message : `SQLSTATE ${state}: ${message}`);
  if (state === '23505') {
    return new LatchkeyError('internal_error', 'A record with this id already exists', { cause: summary });
  }
  return storeUnavailable(summary);
}

async function guarded<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw toStoreError(error);
  }
}

/**
 * Creates a store over a migrated Postgres database (see `migrate()`).
 *
 * Conventions shared with the memory store: a record is expired at `now` when its expiry is
 * `<= now`; duplicate ids and kids reject with `LatchkeyError('internal_error')`; sessions are
 * listed newest first (`createdAt` desc, then `id` desc); keys by `createdAt`, then `kid`.
 * `close()` closes the client.
 *
 * @example
 * const client = createPGliteClient(await PGlite.create());
 * await migrate(client);
 * const store = createSqlStore(client, { kind: 'pglite' });
 */
export function createSqlStore(client: SqlClient, options: { kind: string }): Store {
  let incrementsSinceSweep = 0;

  const sweepCounters = async (now: number): Promise<void> => {
    incrementsSinceSweep += 1;
    if (incrementsSinceSweep < COUNTER_SWEEP_INTERVAL) return;
    incrementsSinceSweep = 0;
    try {
      await client.query('DELETE FROM latchkey_counters WHERE expires_at <= $1', [now]);
    } catch {
      // Housekeeping only: the increment itself succeeded, and the next sweep will retry.
    }
  };

  return {
    kind: options.kind,

    ping: () =>
      guarded(async () => {
        await client.query('SELECT 1');
      }),

    close: () => guarded(() => client.close()),

    // ---- users -------------------------------------------------------------------------------

    createUser: (user) =>
      guarded(async () => {
        const { rows } = await client.query<{ id: string }>(
          `INSERT INTO latchkey_users (${USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (email) DO NOTHING RETURNING id`,
          [user.id, user.email, user.passwordHash, user.status, user.roles, user.createdAt, user.updatedAt],
        );
        if (rows.length === 0) throw new LatchkeyError('email_taken');
      }),

    getUserById: (id) =>
      guarded(async () => {
        const { rows } = await client.query<UserRow>(
          `SELECT ${USER_COLUMNS} FROM latchkey_users WHERE id = $1`,
          [id],
        );
        const row = rows[0];
        return row === undefined ? null : toUser(row);
      }),

    getUserByEmail: (email) =>
      guarded(async () => {
        const { rows } = await client.query<UserRow>(
          `SELECT ${USER_COLUMNS} FROM latchkey_users WHERE email = $1`,
          [email],
        );
        const row = rows[0];
        return row === undefined ? null : toUser(row);
      }),

    updateUser: (id: string, patch: UserPatch) =>
      guarded(async () => {
        const { rows } = await client.query<{ id: string }>(
          `UPDATE latchkey_users SET
             password_hash = COALESCE($2::text, password_hash),
             status = COALESCE($3::text, status),
             roles = COALESCE($4::text[], roles),
             updated_at = $5
           WHERE id = $1 RETURNING id`,
          [id, patch.passwordHash ?? null, patch.status ?? null, patch.roles ?? null, patch.updatedAt],
        );
        return rows.length > 0;
      }),

    listUsers: (options) =>
      guarded(async () => {
        if (options.limit <= 0) return [];
        const { rows } =
          options.after === undefined
            ? await client.query<UserRow>(
                `SELECT ${USER_COLUMNS} FROM latchkey_users ORDER BY email LIMIT $1`,
                [options.limit],
              )
            : await client.query<UserRow>(
                `SELECT ${USER_COLUMNS} FROM latchkey_users WHERE email > $2 ORDER BY email LIMIT $1`,
                [options.limit, options.after],
              );
        return rows.map(toUser);
      }),

    // ---- sessions ----------------------------------------------------------------------------

    createSession: (session) =>
      guarded(async () => {
        await client.query(
          `INSERT INTO latchkey_sessions (${SESSION_COLUMNS})
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          [
            session.id,
            session.userId,
            session.secretHash,
            session.mode,
            session.createdAt,
            session.lastSeenAt,
            session.idleExpiresAt,
            session.absoluteExpiresAt,
            session.userAgent,
            session.ip,
            session.revokedAt,
          ],
        );
      }),

    getSession: (id) =>
      guarded(async () => {
        const { rows } = await client.query<SessionRow>(
          `SELECT ${SESSION_COLUMNS} FROM latchkey_sessions WHERE id = $1`,
          [id],
        );
        const row = rows[0];
        return row === undefined ? null : toSession(row);
      }),

    touchSession: (id, update) =>
      guarded(async () => {
        await client.query(
          `UPDATE latchkey_sessions SET last_seen_at = $2, idle_expires_at = $3
           WHERE id = $1 AND revoked_at IS NULL`,
          [id, update.lastSeenAt, update.idleExpiresAt],
        );
      }),

    revokeSession: (id, at) =>
      guarded(async () => {
        const { rows } = await client.query<{ id: string }>(
          `UPDATE latchkey_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id`,
          [id, at],
        );
        return rows.length > 0;
      }),

    revokeUserSessions: (userId, at, options) =>
      guarded(async () => {
        // The subquery locks the rows in id order, so that two bulk revocations (or a bulk
        // revocation and the sweep) cannot deadlock on the same user's sessions.
        const except = options?.except;
        const { rows } = await client.query<{ id: string }>(
          `UPDATE latchkey_sessions SET revoked_at = $2
           WHERE revoked_at IS NULL AND id IN (
             SELECT id FROM latchkey_sessions
             WHERE user_id = $1 AND revoked_at IS NULL${except === undefined ? '' : ' AND id <> $3'}
             ORDER BY id FOR UPDATE
           )
           RETURNING id`,
          except === undefined ? [userId, at] : [userId, at, except],
        );
        return rows.map((row) => row.id);
      }),

    listUserSessions: (userId, now) =>
      guarded(async () => {
        const { rows } = await client.query<SessionRow>(
          `SELECT ${SESSION_COLUMNS} FROM latchkey_sessions
           WHERE user_id = $1 AND revoked_at IS NULL AND idle_expires_at > $2 AND absolute_expires_at > $2
           ORDER BY created_at DESC, id DESC`,
          [userId, now],
        );
        return rows.map(toSession);
      }),

    deleteExpiredSessions: (now) =>
      guarded(async () => {
        const { rows } = await client.query<{ removed: number | string }>(
          `WITH gone AS (
             DELETE FROM latchkey_sessions WHERE id IN (
               SELECT id FROM latchkey_sessions
               WHERE LEAST(idle_expires_at, absolute_expires_at, revoked_at) <= $1
               ORDER BY id FOR UPDATE
             )
             RETURNING id
           ), tokens AS (
             DELETE FROM latchkey_refresh_tokens WHERE session_id IN (SELECT id FROM gone)
           )
           SELECT count(*)::int AS removed FROM gone`,
          [now],
        );
        return toNumber(rows[0]?.removed ?? 0);
      }),

    // ---- refresh tokens ----------------------------------------------------------------------

    createRefreshToken: (token) =>
      guarded(async () => {
        await client.query(INSERT_REFRESH_TOKEN, refreshTokenParams(token));
      }),

    getRefreshToken: (id) =>
      guarded(async () => {
        const { rows } = await client.query<RefreshTokenRow>(
          `SELECT ${REFRESH_TOKEN_COLUMNS} FROM latchkey_refresh_tokens WHERE id = $1`,
          [id],
        );
        const row = rows[0];
        return row === undefined ? null : toRefreshToken(row);
      }),

    rotateRefreshToken: (oldId, successor, at) =>
      guarded(() =>
        client.transaction(async (tx) => {
          // Concurrent callers queue on the row lock; after the winner commits, the others
          // re-check `rotated_at IS NULL`, match nothing and store nothing.
          const { rows } = await tx.query<{ id: string }>(
            `UPDATE latchkey_refresh_tokens SET rotated_at = $2, successor_id = $3
             WHERE id = $1 AND rotated_at IS NULL RETURNING id`,
            [oldId, at, successor.id],
          );
          if (rows.length === 0) return false;
          await tx.query(INSERT_REFRESH_TOKEN, refreshTokenParams(successor));
          return true;
        }),
      ),

    // ---- signing keys ------------------------------------------------------------------------

    listKeys: () =>
      guarded(async () => {
        const { rows } = await client.query<SigningKeyRow>(
          `SELECT ${SIGNING_KEY_COLUMNS} FROM latchkey_signing_keys ORDER BY created_at, kid`,
        );
        return rows.map(toSigningKey);
      }),

    insertKey: (key) =>
      guarded(async () => {
        await client.query(
          `INSERT INTO latchkey_signing_keys (${SIGNING_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [
            key.kid,
            key.alg,
            key.publicJwk,
            key.encryptedPrivateKey,
            key.createdAt,
            key.activatesAt,
            key.retiredAt,
            key.expiresAt,
          ],
        );
      }),

    updateKey: (kid, patch) =>
      guarded(async () => {
        const assignments: string[] = [];
        const params: SqlParam[] = [kid];
        if (patch.retiredAt !== undefined) {
          params.push(patch.retiredAt);
          assignments.push(`retired_at = $${params.length}::bigint`);
        }
        if (patch.expiresAt !== undefined) {
          params.push(patch.expiresAt);
          assignments.push(`expires_at = $${params.length}::bigint`);
        }
        if (assignments.length === 0) return;
        await client.query(
          `UPDATE latchkey_signing_keys SET ${assignments.join(', ')} WHERE kid = $1`,
          params,
        );
      }),

    deleteKey: (kid) =>
      guarded(async () => {
        await client.query('DELETE FROM latchkey_signing_keys WHERE kid = $1', [kid]);
      }),

    // ---- revocations -------------------------------------------------------------------------

    addRevocation: (record: NewRevocation) =>
      guarded(() =>
        client.transaction(async (tx) => {
          await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [REVOCATION_LOCK_KEY]);
          const { rows } = await tx.query<RevocationRow>(
            `INSERT INTO latchkey_revocations (kind, subject, issued_before, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING ${REVOCATION_COLUMNS}`,
            [record.kind, record.subject, record.issuedBefore, record.createdAt, record.expiresAt],
          );
          const row = rows[0];
          if (row === undefined) throw new Error('INSERT ... RETURNING returned no row');
          return toRevocation(row);
        }),
      ),

    listRevocations: (options) =>
      guarded(async () => {
        if (options.limit !== undefined && options.limit <= 0) return [];
        // LIMIT NULL is LIMIT ALL.
        const { rows } = await client.query<RevocationRow>(
          `SELECT ${REVOCATION_COLUMNS} FROM latchkey_revocations
           WHERE seq > $2 AND expires_at > $1 ORDER BY seq LIMIT $3`,
          [options.now, options.afterSeq ?? 0, options.limit ?? null],
        );
        return rows.map(toRevocation);
      }),

    deleteExpiredRevocations: (now) =>
      guarded(async () => {
        const { rows } = await client.query<{ removed: number | string }>(
          `WITH gone AS (DELETE FROM latchkey_revocations WHERE expires_at <= $1 RETURNING seq)
           SELECT count(*)::int AS removed FROM gone`,
          [now],
        );
        return toNumber(rows[0]?.removed ?? 0);
      }),

    // ---- clients -----------------------------------------------------------------------------

    createClient: (record) =>
      guarded(async () => {
        const { rows } = await client.query<{ id: string }>(
          `INSERT INTO latchkey_clients (${CLIENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (id) DO NOTHING RETURNING id`,
          [
            record.id,
            record.name,
            record.secretHash,
            record.scopes,
            record.audiences,
            record.createdAt,
            record.disabledAt,
          ],
        );
        if (rows.length === 0) {
          throw new LatchkeyError('internal_error', 'A client with this id already exists');
        }
      }),

    getClient: (id) =>
      guarded(async () => {
        const { rows } = await client.query<ClientRow>(
          `SELECT ${CLIENT_COLUMNS} FROM latchkey_clients WHERE id = $1`,
          [id],
        );
        const row = rows[0];
        return row === undefined ? null : toClient(row);
      }),

    listClients: (options) =>
      guarded(async () => {
        if (options.limit <= 0) return [];
        const { rows } =
          options.after === undefined
            ? await client.query<ClientRow>(
                `SELECT ${CLIENT_COLUMNS} FROM latchkey_clients ORDER BY id LIMIT $1`,
                [options.limit],
              )
            : await client.query<ClientRow>(
                `SELECT ${CLIENT_COLUMNS} FROM latchkey_clients WHERE id > $2 ORDER BY id LIMIT $1`,
                [options.limit, options.after],
              );
        return rows.map(toClient);
      }),

    updateClient: (id, patch) =>
      guarded(async () => {
        const { rows } = await client.query<{ id: string }>(
          'UPDATE latchkey_clients SET disabled_at = $2::bigint WHERE id = $1 RETURNING id',
          [id, patch.disabledAt],
        );
        return rows.length > 0;
      }),

    // ---- counters ----------------------------------------------------------------------------

    increment: (key, ttlMs, now) =>
      guarded(async () => {
        // One statement: Postgres guarantees insert-or-update under concurrency, and the row
        // lock orders concurrent increments.
        const { rows } = await client.query<CounterRow>(
          `INSERT INTO latchkey_counters AS c (key, count, expires_at) VALUES ($1, 1, $3::bigint)
           ON CONFLICT (key) DO UPDATE SET
             count = CASE WHEN c.expires_at <= $2::bigint THEN 1 ELSE c.count + 1 END,
             expires_at = CASE WHEN c.expires_at <= $2::bigint THEN EXCLUDED.expires_at ELSE c.expires_at END
           RETURNING count, expires_at`,
          [key, now, now + ttlMs],
        );
        const row = rows[0];
        if (row === undefined) throw new Error('INSERT ... RETURNING returned no row');
        await sweepCounters(now);
        return toCounter(row);
      }),

    getCounter: (key, now) =>
      guarded(async () => {
        const { rows } = await client.query<CounterRow>(
          'SELECT count, expires_at FROM latchkey_counters WHERE key = $1 AND expires_at > $2',
          [key, now],
        );
        const row = rows[0];
        return row === undefined ? null : toCounter(row);
      }),

    deleteCounter: (key) =>
      guarded(async () => {
        await client.query('DELETE FROM latchkey_counters WHERE key = $1', [key]);
      }),
  };
}
