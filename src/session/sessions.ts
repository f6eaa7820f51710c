import type { Clock } from '../clock.js';
import { LatchkeyError } from '../errors.js';
import {
  parseCredential,
  randomId,
  randomSecret,
  sha256,
  sha256Bytes,
  sha256Matches,
} from '../lib/secrets.js';
import type { SessionStore, SessionWithUser, Store, UserStore } from '../store.js';
import { isSessionLive, type SessionMode, type SessionRecord, type UserRecord } from '../records.js';
import type { Assurance } from '../token/assurance.js';
import type { SessionCache } from './session-cache.js';
import { createVerifiedCredentials } from './verified-credentials.js';

/** How long a session lives in one mode. */
export interface SessionPolicy {
  /** Sliding idle timeout. */
  idleTimeout: number;
  /** Hard lifetime from creation. */
  absoluteTimeout: number;
  /** Minimum interval between two writes of the sliding expiry (at most one write per interval). */
  touchInterval: number;
}

export interface ClientInfo {
  userAgent: string | null;
  ip: string | null;
}

export interface CreatedSession {
  session: SessionRecord;
  /** The credential for the client, `id.secret`; shown once, only its hash is stored. */
  token: string;
}

/** A validated session, and its user when the store read both at once. */
export interface ValidatedSession {
  session: SessionRecord;
  /** The user as read with the session; undefined when it was not read (a near-cache hit). */
  user?: UserRecord | null | undefined;
}

/** What the session manager reads and writes: sessions, and a user read with its session. */
export type SessionManagerStore = SessionStore &
  Pick<UserStore, 'getUserById'> &
  Pick<Store, 'getSessionWithUser'>;

/**
 * The session `id` and its user: one store call where the store has `getSessionWithUser`
 * (one round trip), else the session then its user.
 *
 * @example
 * const found = await readSessionWithUser(store, sessionId);
 */
export function readSessionWithUser(store: SessionManagerStore, id: string): Promise<SessionWithUser | null> {
  // Not async: on the hot path the store's own promise is handed on, not wrapped in another.
  if (store.getSessionWithUser !== undefined) return store.getSessionWithUser(id);
  return readSessionThenUser(store, id);
}

async function readSessionThenUser(store: SessionManagerStore, id: string): Promise<SessionWithUser | null> {
  const session = await store.getSession(id);
  return session === null ? null : { session, user: await store.getUserById(session.userId) };
}

export interface SessionManager {
  /**
   * A new session. `persistent` records "remember me" (cookies with a lifetime). With `renewing`,
   * the new session takes over an existing one after a privilege change: same mode, same
   * absolute expiry and persistence, a new id and secret (the caller revokes the old one), and
   * the same assurance unless `assurance` (a step-up) says otherwise. Without `renewing`,
   * `assurance` is required: how the user just authenticated.
   */
  create(
    options: {
      userId: string;
      mode: SessionMode;
      client: ClientInfo;
      persistent?: boolean;
    } & (
      | { renewing?: undefined; assurance: Assurance }
      | { renewing: SessionRecord; assurance?: Assurance | undefined }
    ),
  ): Promise<CreatedSession>;
  /** Validates an `id.secret` credential; slides the idle expiry. Throws 401-class errors. */
  validateToken(token: string, options?: { mode?: SessionMode }): Promise<SessionRecord>;
  /**
   * {@link validateToken}, with the session's user when the store read it in the same round
   * trip. The sliding-expiry write, when due, is sent without being waited for.
   */
  validateTokenWithUser(token: string, options?: { mode?: SessionMode }): Promise<ValidatedSession>;
  /**
   * {@link validateTokenWithUser} when the near cache holds the session: the same checks and
   * the same result (the session, slid when due), synchronously. Undefined when the answer needs
   * the store, and for every refusal: the caller then calls `validateTokenWithUser`, which reads
   * the store if need be and says why it refuses. Never throws.
   */
  validateTokenFromCache(token: string, options?: { mode?: SessionMode }): ValidatedSession | undefined;
  /** Validates a session known by id (from a verified access token); slides nothing. */
  validateId(sessionId: string): Promise<SessionRecord>;
  /** {@link validateId}, with the session's user when the store read it in the same round trip. */
  validateIdWithUser(sessionId: string): Promise<ValidatedSession>;
  /** Slides the idle expiry of a session (token-mode refresh). */
  touch(session: SessionRecord): Promise<SessionRecord>;
  isLive(session: SessionRecord): boolean;
  policy(mode: SessionMode): SessionPolicy;
}

