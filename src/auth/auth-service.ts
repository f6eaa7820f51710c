import type { Clock } from '../clock.js';
import { LatchkeyError } from '../errors.js';
import { randomId } from '../lib/secrets.js';
import type { Logger } from '../log.js';
import type { PasswordHasher } from '../password/hash.js';
import { assertPasswordPolicy, normalizeEmail } from '../password/policy.js';
import type { RevocationRecorder } from '../revocation/revocations.js';
import type { SessionCache } from '../session/session-cache.js';
import type { ClientInfo, SessionManager } from '../session/sessions.js';
import type { Store } from '../stores/types.js';
import type { SessionMode, SessionRecord, UserPatch, UserRecord } from '../records.js';
import type { LoginThrottle } from '../throttle/login-throttle.js';
import type { RefreshTokenManager } from '../token/refresh-tokens.js';

/** What the core needs from the access-token layer (JWT signing and strict verification). */
export interface AccessTokenService {
  issue(input: { user: UserRecord; session: SessionRecord }): { token: string; expiresIn: number };
  /** Verifies signature and claims; throws `invalid_token`. Returns the claims the core uses. */
  verify(token: string): { sub: string; sid: string | undefined; iat: number; jti: string };
}

/** An authenticated caller: the user, their session, and how the credential arrived. */
export interface Principal {
  user: UserRecord;
  session: SessionRecord;
  via: 'cookie' | 'bearer' | 'access-cookie';
}

export interface PublicUser {
  id: string;
  email: string;
  status: string;
  roles: string[];
  created_at: string;
}

export interface PublicSession {
  id: string;
  mode: SessionMode;
  user_agent: string | null;
  ip: string | null;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  current: boolean;
}

export interface LoginResult {
  user: UserRecord;
  session: SessionRecord;
  /** Cookie-mode credential (`id.secret`). */
  sessionToken: string;
  accessToken: { token: string; expiresIn: number } | null;
  refreshToken: string | null;
  deviceCookie: string;
}

export interface RefreshResult {
  user: UserRecord;
  session: SessionRecord;
  accessToken: { token: string; expiresIn: number };
  refreshToken: string;
}

export interface AuthService {
  signup(input: { email: string; password: string; ip: string }): Promise<UserRecord>;
  login(input: {
    email: string;
    password: string;
    mode: SessionMode;
    client: ClientInfo & { ip: string };
    deviceCookie: string | undefined;
  }): Promise<LoginResult>;
  authenticateSessionToken(token: string): Promise<Principal>;
  authenticateAccessToken(token: string, via: 'bearer' | 'access-cookie'): Promise<Principal>;
  /** Rotates a refresh token of a session of the given mode (a token or hybrid session). */
  refresh(refreshToken: string, mode: 'token' | 'hybrid'): Promise<RefreshResult>;
  logout(principal: Principal): Promise<void>;
  listSessions(principal: Principal): Promise<PublicSession[]>;
  revokeSession(principal: Principal, sessionId: string): Promise<void>;
  revokeAllSessions(principal: Principal, options: { keepCurrent: boolean }): Promise<number>;
  changePassword(
    principal: Principal,
    input: { currentPassword: string; newPassword: string },
  ): Promise<void>;
  setUserStatus(email: string, status: 'active' | 'disabled'): Promise<UserRecord>;
  publicUser(user: UserRecord): PublicUser;
}

