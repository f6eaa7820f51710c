/**
 * What every use case is built from: the store, the core services, and the few account rules
 * they share (an active user, revoking sessions and publishing it). Built once by the
 * composition root (`src/app/`); each use case module takes it whole.
 */

import type { Clock } from '../clock.js';
import { LatchkeyError } from '../errors.js';
import type { RelyingParty } from '../factors/webauthn.js';
import type { Logger } from '../log.js';
import type { PasswordHasher } from '../password/hash.js';
import type { UserPatch, UserRecord } from '../records.js';
import type { RevocationRecorder } from '../revocation/revocations.js';
import type { SessionCache } from '../session/session-cache.js';
import type { SessionManager } from '../session/sessions.js';
import type { Store } from '../store.js';
import type { CredentialThrottle } from '../throttle/credential-throttle.js';
import type { LoginThrottle } from '../throttle/login-throttle.js';
import type { AccessTokenService } from '../token/access-tokens.js';
import type { MailFlowOptions } from './mail-links.js';
import type { RefreshTokenManager } from '../token/refresh-tokens.js';

export interface UseCaseOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  hasher: PasswordHasher;
  sessions: SessionManager;
  throttle: LoginThrottle;
  /** Failed credentials (guessing) and refresh floods, per client and per token family. */
  credentialThrottle: CredentialThrottle;
  refreshTokens: RefreshTokenManager;
  accessTokens: AccessTokenService;
  revocations: RevocationRecorder;
  /** Key of the CSRF tokens bound to sessions (a refresh through the cookie checks one). */
  csrfKey: Uint8Array;
  /**
   * Keys derived from the master secret for second factors: `seal` encrypts TOTP secrets at rest,
   * `recovery` keys the hashes of recovery codes.
   */
  factorKeys: { seal: Uint8Array; recovery: Uint8Array };
  /** The name an authenticator app shows for this server's TOTP factors. */
  totpIssuer: string;
  /** The WebAuthn relying party of passkeys: its id, name and allowed origins. */
  webauthn: RelyingParty;
  /** Sign-ups allowed per IP per hour. Default 20. */
  signupLimitPerHour?: number;
  /** The near cache of session and user reads (the session manager's), when on. */
  cache?: SessionCache | undefined;
  /** The outbox and settings of the mail flows (reset, verification, sign-in links); off without. */
  mail?: MailFlowOptions | undefined;
}

/** Wrong passwords of a signed-in user (re-authentication) in `REAUTH_WINDOW_MS`, then 429. */
const REAUTH_FAILURES = 10;
const REAUTH_WINDOW_MS = 15 * 60_000;

/** The options, plus the account rules the use cases share. */
export interface UseCaseContext extends UseCaseOptions {
  /** The user, when it exists and is active; `unauthenticated` or `account_disabled` otherwise. */
  activeUser(userId: string): Promise<UserRecord>;
  /**
   * {@link activeUser} through the near cache; a cached user who is not active is read again.
   * With `read` (the user as the store just returned it with the session), no read at all.
   */
  authenticatedUser(userId: string, read?: UserRecord | null): Promise<UserRecord>;
  /**
   * {@link authenticatedUser} when the near cache holds the user and they are active, at once;
   * undefined otherwise (ask `authenticatedUser`, which reads the store and says why it refuses).
   */
  cachedActiveUser(userId: string): UserRecord | undefined;
  /**
   * Writes a user and forgets any cached copy: here at once, on the other nodes through the
   * revocation channel (a user record that revokes nothing, `RevocationRecorder.userChanged`).
   */
  updateUser(id: string, patch: UserPatch): Promise<void>;
  /** Revokes one session and publishes it; true for the call that revoked it. */
  revokeSession(sessionId: string): Promise<boolean>;
  /**
   * Checks the password of a signed-in user who asks for a sensitive change (password, email, a
   * factor): `invalid_credentials` when wrong. Wrong passwords are counted per user: 10 in 15
   * minutes answer 429 until the window ends, so a stolen session cannot guess the password.
   */
  reauthenticate(user: UserRecord, password: string, refusal?: string): Promise<void>;
  /** Revokes every live session of a user (but `except`) and publishes each; returns how many. */
  revokeUserSessions(userId: string, except?: string): Promise<number>;
}

/**
 * Adds the shared account rules to the options.
 *
 * @example
 * const context = createUseCaseContext({ store, clock, logger, hasher, sessions, ... });
 */
export function createUseCaseContext(options: UseCaseOptions): UseCaseContext {
  const { store, clock, revocations, cache } = options;

  async function activeUser(userId: string): Promise<UserRecord> {
    const user = await store.getUserById(userId);
    if (user === null) throw new LatchkeyError('unauthenticated');
    if (user.status !== 'active') throw new LatchkeyError('account_disabled');
    return user;
  }

  return {
    ...options,
    activeUser,

    async authenticatedUser(userId, read) {
      if (read !== undefined) {
        if (read === null) throw new LatchkeyError('unauthenticated');
        if (read.status !== 'active') throw new LatchkeyError('account_disabled');
        return read;
      }
      if (cache === undefined) return activeUser(userId);
      const user = await cache.user(userId, () => store.getUserById(userId));
      if (user === null) throw new LatchkeyError('unauthenticated');
      if (user.status === 'active') return user;
      cache.invalidateUser(userId);
      return activeUser(userId);
    },

    cachedActiveUser(userId) {
      const user = cache?.peekUser(userId);
      return user?.status === 'active' ? user : undefined;
    },

    async updateUser(id, patch) {
      await store.updateUser(id, patch);
      cache?.invalidateUser(id);
      await revocations.userChanged(id);
    },

    async revokeSession(sessionId) {
      const revoked = await store.revokeSession(sessionId, clock());
      if (revoked) await revocations.sessionRevoked(sessionId);
      return revoked;
    },

    async reauthenticate(user, password, refusal = 'The password is incorrect') {
      const key = `reauth:${user.id}`;
      const counter = await store.getCounter(key, clock());
      if (counter !== null && counter.count >= REAUTH_FAILURES) {
        throw new LatchkeyError('too_many_requests', 'Too many wrong passwords; retry later', {
          retryAfter: Math.max(1, Math.ceil((counter.expiresAt - clock()) / 1000)),
        });
      }
      if (await options.hasher.verify(user.passwordHash, password).catch(() => false)) return;
      await store.increment(key, REAUTH_WINDOW_MS, clock());
      throw new LatchkeyError('invalid_credentials', refusal);
    },

    async revokeUserSessions(userId, except) {
      const ids = await store.revokeUserSessions(userId, clock(), except === undefined ? {} : { except });
      for (const id of ids) await revocations.sessionRevoked(id);
      return ids.length;
    },
  };
}
