/**
 * The records Latchkey keeps, and the rules that read them. Stores persist them, the core acts
 * on them, and the resource-service SDK reads the revocation record: all three import them from
 * here, so no layer has to reach into another for a type.
 *
 * Every time is a number of milliseconds since the epoch.
 */

export type UserStatus = 'active' | 'disabled';

export interface UserRecord {
  id: string;
  /** Normalized (trimmed, NFKC, lower-cased) email; unique. */
  email: string;
  /** PHC string from argon2id; {@link NO_PASSWORD} for an account made with a passkey. */
  passwordHash: string;
  status: UserStatus;
  roles: string[];
  createdAt: number;
  updatedAt: number;
  /** When the owner proved they read mail at `email` (a verification link), or null. */
  emailVerifiedAt: number | null;
}

/**
 * The password hash of an account without a password (signed up with a passkey): no password
 * verifies against it, and the verification spends the same work as a wrong password.
 */
export const NO_PASSWORD = '';

/** Whether the user has a password (false for a passkey-only account). */
export function hasPassword(user: Pick<UserRecord, 'passwordHash'>): boolean {
  return user.passwordHash !== NO_PASSWORD;
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
  /**
   * The client asked to be remembered at login: its cookies carry a lifetime (up to the
   * absolute expiry) instead of ending with the browser. Token mode ignores it.
   */
  persistent: boolean;
  /**
   * How the user authenticated (RFC 8176 `amr`: `pwd`, `otp`, `hwk`, `swk`, `email`, `mfa`; see
   * `token/assurance.ts`). Kept by refreshes and renewals; raised by a step-up.
   */
  amr: readonly string[];
  /** When the user last authenticated (ms): the login, or the last step-up. Not moved by a refresh. */
  authTime: number;
  /** The assurance level: `1` (one factor) or `mfa` (two). */
  acr: string;
}

/**
 * The one rule for "is this session live at `now`": not revoked, and before both its idle and
 * its absolute expiry. A session is dead at the very millisecond it expires.
 *
 * @example
 * isSessionLive(session, clock()); // false once revoked or expired
 */
