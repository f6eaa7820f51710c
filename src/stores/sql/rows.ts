/**
 * The rows of the SQL tables as drivers return them, their column lists, and their conversion
 * to the records of `src/records.ts`. Integer columns go through the dialect's `readInteger`
 * (drivers return string, number or BigInt) and array columns through its `readStrings`
 * (`text[]` in Postgres, JSON text elsewhere).
 */

import type {
  ClientRecord,
  CounterValue,
  KeyAlgorithm,
  MailRecord,
  MailStatus,
  OneTimeTokenRecord,
  RefreshTokenRecord,
  RevocationKind,
  RevocationRecord,
  SessionMode,
  SessionRecord,
  SigningKeyRecord,
  UserRecord,
  UserStatus,
} from '../../records.js';
import type { SqlDialect, SqlInteger } from './dialect.js';
import { legacyAssurance, type Assurance } from '../../token/assurance.js';

/** A row of `latchkey_users`. */
export interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  status: string;
  roles: unknown;
  created_at: SqlInteger;
  updated_at: SqlInteger;
  email_verified_at: SqlInteger | null;
}

/** A row of `latchkey_sessions`. */
export interface SessionRow {
  id: string;
  user_id: string;
  secret_hash: string;
  mode: string;
  created_at: SqlInteger;
  last_seen_at: SqlInteger;
  idle_expires_at: SqlInteger;
  absolute_expires_at: SqlInteger;
  user_agent: string | null;
  ip: string | null;
  persistent: unknown;
  revoked_at: SqlInteger | null;
  /** Space-separated; null on a row written before migration 0008 (read as `pwd`). */
  amr: string | null;
  auth_time: SqlInteger | null;
  acr: string | null;
}

/** A row of `latchkey_refresh_tokens`. */
export interface RefreshTokenRow {
  id: string;
  session_id: string;
  secret_hash: string;
  created_at: SqlInteger;
  expires_at: SqlInteger;
  rotated_at: SqlInteger | null;
  successor_id: string | null;
}

/** A row of `latchkey_signing_keys`. */
export interface SigningKeyRow {
  kid: string;
  alg: string;
  public_jwk: string | null;
  encrypted_private_key: string;
  created_at: SqlInteger;
  activates_at: SqlInteger;
  retired_at: SqlInteger | null;
  expires_at: SqlInteger | null;
}

/** A row of `latchkey_revocations`. */
export interface RevocationRow {
  seq: SqlInteger;
  kind: string;
  subject: string;
  issued_before: SqlInteger | null;
  created_at: SqlInteger;
  expires_at: SqlInteger;
}

/** A row of `latchkey_clients`. */
export interface ClientRow {
  id: string;
  name: string;
  secret_hash: string;
  scopes: unknown;
  audiences: unknown;
  created_at: SqlInteger;
  disabled_at: SqlInteger | null;
}

/** A row of `latchkey_counters` (its value columns). */
export interface CounterRow {
  count: SqlInteger;
  expires_at: SqlInteger;
}

/** A row of `latchkey_one_time_tokens`. */
export interface OneTimeTokenRow {
  id: string;
  purpose: string;
  subject: string;
  data: string | null;
  created_at: SqlInteger;
  expires_at: SqlInteger;
}

/** A row of `latchkey_mails`. */
export interface MailRow {
  id: string;
  kind: string;
  recipient: string;
  message: string;
  status: string;
  attempts: SqlInteger;
  created_at: SqlInteger;
  next_attempt_at: SqlInteger;
  claimed_by: string | null;
  settled_at: SqlInteger | null;
  last_error: string | null;
  expires_at: SqlInteger;
}

/**
 * The columns of each table, in the order of its `INSERT`s. A column named by a word that some
 * engine reserves is double-quoted (`"key"`: MySQL), which every engine reads as the plain name
 * (MySQL with `ANSI_QUOTES` in its `sql_mode`).
 */
export const COLUMNS = {
  users: ['id', 'email', 'password_hash', 'status', 'roles', 'created_at', 'updated_at', 'email_verified_at'],
  sessions: [
    'id',
    'user_id',
    'secret_hash',
    'mode',
    'created_at',
    'last_seen_at',
    'idle_expires_at',
    'absolute_expires_at',
    'user_agent',
    'ip',
    'revoked_at',
    'persistent',
    'amr',
    'auth_time',
    'acr',
  ],
  refreshTokens: [
    'id',
    'session_id',
    'secret_hash',
    'created_at',
    'expires_at',
    'rotated_at',
    'successor_id',
  ],
  signingKeys: [
    'kid',
    'alg',
    'public_jwk',
    'encrypted_private_key',
    'created_at',
    'activates_at',
    'retired_at',
    'expires_at',
  ],
  revocations: ['seq', 'kind', 'subject', 'issued_before', 'created_at', 'expires_at'],
  clients: ['id', 'name', 'secret_hash', 'scopes', 'audiences', 'created_at', 'disabled_at'],
  counters: ['"key"', 'count', 'expires_at'],
  oneTimeTokens: ['id', 'purpose', 'subject', 'data', 'created_at', 'expires_at'],
  mails: [
    'id',
    'kind',
    'recipient',
    'message',
    'status',
    'attempts',
    'created_at',
    'next_attempt_at',
    'claimed_by',
    'settled_at',
    'last_error',
    'expires_at',
  ],
} as const satisfies Record<string, readonly string[]>;

