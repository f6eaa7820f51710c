/**
 * Login, in three parts that later flows reuse:
 * 1. the password (the first factor), with the same answer and the same argon2 work for an
 *    unknown email and a wrong password, and the throttle;
 * 2. the login steps: checks that run once the password matched and before any session exists.
 *    Each may stop the login by throwing; the account-status check is the first. This is the
 *    seam where a second factor or a verified email will be required;
 * 3. the session: the one session record, and the credentials of the mode asked for.
 */

import { isLatchkeyError, LatchkeyError } from '../errors.js';
import { normalizeEmail } from '../password/policy.js';
import type { SessionMode, SessionRecord, UserRecord } from '../records.js';
import type { ClientInfo } from '../session/sessions.js';
import type { LoginAttempt as ThrottledAttempt } from '../throttle/login-throttle.js';
import { assuranceOf, type Assurance } from '../token/assurance.js';
import type { Authenticator } from './authenticate.js';
import type { UseCaseContext } from './context.js';
import type { SessionUseCases } from './sessions.js';

export interface LoginInput {
  email: string;
  password: string;
  mode: SessionMode;
  client: ClientInfo & { ip: string };
  /** The device cookie of the browser, if it has one (its own login budget). */
  deviceCookie: string | undefined;
  /** A session credential the client still sent: revoked once the login succeeds, never reused. */
  previousSessionToken?: string | undefined;
  /** "Remember me": cookies with a lifetime (up to the absolute expiry) instead of browser-session cookies. */
  remember?: boolean | undefined;
}

/** What the steps know of the attempt besides the user. */
export interface LoginStepInput {
  mode: SessionMode;
  /** "Remember me" of the login, for a step that continues it later (a second factor). */
  remember: boolean;
  client: ClientInfo & { ip: string };
}

/**
 * A check between the password and the session. `check` returns to let the login go on, or
 * throws a `LatchkeyError` that becomes the answer (for example one that asks for a second
 * factor and carries a challenge in its extensions).
 */
export interface LoginStep {
  readonly name: string;
  check(user: UserRecord, attempt: LoginStepInput): Promise<void>;
}

/** A signed-in session and the credentials of its mode. */
export interface SignedIn {
  user: UserRecord;
  session: SessionRecord;
  /** Cookie-mode credential (`id.secret`). */
  sessionToken: string;
  accessToken: { token: string; expiresIn: number } | null;
  refreshToken: string | null;
}

export interface LoginResult extends SignedIn {
  deviceCookie: string;
}

/** A disabled account is refused, but only after the right password (nothing is confirmed before). */
export const ACTIVE_ACCOUNT_STEP: LoginStep = {
  name: 'active_account',
  check(user) {
    return user.status === 'active'
      ? Promise.resolve()
      : Promise.reject(new LatchkeyError('account_disabled'));
  },
};

/** Where a login came from, as its security events name it. */
const whereFrom = (input: LoginInput): { ip: string; userAgent: string | null } => ({
  ip: input.client.ip,
  userAgent: input.client.userAgent,
});

/**
 * The login use case. `steps` default to {@link ACTIVE_ACCOUNT_STEP}.
 *
 * @example
 * const login = createLogin(context, { authenticate, sessions });
 * const result = await login({ email, password, mode: 'cookie', client, deviceCookie: undefined });
 */