export function isSessionLive(
  session: Pick<SessionRecord, 'revokedAt' | 'idleExpiresAt' | 'absoluteExpiresAt'>,
  now: number,
): boolean {
  return session.revokedAt === null && now < session.idleExpiresAt && now < session.absoluteExpiresAt;
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

/**
 * A short-lived, single-use secret (a reset link, a verification link, a second-step challenge,
 * a sign-in link). Only the SHA-256 of the secret is stored, under `id`: whoever holds the
 * secret proves it by hashing it again.
 */
export interface OneTimeTokenRecord {
  /** base64url SHA-256 of the secret; unique. */
  id: string;
  /** What the token is for (`password_reset`, `email_verification`, ...); a token is consumed for one purpose only. */
  purpose: string;
  /** Whom it is for (a user id, usually). */
  subject: string;
  /** Safe, non-secret data the flow needs when the token is consumed (e.g. the new email), as JSON text; null when none. */
  data: string | null;
  createdAt: number;
  /** The token cannot be consumed at or after this time. */
  expiresAt: number;
}

/** What kind of second factor a factor record is. */
export type FactorKind = 'totp';

/**
 * A user's second factor. A TOTP factor holds its secret sealed with a key derived from the
 * master secret (bound to the user and factor id: `lib/seal.ts`), never in the clear, and the
 * last time step it accepted, so that each code works once.
 */
export interface FactorRecord {
  id: string;
  userId: string;
  kind: FactorKind;
  /** A name the user gave it ("Phone"). */
  label: string;
  /** The sealed secret (TOTP). */
  secret: string;
  /** The last TOTP step accepted; null before the first. */
  lastUsedStep: number | null;
  createdAt: number;
  /** When enrolment was confirmed with a first code; an unconfirmed factor is not used at login. */
  confirmedAt: number | null;
  lastUsedAt: number | null;
}

/**
 * A passkey (a WebAuthn credential) of a user. Its own record rather than a kind of
 * {@link FactorRecord}: a passkey is looked up by its credential id, before the user is known
 * (username-less sign-in), and it signs in alone as well as serving as a second factor.
 */
export interface PasskeyRecord {
  /** The credential id, base64url; unique across all users. */
  id: string;
  userId: string;
  /** The credential's public key as COSE, base64url. */
  publicKey: string;
  /** The last signature counter seen; 0 when the authenticator keeps none. */
  counter: number;
  /** Transports the authenticator reported (`internal`, `hybrid`, `usb`, ...), to hint the browser. */
  transports: string[];
  /** Backup eligible (BE flag): a synced, multi-device passkey. Fixed at registration. */
  backupEligible: boolean;
  /** Backup state (BS flag) at the last use. */
  backedUp: boolean;
  /** The authenticator model's AAGUID (zeros when it gives none). */
  aaguid: string;
  /** A name the user gave it ("Laptop"). */
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface UserPatch {
  /** A new normalized email; the store refuses one that another user has (`email_taken`). */
  email?: string;
  passwordHash?: string;
  status?: UserStatus;
  roles?: string[];
  /** null: the address is no longer verified. */
  emailVerifiedAt?: number | null;
  updatedAt: number;
}

export type MailStatus = 'queued' | 'sent' | 'failed';

/**
 * A mail in the durable outbox: queued by a flow (often in the same step as the one-time token
 * its link carries), then claimed, sent and settled by the mail worker of some node.
 */
export interface MailRecord {
  /** Random; also the `Message-ID`'s local part and the outbox file's name. */
  id: string;
  /** The template it was made from (`verification`, `password_reset`, ...). */
  kind: string;
  /** The recipient's address. */
  to: string;
  /**
   * The rendered message (subject, text, HTML), sealed by the core (AES-256-GCM under a key
   * derived from the master secret): it may hold a link that is a secret, and the store must
   * not be a second place to read it in clear.
   */
  message: string;
  status: MailStatus;
  /** How many times a worker claimed it (each claim is one delivery attempt). */
  attempts: number;
  createdAt: number;
  /**
   * While queued: no attempt before this. A claim moves it to the end of the claim's lease, so
   * that no other worker takes the mail while one is sending it.
   */
  nextAttemptAt: number;
  /** The random token of the claim that holds the mail, or null. */
  claimedBy: string | null;
  /** When it was sent or given up on; null while queued. */
  settledAt: number | null;
  /** A short summary of the last failure (never a secret), or null. */
  lastError: string | null;
  /** Once settled, the mail may be swept from this time on (a queued mail never is). */
  expiresAt: number;
}

/** How a claimed delivery attempt ended. */
export type MailOutcome =
  | { status: 'sent'; at: number }
  | { status: 'queued'; retryAt: number; error: string }
  | { status: 'failed'; at: number; error: string };

/**
 * One entry of the audit trail: a security event (docs/security.md), who it concerns, from
 * where, and a few bounded details. Never a secret, a token or a password.
 */
export interface AuditRecord {
  /** Random; orders records of the same millisecond. */
  id: string;
  /** When it happened. */
  at: number;
  /** The event's name (`login.success`, `password.change`, ...). */
  event: string;
  /** The user it concerns, when there is one. */
  userId: string | null;
  /** The machine client it concerns, when there is one. */
  clientId: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  /** Bounded details (`reason`, `mode`, `method`, counts ...): short strings, numbers, booleans. */
  details: Record<string, string | number | boolean>;
  /** Swept from this time on (`LATCHKEY_AUDIT_RETENTION` after `at`). */
  expiresAt: number;
}

/** Where a page of the audit trail ends: the last record's time and id (newest first). */
export interface AuditCursor {
  at: number;
  id: string;
}

/** An endpoint that receives webhooks (Standard Webhooks): an operator registered it. */
export interface WebhookEndpointRecord {
  /** Random, `ep_...`. */
  id: string;
  /** `http:` or `https:` only. */
  url: string;
  /** The event names it receives; `*` for every audited event. */
  events: string[];
  /** The signing secret (`whsec_...`), sealed by the core under a key derived from the master secret. */
  secret: string;
  createdAt: number;
}

export type WebhookDeliveryStatus = 'queued' | 'delivered' | 'failed';

/**
 * One message to one endpoint, in the durable queue: queued when its event happens, claimed,
 * sent and settled by the webhook worker of some node, kept as the endpoint's delivery log.
 */
export interface WebhookDeliveryRecord {
  /** Random, `msg_...`: the `webhook-id` header, the same on every attempt. */
  id: string;
  endpointId: string;
  event: string;
  /** The JSON body, exactly as signed and sent. */
  payload: string;
  status: WebhookDeliveryStatus;
  /** How many times a worker claimed it (each claim is one attempt). */
  attempts: number;
  createdAt: number;
  /** While queued: no attempt before this (a claim moves it to the end of its lease). */
  nextAttemptAt: number;
  claimedBy: string | null;
  settledAt: number | null;
  /** The HTTP status of the last answer, or null (none yet, or no answer). */
  responseStatus: number | null;
  /** A short summary of the last failure (never a secret), or null. */
  lastError: string | null;
  /** Once settled, swept from this time on (a queued delivery never is). */
  expiresAt: number;
}

/** How a claimed delivery attempt ended. */
export type WebhookOutcome =
  | { status: 'delivered'; at: number; responseStatus: number }
  | { status: 'queued'; retryAt: number; error: string; responseStatus: number | null }
  | { status: 'failed'; at: number; error: string; responseStatus: number | null };
