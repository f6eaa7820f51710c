/**
 * The store contract: the only thing the core knows about persistence. The records themselves
 * live in `src/records.ts`.
 *
 * Every time is a number of milliseconds since the epoch. Every method may reject with a
 * `LatchkeyError('store_unavailable')` when the backend cannot be reached; stores wrap driver
 * errors with `storeUnavailable()` so that nothing driver-specific (or secret) escapes.
 *
 * Operations marked **atomic** must be linearizable in every store, including under
 * concurrent calls from many processes: the conformance suite attacks them with concurrency.
 */

import type {
  AuditCursor,
  AuditRecord,
  ClientRecord,
  CounterValue,
  FactorRecord,
  MailOutcome,
  MailRecord,
  MailStatus,
  NewRevocation,
  OneTimeTokenRecord,
  PasskeyRecord,
  RefreshTokenRecord,
  RevocationRecord,
  SessionRecord,
  SigningKeyRecord,
  UserPatch,
  UserRecord,
  WebhookDeliveryRecord,
  WebhookEndpointRecord,
  WebhookOutcome,
} from './records.js';

export interface UserStore {
  /** **Atomic** on email: rejects with `LatchkeyError('email_taken')` when the email exists. */
  createUser(user: UserRecord): Promise<void>;
  getUserById(id: string): Promise<UserRecord | null>;
  getUserByEmail(email: string): Promise<UserRecord | null>;
  /**
   * Returns false when no such user. A patch with `email` is **atomic** on email, like
   * `createUser`: it rejects with `email_taken` (and changes nothing) when another user has it.
   */
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

/**
 * Short-lived single-use secrets (reset links, verification links, second-step challenges).
 * Stored by the hash of the secret (`id`); the store never sees the secret.
 */
export interface OneTimeTokenStore {
  /** Stores a token; rejects with `LatchkeyError('internal_error')` when the id exists. */
  putOneTimeToken(token: OneTimeTokenRecord): Promise<void>;
  /**
   * **Atomic**: removes and returns the token `id` when it exists, has this `purpose` and has
   * not expired at `now`; returns null otherwise (and then removes nothing that is live). Of
   * any number of concurrent calls with the same id, exactly one gets the record.
   */
  consumeOneTimeToken(id: string, purpose: string, now: number): Promise<OneTimeTokenRecord | null>;
  /** Removes every token of `subject` with this `purpose`; returns how many. */
  deleteOneTimeTokens(subject: string, purpose: string): Promise<number>;
  /** How many tokens of `subject` with this `purpose` are live at `now` (the recovery codes left). */
  countOneTimeTokens(subject: string, purpose: string, now: number): Promise<number>;
  /** Sweeps tokens expired at `now`; returns how many were removed. */
  deleteExpiredOneTimeTokens(now: number): Promise<number>;
}

/** Second factors, always addressed through their user (a user has a handful at most). */
export interface FactorStore {
  /** Adds a factor; rejects with `LatchkeyError('internal_error')` when the id exists. */
  createFactor(factor: FactorRecord): Promise<void>;
  /** The user's factors, oldest first (`createdAt`, then `id`). */
  listFactors(userId: string): Promise<FactorRecord[]>;
  /** Marks the factor confirmed at `at` if it is not yet; true when this call did. */
  confirmFactor(userId: string, id: string, at: number): Promise<boolean>;
  /**
   * **Atomic**: records that TOTP step `step` was accepted at `at`, only when the factor exists
   * and its last used step is null or lower. Of concurrent calls with one step, exactly one gets
   * true: a code is accepted once, whichever node sees it.
   */
  useFactorStep(userId: string, id: string, step: number, at: number): Promise<boolean>;
  /** Removes a factor; true when it existed. */
  deleteFactor(userId: string, id: string): Promise<boolean>;
}

/** A session and the user it names (null when that user no longer exists). */
export interface SessionWithUser {
  session: SessionRecord;
  user: UserRecord | null;
}

/** Passkeys: found by credential id (sign-in names no user) or listed per user. */
export interface PasskeyStore {
  /** **Atomic** on the credential id: rejects with `LatchkeyError('passkey_exists')` when it exists (for any user). */
  createPasskey(passkey: PasskeyRecord): Promise<void>;
  getPasskey(id: string): Promise<PasskeyRecord | null>;
  /** The user's passkeys, oldest first (`createdAt`, then `id`). */
  listPasskeys(userId: string): Promise<PasskeyRecord[]>;
  /**
   * **Atomic**: records a use of the passkey (counter, backup state, when), only when the new
   * counter is higher than the stored one, or both are 0 (an authenticator without a counter).
   * False otherwise (and nothing changes): a counter that does not grow is the sign of a cloned
   * authenticator, and of two concurrent uses with one counter exactly one gets true.
   */
  usePasskey(id: string, use: { counter: number; backedUp: boolean; at: number }): Promise<boolean>;
  /** Renames the user's passkey; false when the user has no such passkey. */
  renamePasskey(userId: string, id: string, name: string): Promise<boolean>;
  /** Removes the user's passkey; true when it existed. */
  deletePasskey(userId: string, id: string): Promise<boolean>;
}

/**
 * The durable mail outbox. A flow queues a mail in the same step as the one-time token its link
 * carries, so that a link is never stored without the mail that delivers it; workers on any
 * number of nodes claim due mails with a lease, send them, and settle them.
 */
export interface MailStore {
  /**
   * Queues `mail` (status `queued`). With `token`: first removes every token of the token's
   * subject and purpose when `supersede` is set (a newer link replaces the older ones), then
   * stores the token, and the mail with it. All or nothing where the store has transactions
   * (SQL, memory); on Redis the token is written first and the mail after it, so a failure
   * between leaves an unmailed token that nobody holds (the caller sees the rejection).
   */
  queueMail(
    mail: MailRecord,
    options?: { token?: OneTimeTokenRecord | undefined; supersede?: boolean | undefined },
  ): Promise<void>;
  /**
   * **Atomic** per mail: claims up to `limit` queued mails due at `now` (oldest due first), each
   * for `leaseMs`: sets `claimedBy = claimant`, `nextAttemptAt = now + leaseMs`, adds one to
   * `attempts`, and returns them as claimed. Of concurrent claimers, at most one gets a mail
   * until its lease ends.
   */
  claimMails(options: {
    now: number;
    leaseMs: number;
    limit: number;
    claimant: string;
  }): Promise<MailRecord[]>;
  /**
   * **Atomic**: settles a mail that `claimant` still holds (queued and `claimedBy === claimant`):
   * sent, failed for good, or queued again for `retryAt`; clears the claim. Returns false (and
   * changes nothing) when the claim was lost.
   */
  settleMail(id: string, claimant: string, outcome: MailOutcome): Promise<boolean>;
  getMail(id: string): Promise<MailRecord | null>;
  /** Newest first (`createdAt` desc, then `id` desc), optionally of one status. */
  listMails(options: { limit: number; status?: MailStatus | undefined }): Promise<MailRecord[]>;
  /** Sweeps settled mails whose `expiresAt` is at or before `now`; returns how many. */
  deleteExpiredMails(now: number): Promise<number>;
}

/** The audit trail: one record per security event, kept for the retention, listed newest first. */
export interface AuditStore {
  /** Appends a record; rejects with `LatchkeyError('internal_error')` when the id exists. */
  addAuditRecord(record: AuditRecord): Promise<void>;
  /**
   * Newest first (`at` desc, then `id` desc), of one user when `userId` is given (else of
   * everyone); `before` is the cursor of the previous page's last record (strictly older ones).
   * Expired records that the sweep has not removed yet may be listed.
   */
  listAuditRecords(options: {
    limit: number;
    userId?: string | undefined;
    before?: AuditCursor | undefined;
  }): Promise<AuditRecord[]>;
  /** Sweeps records whose `expiresAt` is at or before `now`; returns how many. */
  deleteExpiredAuditRecords(now: number): Promise<number>;
}

/**
 * Webhook endpoints and the durable queue of their deliveries (the mail outbox's pattern):
 * deliveries are queued when their event happens, and workers on any number of nodes claim due
 * ones with a lease, send them and settle them; settled ones stay as the endpoint's delivery log.
 */
export interface WebhookStore {
  /** Rejects with `LatchkeyError('internal_error')` when the id exists. */
  createWebhookEndpoint(endpoint: WebhookEndpointRecord): Promise<void>;
  getWebhookEndpoint(id: string): Promise<WebhookEndpointRecord | null>;
  /** Every endpoint, oldest first (`createdAt`, then `id`). */
  listWebhookEndpoints(): Promise<WebhookEndpointRecord[]>;
  /** Removes the endpoint and its deliveries; true when it existed. */
  deleteWebhookEndpoint(id: string): Promise<boolean>;
  /** Queues deliveries (status `queued`); rejects with `internal_error` on a duplicate id. */
  queueWebhookDeliveries(deliveries: readonly WebhookDeliveryRecord[]): Promise<void>;
  /**
   * **Atomic** per delivery, like `claimMails`: claims up to `limit` queued deliveries due at
   * `now` (earliest due first) for `leaseMs`, adds one to `attempts`, returns them as claimed.
   */
  claimWebhookDeliveries(options: {
    now: number;
    leaseMs: number;
    limit: number;
    claimant: string;
  }): Promise<WebhookDeliveryRecord[]>;
  /**
   * **Atomic**: settles a delivery that `claimant` still holds: delivered, failed for good, or
   * queued again for `retryAt`; records the answer's status and clears the claim. False (and
   * nothing changes) when the claim was lost.
   */
  settleWebhookDelivery(id: string, claimant: string, outcome: WebhookOutcome): Promise<boolean>;
  getWebhookDelivery(id: string): Promise<WebhookDeliveryRecord | null>;
  /** One endpoint's deliveries, newest first (`createdAt` desc, then `id` desc). */
  listWebhookDeliveries(options: { endpointId: string; limit: number }): Promise<WebhookDeliveryRecord[]>;
  /** Sweeps settled deliveries whose `expiresAt` is at or before `now`; returns how many. */
  deleteExpiredWebhookDeliveries(now: number): Promise<number>;
}

export interface Store
  extends
    UserStore,
    SessionStore,
    RefreshTokenStore,
    KeyStore,
    RevocationStore,
    CounterStore,
    ClientStore,
    OneTimeTokenStore,
    FactorStore,
    PasskeyStore,
    MailStore,
    AuditStore,
    WebhookStore {
  /** A short name for logs and health output: `memory`, `pglite`, `postgres`, `redis`, ... */
  readonly kind: string;
  /**
   * Optional: the session `id` and its user in one round trip (SQL: one statement with a join;
   * Redis: one script); null when the session does not exist. What an authenticated request
   * reads. Callers use `readSessionWithUser` (`src/session/sessions.ts`), which falls back to
   * `getSession` then `getUserById` on a store without it (a composite store, a custom one).
   */
  getSessionWithUser?(id: string): Promise<SessionWithUser | null>;
  /** Resolves when the backend answers; rejects with `store_unavailable` otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