export interface AuthServiceOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  hasher: PasswordHasher;
  sessions: SessionManager;
  throttle: LoginThrottle;
  refreshTokens: RefreshTokenManager;
  accessTokens: AccessTokenService;
  revocations: RevocationRecorder;
  /** Sign-ups allowed per IP per hour. Default 20. */
  signupLimitPerHour?: number;
  /** The near cache of session and user reads (the session manager's), when on. */
  cache?: SessionCache | undefined;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function createAuthService(options: AuthServiceOptions): AuthService {
  const { store, clock, logger, hasher, sessions, throttle, refreshTokens, accessTokens, revocations } =
    options;
  const signupLimit = options.signupLimitPerHour ?? 20;
  const { cache } = options;

  async function activeUser(userId: string): Promise<UserRecord> {
    const user = await store.getUserById(userId);
    if (user === null) throw new LatchkeyError('unauthenticated');
    if (user.status !== 'active') throw new LatchkeyError('account_disabled');
    return user;
  }

  /** {@link activeUser} through the near cache; a cached user who is not active is read again. */
  async function authenticatedUser(userId: string): Promise<UserRecord> {
    if (cache === undefined) return activeUser(userId);
    const user = await cache.user(userId, () => store.getUserById(userId));
    if (user === null) throw new LatchkeyError('unauthenticated');
    if (user.status === 'active') return user;
    cache.invalidateUser(userId);
    return activeUser(userId);
  }

  async function updateUser(id: string, patch: UserPatch): Promise<void> {
    await store.updateUser(id, patch);
    cache?.invalidateUser(id);
  }

  async function revokeOne(sessionId: string): Promise<boolean> {
    const revoked = await store.revokeSession(sessionId, clock());
    if (revoked) await revocations.sessionRevoked(sessionId);
    return revoked;
  }

  async function revokeMany(userId: string, except?: string): Promise<number> {
    const ids = await store.revokeUserSessions(userId, clock(), except === undefined ? {} : { except });
    for (const id of ids) await revocations.sessionRevoked(id);
    return ids.length;
  }

  const service: AuthService = {
    publicUser: (user) => ({
      id: user.id,
      email: user.email,
      status: user.status,
      roles: user.roles,
      created_at: iso(user.createdAt),
    }),

    async signup({ email, password, ip }) {
      const normalized = normalizeEmail(email);
      if (normalized === null) {
        throw new LatchkeyError('validation_failed', 'email is not a valid address', {
          extensions: { errors: [{ field: 'email', message: 'is not a valid address' }] },
        });
      }
      assertPasswordPolicy(password, { email: normalized });
      const now = clock();
      const { count, expiresAt } = await store.increment(`signup:ip:${ip}`, 3_600_000, now);
      if (count > signupLimit) {
        throw new LatchkeyError('too_many_requests', undefined, {
          retryAfter: Math.max(1, Math.ceil((expiresAt - now) / 1000)),
        });
      }
      const user: UserRecord = {
        id: randomId(),
        email: normalized,
        passwordHash: await hasher.hash(password),
        status: 'active',
        roles: [],
        createdAt: now,
        updatedAt: now,
      };
      await store.createUser(user);
      logger.info({ event: 'user.signup', userId: user.id }, 'user signed up');
      return user;
    },

    async login({ email, password, mode, client, deviceCookie }) {
      // An unparseable email is treated exactly like an unknown one: same status, body and work.
      const normalized = normalizeEmail(email) ?? email.trim().toLowerCase().slice(0, 254);
      const attempt = { email: normalized, ip: client.ip, deviceCookie };
      await throttle.check(attempt);
      const user = await store.getUserByEmail(normalized);
      let valid: boolean;
      if (user === null) {
        await hasher.verifyDummy(password);
        valid = false;
      } else {
        valid = await hasher.verify(user.passwordHash, password);
      }
      if (!valid || user === null) {
        await throttle.recordFailure(attempt);
        logger.info({ event: 'login.failure', ip: client.ip }, 'login failed');
        throw new LatchkeyError('invalid_credentials');
      }
      if (user.status !== 'active') throw new LatchkeyError('account_disabled');
      if (hasher.needsRehash(user.passwordHash)) {
        const passwordHash = await hasher.hash(password);
        await updateUser(user.id, { passwordHash, updatedAt: clock() });
        user.passwordHash = passwordHash;
        logger.info(
          { event: 'password.rehash', userId: user.id },
          'password rehashed with current parameters',
        );
      }
      const newDeviceCookie = await throttle.recordSuccess(attempt);
      const { session, token } = await sessions.create({ userId: user.id, mode, client });
      let accessToken: LoginResult['accessToken'] = null;
      let refreshToken: string | null = null;
      if (mode !== 'cookie') {
        accessToken = accessTokens.issue({ user, session });
        refreshToken = (await refreshTokens.issue(session)).token;
      }
      logger.info(
        { event: 'login.success', userId: user.id, sessionId: session.id, mode },
        'login succeeded',
      );
      return { user, session, sessionToken: token, accessToken, refreshToken, deviceCookie: newDeviceCookie };
    },

    async authenticateSessionToken(token) {
      const session = await sessions.validateToken(token, { mode: 'cookie' });
      return { user: await authenticatedUser(session.userId), session, via: 'cookie' };
    },

    async authenticateAccessToken(token, via) {
      const claims = accessTokens.verify(token);
      if (claims.sid === undefined) throw new LatchkeyError('invalid_token', 'token has no session');
      const session = await sessions.validateId(claims.sid);
      if (session.userId !== claims.sub)
        throw new LatchkeyError('invalid_token', 'token does not match its session');
      return { user: await authenticatedUser(session.userId), session, via };
    },

    async refresh(token, mode) {
      const check = await refreshTokens.rotate(token, async (id) => {
        const session = await store.getSession(id);
        // A token presented through the wrong channel is refused before anything changes.
        return session?.mode === mode ? session : null;
      });
      if (check.kind === 'invalid') throw new LatchkeyError('invalid_grant');
      if (check.kind === 'reuse') {
        const revoked = await revokeOne(check.sessionId);
        logger.warn(
          { event: 'security.refresh_token_reuse', sessionId: check.sessionId, revoked },
          'refresh token reuse detected: session revoked',
        );
        throw new LatchkeyError('invalid_grant');
      }
      const stored = await store.getSession(check.outcome.record.sessionId);
      if (stored === null) throw new LatchkeyError('invalid_grant');
      const session = await sessions.touch(stored);
      let user: UserRecord;
      try {
        user = await activeUser(session.userId);
      } catch {
        throw new LatchkeyError('invalid_grant');
      }
      return {
        user,
        session,
        accessToken: accessTokens.issue({ user, session }),
        refreshToken: check.outcome.token,
      };
    },

    async logout(principal) {
      await revokeOne(principal.session.id);
      logger.info(
        { event: 'logout', userId: principal.user.id, sessionId: principal.session.id },
        'logged out',
      );
    },

    async listSessions(principal) {
      const list = await store.listUserSessions(principal.user.id, clock());
      return list.map((session) => ({
        id: session.id,
        mode: session.mode,
        user_agent: session.userAgent,
        ip: session.ip,
        created_at: iso(session.createdAt),
        last_seen_at: iso(session.lastSeenAt),
        expires_at: iso(Math.min(session.idleExpiresAt, session.absoluteExpiresAt)),
        current: session.id === principal.session.id,
      }));
    },

    async revokeSession(principal, sessionId) {
      const session = await store.getSession(sessionId);
      // Someone else's session is "not found", never "forbidden": ids of others are not confirmed.
      if (session === null || session.userId !== principal.user.id || !sessions.isLive(session)) {
        throw new LatchkeyError('not_found', 'No such session');
      }
      await revokeOne(sessionId);
      logger.info({ event: 'session.revoke', userId: principal.user.id, sessionId }, 'session revoked');
    },

    async revokeAllSessions(principal, { keepCurrent }) {
      const count = await revokeMany(principal.user.id, keepCurrent ? principal.session.id : undefined);
      if (!keepCurrent) await revocations.userRevoked(principal.user.id);
      logger.info(
        { event: 'session.revoke_all', userId: principal.user.id, count, keepCurrent },
        'sessions revoked',
      );
      return count;
    },

    async changePassword(principal, { currentPassword, newPassword }) {
      const user = await activeUser(principal.user.id);
      if (!(await hasher.verify(user.passwordHash, currentPassword))) {
        throw new LatchkeyError('invalid_credentials', 'The current password is incorrect');
      }
      assertPasswordPolicy(newPassword, { email: user.email });
      const passwordHash = await hasher.hash(newPassword);
      await updateUser(user.id, { passwordHash, updatedAt: clock() });
      const count = await revokeMany(user.id, principal.session.id);
      logger.info({ event: 'password.change', userId: user.id, revokedSessions: count }, 'password changed');
    },

    async setUserStatus(email, status) {
      const normalized = normalizeEmail(email);
      const user = normalized === null ? null : await store.getUserByEmail(normalized);
      if (user === null) throw new LatchkeyError('not_found', 'No such user');
      await updateUser(user.id, { status, updatedAt: clock() });
      if (status === 'disabled') {
        await revokeMany(user.id);
        await revocations.userRevoked(user.id);
      }
      logger.info(
        { event: `user.${status === 'active' ? 'enable' : 'disable'}`, userId: user.id },
        'user status set',
      );
      return { ...user, status };
    },
  };
  return service;
}