/**
 * Slides a session's idle expiry when due: the write is sent and not waited for (it never adds
 * a round trip to the request), one at a time per session, and a failed write is retried by a
 * later request. Returns the session as slid.
 */
function backgroundToucher(options: {
  store: SessionManagerStore;
  clock: Clock;
  policies: Record<SessionMode, SessionPolicy>;
  cache?: SessionCache | undefined;
}): (session: SessionRecord) => SessionRecord {
  const { store, clock, policies, cache } = options;
  /** Sessions whose sliding-expiry write is in flight. */
  const touching = new Set<string>();
  return (session) => {
    const now = clock();
    const policy = policies[session.mode];
    if (now - session.lastSeenAt < policy.touchInterval) return session;
    const idleExpiresAt = Math.min(now + policy.idleTimeout, session.absoluteExpiresAt);
    const touched = { ...session, lastSeenAt: now, idleExpiresAt };
    cache?.update(session, touched);
    if (!touching.has(session.id)) {
      touching.add(session.id);
      void store
        .touchSession(session.id, { lastSeenAt: now, idleExpiresAt })
        .catch(() => undefined)
        .finally(() => touching.delete(session.id));
    }
    return touched;
  };
}

/** Refuses a session that {@link isSessionLive} says is dead, saying why. */
function assertLive(session: SessionRecord, now: number): void {
  if (isSessionLive(session, now)) return;
  throw new LatchkeyError(session.revokedAt === null ? 'session_expired' : 'session_revoked');
}

/**
 * The checks of `validateTokenWithUser` once the session is read: the session, or the refusal
 * thrown (an unknown session, a wrong secret or mode, a dead session).
 */
function checkedSession(
  found: ValidatedSession | null,
  secret: string,
  mode: SessionMode | undefined,
  now: number,
): SessionRecord {
  const session = found?.session;
  if (session === undefined || !secretMatches(secret, session)) throw new LatchkeyError('unauthenticated');
  if (mode !== undefined && session.mode !== mode) throw new LatchkeyError('unauthenticated');
  assertLive(session, now);
  return session;
}

/**
 * Whether `secret` is the session's: its SHA-256 compared in constant time with the stored one.
 * The stored hash is decoded on every call: a record read from the store is new each time, and
 * a cached record's credential is checked once (`./verified-credentials.ts`), so keeping the
 * decoded hash per record (a `WeakMap`) cost more in insertions than it saved.
 */
function secretMatches(secret: string, session: SessionRecord): boolean {
  return sha256Matches(secret, sha256Bytes(session.secretHash));
}

/**
 * Sessions as in Lucia's reference design: a random id, a 256-bit secret of which only the
 * SHA-256 is stored, a constant-time comparison, and a sliding expiry written at most once per
 * `touchInterval`.
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html
 */
