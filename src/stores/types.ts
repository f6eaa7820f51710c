/**
 * The store contract: the only thing the core knows about persistence.
 *
 * Every time is a number of milliseconds since the epoch. Every method may reject with a
 * `LatchkeyError('store_unavailable')` when the backend cannot be reached; stores wrap driver
 * errors with `storeUnavailable()` so that nothing driver-specific (or secret) escapes.
 *
 * Operations marked **atomic** must be linearizable in every store, including under
 * concurrent calls from many processes: the conformance suite attacks them with concurrency.
 */

export type UserStatus = 'active' | 'disabled';

export interface UserRecord {
  id: string;
  /** Normalized (trimmed, NFKC, lower-cased) email; unique. */
  email: string;
  /** PHC string from argon2id. */
  passwordHash: string;
  status: UserStatus;
  roles: string[];
  createdAt: number;
  updatedAt: number;
}

export type SessionMode = 'cookie' | 'token' | 'hybrid';

/** The one session record that every mode shares. */
export interface SessionRecord {
  id: string;
  userId: string;
  /** base64url SHA-256 of the session secret; the secret itself is never stored. */
  secretHash: string;
  mode: SessionMode;
  createdAt: number;
  lastSeenAt: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  userAgent: string | null;
  ip: string | null;
  revokedAt: number | null;
}

export interface RefreshTokenRecord {
  id: string;
  sessionId: string;
  /** base64url SHA-256 of the refresh secret. */
  secretHash: string;
  createdAt: number;
  expiresAt: number;
  /** Set once, when this token is exchanged for its successor. */
  rotatedAt: number | null;
  successorId: string | null;
}

export type KeyAlgorithm = 'EdDSA' | 'ES256' | 'RS256' | 'HS256';

export interface SigningKeyRecord {
  kid: string;
  alg: KeyAlgorithm;
  /** Public JWK as JSON (null for HS256: symmetric keys are never published). */
  publicJwk: string | null;
  /** Private (or secret) key material, encrypted with a key derived from the master secret. */
  encryptedPrivateKey: string;
  createdAt: number;
  /** Published from createdAt; signs from activatesAt. */
  activatesAt: number;
  /** Stops signing at retiredAt (null while it may be active). */
  retiredAt: number | null;
  /** Removed from the JWKS (and the store) after expiresAt (null while not retired). */
  expiresAt: number | null;
}

export type RevocationKind = 'session' | 'user' | 'token';

/**
 * A revocation that resource services must learn about:
 * - `session`: every token whose `sid` is `subject`;
 * - `user`: every token of user `subject` issued before `issuedBefore`;
 * - `token`: the token whose `jti` is `subject`.
 */
export interface RevocationRecord {
  /** Strictly increasing per store; used as the feed position (SSE `id`). */
  seq: number;
  kind: RevocationKind;
  subject: string;
  issuedBefore: number | null;
  createdAt: number;
  /** When the record no longer matters (the longest access-token lifetime after creation). */
  expiresAt: number;
}

export type NewRevocation = Omit<RevocationRecord, 'seq'>;

/**
 * A machine client (OAuth 2.0 confidential client) that obtains access tokens with the client
 * credentials grant and authenticates to introspection and the revocation feed.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2
 */
export interface ClientRecord {
  /** The `client_id`; unique. */
  id: string;
  /** A human label. */
  name: string;
  /** base64url SHA-256 of the 256-bit client secret; the secret itself is never stored. */
  secretHash: string;
  /** Scopes the client may request (a token's `scope` is a subset). */
  scopes: string[];
  /** Audiences (resource servers) the client may request tokens for; the first is the default. */
  audiences: string[];
  createdAt: number;
  /** Set when the client is disabled; a disabled client cannot authenticate. */
  disabledAt: number | null;
}

export interface CounterValue {
  count: number;
  expiresAt: number;
}

export interface UserPatch {
  passwordHash?: string;
  status?: UserStatus;
  roles?: string[];
  updatedAt: number;
}