function nullableInteger(dialect: SqlDialect, value: SqlInteger | null): number | null {
  return value === null ? null : dialect.readInteger(value);
}

/** A user row as a record. */
export function toUser(row: UserRow, dialect: SqlDialect): UserRecord {
  return {
    id: row.id,
    email: row.email,
    passwordHash: row.password_hash,
    status: row.status as UserStatus,
    roles: dialect.readStrings(row.roles),
    createdAt: dialect.readInteger(row.created_at),
    updatedAt: dialect.readInteger(row.updated_at),
    emailVerifiedAt: nullableInteger(dialect, row.email_verified_at),
  };
}

/** A session row as a record. */
export function toSession(row: SessionRow, dialect: SqlDialect): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    secretHash: row.secret_hash,
    mode: row.mode as SessionMode,
    createdAt: dialect.readInteger(row.created_at),
    lastSeenAt: dialect.readInteger(row.last_seen_at),
    idleExpiresAt: dialect.readInteger(row.idle_expires_at),
    absoluteExpiresAt: dialect.readInteger(row.absolute_expires_at),
    userAgent: row.user_agent,
    ip: row.ip,
    revokedAt: nullableInteger(dialect, row.revoked_at),
    persistent: dialect.readBoolean(row.persistent),
    ...sessionAssurance(row, dialect),
  };
}

/**
 * A session's assurance; a row from before migration 0008 (nulls) reads as a password login at
 * the session's creation, the lowest assurance it can have had.
 */
function sessionAssurance(row: SessionRow, dialect: SqlDialect): Assurance {
  const legacy = legacyAssurance(dialect.readInteger(row.created_at));
  return {
    amr: row.amr === null ? legacy.amr : row.amr.split(' ').filter((method) => method.length > 0),
    authTime: row.auth_time === null ? legacy.authTime : dialect.readInteger(row.auth_time),
    acr: row.acr ?? legacy.acr,
  };
}

/** A refresh-token row as a record. */
export function toRefreshToken(row: RefreshTokenRow, dialect: SqlDialect): RefreshTokenRecord {
  return {
    id: row.id,
    sessionId: row.session_id,
    secretHash: row.secret_hash,
    createdAt: dialect.readInteger(row.created_at),
    expiresAt: dialect.readInteger(row.expires_at),
    rotatedAt: nullableInteger(dialect, row.rotated_at),
    successorId: row.successor_id,
  };
}

/** A signing-key row as a record. */
export function toSigningKey(row: SigningKeyRow, dialect: SqlDialect): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg as KeyAlgorithm,
    publicJwk: row.public_jwk,
    encryptedPrivateKey: row.encrypted_private_key,
    createdAt: dialect.readInteger(row.created_at),
    activatesAt: dialect.readInteger(row.activates_at),
    retiredAt: nullableInteger(dialect, row.retired_at),
    expiresAt: nullableInteger(dialect, row.expires_at),
  };
}

/** A revocation row as a record. */
export function toRevocation(row: RevocationRow, dialect: SqlDialect): RevocationRecord {
  return {
    seq: dialect.readInteger(row.seq),
    kind: row.kind as RevocationKind,
    subject: row.subject,
    issuedBefore: nullableInteger(dialect, row.issued_before),
    createdAt: dialect.readInteger(row.created_at),
    expiresAt: dialect.readInteger(row.expires_at),
  };
}

/** A client row as a record. */
export function toClient(row: ClientRow, dialect: SqlDialect): ClientRecord {
  return {
    id: row.id,
    name: row.name,
    secretHash: row.secret_hash,
    scopes: dialect.readStrings(row.scopes),
    audiences: dialect.readStrings(row.audiences),
    createdAt: dialect.readInteger(row.created_at),
    disabledAt: nullableInteger(dialect, row.disabled_at),
  };
}

/** A counter row as its value. */
export function toCounter(row: CounterRow, dialect: SqlDialect): CounterValue {
  return { count: dialect.readInteger(row.count), expiresAt: dialect.readInteger(row.expires_at) };
}

/** A one-time-token row as a record. */
export function toOneTimeToken(row: OneTimeTokenRow, dialect: SqlDialect): OneTimeTokenRecord {
  return {
    id: row.id,
    purpose: row.purpose,
    subject: row.subject,
    data: row.data,
    createdAt: dialect.readInteger(row.created_at),
    expiresAt: dialect.readInteger(row.expires_at),
  };
}

/** A mail row as a record. */
export function toMail(row: MailRow, dialect: SqlDialect): MailRecord {
  return {
    id: row.id,
    kind: row.kind,
    to: row.recipient,
    message: row.message,
    status: row.status as MailStatus,
    attempts: dialect.readInteger(row.attempts),
    createdAt: dialect.readInteger(row.created_at),
    nextAttemptAt: dialect.readInteger(row.next_attempt_at),
    claimedBy: row.claimed_by,
    settledAt: nullableInteger(dialect, row.settled_at),
    lastError: row.last_error,
    expiresAt: dialect.readInteger(row.expires_at),
  };
}