export function createSessionManager(options: {
  store: SessionManagerStore;
  clock: Clock;
  policies: Record<SessionMode, SessionPolicy>;
  /** A near cache of session reads for authentication (off when absent). */
  cache?: SessionCache | undefined;
}): SessionManager {
  const { store, clock, policies, cache } = options;

  /**
   * The session for authentication: from the near cache when there is one, but a cached copy
   * that is no longer live is read again from the store before anyone is refused (another node
   * may have slid its idle expiry since it was cached).
   */
  function readSession(id: string): Promise<ValidatedSession | null> {
    if (cache === undefined) return readSessionWithUser(store, id);
    const hit = cache.peekSession(id);
    if (hit !== undefined) {
      if (isSessionLive(hit, clock())) return Promise.resolve({ session: hit });
      cache.invalidateSession(id);
    }
    return cache.sessionWithUser(id, () => readSessionWithUser(store, id));
  }

  const touchInBackground = backgroundToucher(options);
  const verifiedCredentials = createVerifiedCredentials();

  const manager: SessionManager = {
    policy: (mode) => policies[mode],

    isLive: (session) => isSessionLive(session, clock()),

    async create({ userId, mode, client, persistent = false, renewing, assurance }) {
      const now = clock();
      const how = assurance ?? renewing;
      if (how === undefined)
        throw new TypeError('A new session needs its assurance (how the user signed in)');
      const policy = policies[mode];
      const secret = randomSecret();
      const absoluteExpiresAt = renewing?.absoluteExpiresAt ?? now + policy.absoluteTimeout;
      const session: SessionRecord = {
        id: randomId(),
        userId,
        secretHash: sha256(secret),
        mode,
        createdAt: now,
        lastSeenAt: now,
        idleExpiresAt: Math.min(now + policy.idleTimeout, absoluteExpiresAt),
        absoluteExpiresAt,
        userAgent: client.userAgent === null ? null : client.userAgent.slice(0, 256),
        ip: client.ip,
        revokedAt: null,
        persistent: renewing?.persistent ?? persistent,
        amr: [...how.amr],
        authTime: how.authTime,
        acr: how.acr,
      };
      await store.createSession(session);
      return { session, token: `${session.id}.${secret}` };
    },

    async validateToken(token, validateOptions = {}) {
      return (await manager.validateTokenWithUser(token, validateOptions)).session;
    },

    // Not async (one promise, the store's, and one `then`): every uncached request comes here.
    validateTokenWithUser(token, validateOptions = {}) {
      const credential = parseCredential(token);
      if (credential === null) return Promise.reject(new LatchkeyError('unauthenticated'));
      const { secret } = credential;
      return readSession(credential.id).then((found) => {
        const session = checkedSession(found, secret, validateOptions.mode, clock());
        return { session: touchInBackground(session), user: found?.user };
      });
    },

    validateTokenFromCache(token, validateOptions = {}) {
      if (cache === undefined) return undefined;
      // What `readSession` answers without a store read: a live cached copy, whose secret this
      // credential matched (now, or before for this very record: `./verified-credentials.ts`).
      let session = verifiedCredentials.get(token);
      if (session === undefined || cache.peekSession(session.id) !== session) {
        const credential = parseCredential(token);
        if (credential === null) return undefined;
        session = cache.peekSession(credential.id);
        if (session === undefined || !secretMatches(credential.secret, session)) return undefined;
        verifiedCredentials.remember(token, session);
      }
      if (!isSessionLive(session, clock())) return undefined;
      if (validateOptions.mode !== undefined && session.mode !== validateOptions.mode) return undefined;
      return { session: touchInBackground(session) };
    },

    async validateId(sessionId) {
      return (await manager.validateIdWithUser(sessionId)).session;
    },

    async validateIdWithUser(sessionId) {
      const found = await readSession(sessionId);
      if (found === null) throw new LatchkeyError('session_revoked');
      assertLive(found.session, clock());
      return found;
    },

    async touch(session) {
      const now = clock();
      const policy = policies[session.mode];
      if (now - session.lastSeenAt < policy.touchInterval) return session;
      const idleExpiresAt = Math.min(now + policy.idleTimeout, session.absoluteExpiresAt);
      await store.touchSession(session.id, { lastSeenAt: now, idleExpiresAt });
      const touched = { ...session, lastSeenAt: now, idleExpiresAt };
      // `session` was read from the store, before this write: the cached entry, if any, is
      // replaced only when it is that very record, else dropped (see SessionCache.update).
      cache?.update(session, touched);
      return touched;
    },
  };
  return manager;
}