export interface UserStore {
  /** **Atomic** on email: rejects with `LatchkeyError('email_taken')` when the email exists. */
  createUser(user: UserRecord): Promise<void>;
  getUserById(id: string): Promise<UserRecord | null>;
  getUserByEmail(email: string): Promise<UserRecord | null>;
  /** Returns false when no such user. */
  updateUser(id: string, patch: UserPatch): Promise<boolean>;
  /** Ordered by email; `after` is the last email of the previous page. */
  listUsers(options: { limit: number; after?: string }): Promise<UserRecord[]>;
}

export interface SessionStore {
  createSession(session: SessionRecord): Promise<void>;
  getSession(id: string): Promise<SessionRecord | null>;
  /** Slides the idle expiry. No effect on a revoked or missing session. */
  touchSession(id: string, update: { lastSeenAt: number; idleExpiresAt: number }): Promise<void>;
  /**
   * **Atomic**: sets `revokedAt` if it is null. Returns true only for the call that revoked it,
   * so that exactly one caller publishes the revocation.
   */
  revokeSession(id: string, at: number): Promise<boolean>;
  /** **Atomic** per session: revokes every live session of the user except `except`; returns their ids. */
  revokeUserSessions(userId: string, at: number, options?: { except?: string }): Promise<string[]>;
  /** Sessions not revoked and not expired at `now`, newest first. */
  listUserSessions(userId: string, now: number): Promise<SessionRecord[]>;
  /**
   * Sweeps sessions that expired (idle or absolute) or were revoked before `now`, along with
   * their refresh tokens. Returns how many sessions were removed.
   */
  deleteExpiredSessions(now: number): Promise<number>;
}

export interface RefreshTokenStore {
  createRefreshToken(token: RefreshTokenRecord): Promise<void>;
  getRefreshToken(id: string): Promise<RefreshTokenRecord | null>;
  /**
   * **Atomic** compare-and-set: if `oldId` exists with `rotatedAt === null`, sets its
   * `rotatedAt = at` and `successorId = successor.id` and stores `successor`, all or nothing.
   * Returns true for exactly one of any number of concurrent calls with the same `oldId`;
   * the others return false and store nothing.
   */
  rotateRefreshToken(oldId: string, successor: RefreshTokenRecord, at: number): Promise<boolean>;
}

export interface KeyStore {
  listKeys(): Promise<SigningKeyRecord[]>;
  /** Rejects if the kid exists. */
  insertKey(key: SigningKeyRecord): Promise<void>;
  updateKey(kid: string, patch: { retiredAt?: number | null; expiresAt?: number | null }): Promise<void>;
  deleteKey(kid: string): Promise<void>;
}

export interface RevocationStore {
  /** **Atomic**: assigns the next `seq` and stores the record. */
  addRevocation(record: NewRevocation): Promise<RevocationRecord>;
  /** Records with `seq > afterSeq` (all if omitted) that have not expired at `now`, in `seq` order. */
  listRevocations(options: { now: number; afterSeq?: number; limit?: number }): Promise<RevocationRecord[]>;
  /** Returns how many were removed. */
  deleteExpiredRevocations(now: number): Promise<number>;
}

export interface ClientStore {
  /** **Atomic** on id: rejects with `LatchkeyError('internal_error')` when the id exists. */
  createClient(client: ClientRecord): Promise<void>;
  getClient(id: string): Promise<ClientRecord | null>;
  /** Ordered by id (code-point order); `after` is the last id of the previous page. */
  listClients(options: { limit: number; after?: string }): Promise<ClientRecord[]>;
  /** Returns false when no such client. */
  updateClient(id: string, patch: { disabledAt: number | null }): Promise<boolean>;
}

export interface CounterStore {
  /**
   * **Atomic** increment. When the key is absent or expired at `now`, it starts at 1 with
   * `expiresAt = now + ttlMs`; otherwise the count grows and the expiry is kept.
   */
  increment(key: string, ttlMs: number, now: number): Promise<CounterValue>;
  /** The live value at `now`, or null. */
  getCounter(key: string, now: number): Promise<CounterValue | null>;
  deleteCounter(key: string): Promise<void>;
}

export interface Store
  extends UserStore, SessionStore, RefreshTokenStore, KeyStore, RevocationStore, CounterStore, ClientStore {
  /** A short name for logs and health output: `memory`, `pglite`, `postgres`, `redis`, ... */
  readonly kind: string;
  /** Resolves when the backend answers; rejects with `store_unavailable` otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