export function createLogin(
  context: UseCaseContext,
  options: { authenticate: Authenticator; sessions: SessionUseCases; steps?: readonly LoginStep[] },
): (input: LoginInput) => Promise<LoginResult> {
  const { store, clock, logger, hasher, throttle } = context;
  const steps = options.steps ?? [ACTIVE_ACCOUNT_STEP];

  async function checkPassword(input: LoginInput, attempt: ThrottledAttempt): Promise<UserRecord> {
    await throttle.check(attempt);
    const user = await store.getUserByEmail(attempt.email);
    let valid: boolean;
    if (user === null) {
      await hasher.verifyDummy(input.password);
      valid = false;
    } else {
      valid = await hasher.verify(user.passwordHash, input.password);
    }
    if (!valid || user === null) {
      await throttle.recordFailure(attempt);
      // The user id, when the account exists, is for the operator; the client learns nothing.
      logger.info(
        {
          event: 'login.failure',
          reason: 'invalid_credentials',
          mode: input.mode,
          userId: user?.id,
          ...whereFrom(input),
        },
        'login failed',
      );
      throw new LatchkeyError('invalid_credentials');
    }
    return user;
  }

  /** Stores a hash made with today's parameters when the stored one is older. */
  async function rehashIfNeeded(user: UserRecord, password: string): Promise<void> {
    if (!hasher.needsRehash(user.passwordHash)) return;
    const passwordHash = await hasher.hash(password);
    await context.updateUser(user.id, { passwordHash, updatedAt: clock() });
    user.passwordHash = passwordHash;
    logger.info({ event: 'password.rehash', userId: user.id }, 'password rehashed with current parameters');
  }

  async function revokePrevious(token: string | undefined): Promise<void> {
    if (token === undefined) return;
    await options.authenticate
      .sessionToken(token)
      .then((old) => options.sessions.logout(old))
      .catch(() => undefined);
  }

  return async function login(input) {
    const throttled = {
      email: normalizedEmail(input.email),
      ip: input.client.ip,
      deviceCookie: input.deviceCookie,
    };
    const user = await checkPassword(input, throttled);
    const attempt: LoginStepInput = {
      mode: input.mode,
      remember: input.remember === true,
      client: input.client,
    };
    await runLoginSteps(steps, logger, user, input, attempt);
    await rehashIfNeeded(user, input.password);
    const deviceCookie = await throttle.recordSuccess(throttled);
    const result = await establishSession(context, {
      user,
      mode: input.mode,
      client: input.client,
      persistent: input.remember === true,
      assurance: assuranceOf(['pwd'], clock()),
    });
    logger.info(
      {
        event: 'login.success',
        userId: user.id,
        sessionId: result.session.id,
        mode: input.mode,
        ...whereFrom(input),
      },
      'login succeeded',
    );
    await revokePrevious(input.previousSessionToken);
    return { ...result, deviceCookie };
  };

  /** An unparseable email is treated exactly like an unknown one: same status, body and work. */
  function normalizedEmail(email: string): string {
    return normalizeEmail(email) ?? email.trim().toLowerCase().slice(0, 254);
  }
}

/** Runs the login steps (account status, second factor, ...), logging why one stops it. */
async function runLoginSteps(
  steps: readonly LoginStep[],
  logger: UseCaseContext['logger'],
  user: UserRecord,
  input: LoginInput,
  attempt: LoginStepInput,
): Promise<void> {
  for (const step of steps) {
    await step.check(user, attempt).catch((error: unknown) => {
      if (isLatchkeyError(error, 'mfa_required')) {
        // The password was right: not a failure, and the throttle does not count it either way.
        logger.info(
          {
            event: 'login.mfa_required',
            mode: input.mode,
            userId: user.id,
            ...whereFrom(input),
          },
          'password accepted; a second factor is asked for',
        );
        throw error;
      }
      logger.info(
        {
          event: 'login.failure',
          reason: isLatchkeyError(error) ? error.code : 'error',
          step: step.name,
          mode: input.mode,
          userId: user.id,
          ...whereFrom(input),
        },
        'login stopped by a login step',
      );
      throw error;
    });
  }
}

/**
 * Creates the session of a user who passed every step, and the credentials of its mode: the
 * `id.secret` session credential, and for `token` and `hybrid` an access token and the first
 * refresh token. Any flow that ends in a sign-in (a second factor, a sign-in link) ends here,
 * and so does a renewal (`renewing`: the session it replaces, whose absolute expiry and
 * persistence carry over).
 *
 * @example
 * const { session, accessToken } = await establishSession(context, { user, mode: 'token', client });
 */
export async function establishSession(
  context: UseCaseContext,
  input: {
    user: UserRecord;
    mode: SessionMode;
    client: ClientInfo;
    persistent?: boolean;
  } & (
    | { renewing?: undefined; /** How the user just authenticated. */ assurance: Assurance }
    | {
        renewing: SessionRecord;
        /** A step-up's; else the renewed session's is kept. */ assurance?: Assurance;
      }
  ),
): Promise<SignedIn> {
  const { user, mode, client } = input;
  const { session, token } = await context.sessions.create({
    userId: user.id,
    mode,
    client,
    ...(input.persistent === undefined ? {} : { persistent: input.persistent }),
    ...(input.renewing === undefined ? {} : { renewing: input.renewing }),
    ...(input.assurance === undefined ? {} : { assurance: input.assurance }),
  });
  let accessToken: LoginResult['accessToken'] = null;
  let refreshToken: string | null = null;
  if (mode !== 'cookie') {
    accessToken = context.accessTokens.issue({ user, session });
    refreshToken = (await context.refreshTokens.issue(session)).token;
  }
  return { user, session, sessionToken: token, accessToken, refreshToken };
}
