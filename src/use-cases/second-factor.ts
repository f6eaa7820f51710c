/**
 * The second step of a login for an account with a second factor (TOTP, a recovery code).
 *
 * 1. The login step {@link createSecondFactorStep}: once the password matched, an account with a
 *    confirmed factor gets no session and no token. The login answers `mfa_required` with a
 *    challenge: 256 random bits, stored only as their hash (a one-time token), bound to the
 *    user and to the mode, "remember me" and client of the login, valid 5 minutes.
 * 2. {@link createSecondFactorVerification}: the challenge and a code finish the login. The
 *    challenge is consumed atomically before anything else, so two requests can never both use
 *    it; a wrong code puts it back with one attempt fewer (5 in all), then it is gone and the
 *    password must be given again. A TOTP code is accepted once (the factor's last step moves
 *    atomically: `useFactorStep`), a recovery code once (it is a one-time token). Failures are
 *    throttled per account and per client address on top of that.
 *
 * @see https://pages.nist.gov/800-63-3/sp800-63b.html#throttle
 */

import { isLatchkeyError, LatchkeyError } from '../errors.js';
import { recoveryCodeHash } from '../factors/recovery-codes.js';
import { verifyTotp } from '../factors/totp.js';
import type { AuthenticationResponseJSON } from '../factors/webauthn.js';
import { openSealed } from '../lib/seal.js';
import { parseCredential, randomId, randomSecret, sha256 } from '../lib/secrets.js';
import type { FactorRecord, SessionMode, UserRecord } from '../records.js';
import type { ClientInfo } from '../session/sessions.js';
import { clientKey } from '../throttle/client-key.js';
import { assuranceOf, passkeyMethod, type AuthMethod } from '../token/assurance.js';
import type { UseCaseContext } from './context.js';
import { establishSession, type LoginStep, type SignedIn } from './login.js';
import { acceptPasskeyAssertion } from './passkey-assertion.js';

export const MFA_CHALLENGE_PURPOSE = 'mfa_challenge';
export const RECOVERY_CODE_PURPOSE = 'recovery_code';
const CHALLENGE_TTL_MS = 5 * 60_000;
const CHALLENGE_ATTEMPTS = 5;
/** Wrong codes per account (all challenges together) in `FAILURE_WINDOW_MS`, then 429. */
const ACCOUNT_FAILURES = 10;
/** Wrong codes per client address (all accounts together) in `FAILURE_WINDOW_MS`, then 429. */
const ADDRESS_FAILURES = 50;
const FAILURE_WINDOW_MS = 15 * 60_000;

/** What a challenge remembers of the login it continues. */
interface ChallengeData {
  mode: SessionMode;
  remember: boolean;
  attempts: number;
}

export interface SecondFactorInput {
  challenge: string;
  code?: string | undefined;
  recoveryCode?: string | undefined;
  /** A passkey assertion (its challenge from the passkey options), instead of a code. */
  passkey?: AuthenticationResponseJSON | undefined;
  client: ClientInfo & { ip: string };
}

/** A factor's TOTP secret, opened with the key it was sealed with (bound to user and factor). */
export function openTotpSecret(context: UseCaseContext, factor: FactorRecord): Buffer {
  return openSealed(factor.secret, {
    label: totpSealLabel(factor.userId, factor.id),
    key: context.factorKeys.seal,
  });
}

export function totpSealLabel(userId: string, factorId: string): string {
  return `totp:${userId}:${factorId}`;
}

/**
 * Checks a TOTP code against the user's confirmed TOTP factors and, when one accepts it,
 * records its step (atomically: a code works once, on whichever node). True when accepted.
 */
export async function acceptTotpCode(
  context: UseCaseContext,
  user: UserRecord,
  code: string,
): Promise<boolean> {
  const now = context.clock();
  const factors = (await context.store.listFactors(user.id)).filter(
    (factor) => factor.kind === 'totp' && factor.confirmedAt !== null,
  );
  for (const factor of factors) {
    const step = verifyTotp(openTotpSecret(context, factor), code, {
      now,
      lastUsedStep: factor.lastUsedStep,
    });
    if (step !== null && (await context.store.useFactorStep(user.id, factor.id, step, now))) return true;
  }
  return false;
}

/** Uses up one recovery code of the user; true when it was one of theirs and unused. */
export async function acceptRecoveryCode(
  context: UseCaseContext,
  user: UserRecord,
  code: string,
): Promise<boolean> {
  const id = recoveryCodeHash(code, { userId: user.id, key: context.factorKeys.recovery });
  if (id === null) return false;
  const record = await context.store.consumeOneTimeToken(id, RECOVERY_CODE_PURPOSE, context.clock());
  return record !== null && record.subject === user.id;
}

/**
 * Checks the second factor of `input` for `user`: a TOTP code, a passkey assertion (its
 * challenge from the passkey options) or a recovery code. Returns the method it proved (RFC 8176:
 * `otp` for a code, `hwk`/`swk` for a passkey), or null when refused. Counts nothing itself.
 */
export async function acceptSecondFactor(
  context: UseCaseContext,
  user: UserRecord,
  input: Pick<SecondFactorInput, 'code' | 'recoveryCode' | 'passkey' | 'client'>,
): Promise<AuthMethod | null> {
  if (input.code !== undefined) return (await acceptTotpCode(context, user, input.code)) ? 'otp' : null;
  if (input.passkey !== undefined) {
    return acceptPasskeyAssertion(context, input.passkey, { ip: input.client.ip, userId: user.id }).then(
      (passkey) => passkeyMethod(passkey),
      (error: unknown) => {
        if (isLatchkeyError(error, 'passkey_invalid')) return null;
        throw error;
      },
    );
  }
  if (input.recoveryCode === undefined) return null;
  return (await acceptRecoveryCode(context, user, input.recoveryCode)) ? 'otp' : null;
}

/**
 * The login step that asks for a second factor when the account has a confirmed one.
 *
 * @example
 * const steps = [ACTIVE_ACCOUNT_STEP, createSecondFactorStep(context)];
 */
export function createSecondFactorStep(context: UseCaseContext): LoginStep {
  return {
    name: 'second_factor',
    async check(user, attempt) {
      const factors = await context.store.listFactors(user.id);
      if (!factors.some((factor) => factor.confirmedAt !== null)) return;
      const challenge = `${randomId()}.${randomSecret()}`;
      const now = context.clock();
      const data: ChallengeData = {
        mode: attempt.mode,
        remember: attempt.remember,
        attempts: CHALLENGE_ATTEMPTS,
      };
      await context.store.putOneTimeToken({
        id: sha256(challenge),
        purpose: MFA_CHALLENGE_PURPOSE,
        subject: user.id,
        data: JSON.stringify(data),
        createdAt: now,
        expiresAt: now + CHALLENGE_TTL_MS,
      });
      const hasPasskey = (await context.store.listPasskeys(user.id)).length > 0;
      const methods = [
        ...new Set(factors.filter((f) => f.confirmedAt !== null).map((f) => f.kind)),
        ...(hasPasskey ? ['passkey'] : []),
        'recovery_code',
      ];
      throw new LatchkeyError('mfa_required', undefined, {
        extensions: { challenge, methods, expires_in: CHALLENGE_TTL_MS / 1000 },
      });
    },
  };
}

function parseChallengeData(text: string | null): ChallengeData {
  try {
    const data = JSON.parse(text ?? '') as Partial<ChallengeData>;
    if (
      (data.mode === 'cookie' || data.mode === 'token' || data.mode === 'hybrid') &&
      typeof data.remember === 'boolean' &&
      typeof data.attempts === 'number'
    ) {
      return { mode: data.mode, remember: data.remember, attempts: data.attempts };
    }
  } catch {
    // Falls through: a challenge the server did not write is no challenge.
  }
  throw new LatchkeyError('challenge_invalid');
}

/**
 * Refuses with 429 once the account (10) or the client address (50) had too many wrong second
 * factors in 15 minutes, at the second step of a login or a step-up alike.
 */
export async function assertCodesNotThrottled(
  context: UseCaseContext,
  userId: string,
  ip: string,
): Promise<void> {
  const { store, clock } = context;
  const now = clock();
  const [account, address] = await Promise.all([
    store.getCounter(`mfa:acct:${userId}`, now),
    store.getCounter(`mfa:ip:${clientKey(ip)}`, now),
  ]);
  for (const [counter, limit] of [
    [account, ACCOUNT_FAILURES],
    [address, ADDRESS_FAILURES],
  ] as const) {
    if (counter !== null && counter.count >= limit) {
      throw new LatchkeyError('too_many_requests', 'Too many wrong codes; retry later', {
        retryAfter: Math.max(1, Math.ceil((counter.expiresAt - now) / 1000)),
      });
    }
  }
}

/** Counts a wrong second factor against the account and the client address. */
export async function countCodeFailure(context: UseCaseContext, userId: string, ip: string): Promise<void> {
  const { store, clock } = context;
  const now = clock();
  await Promise.all([
    store.increment(`mfa:acct:${userId}`, FAILURE_WINDOW_MS, now),
    store.increment(`mfa:ip:${clientKey(ip)}`, FAILURE_WINDOW_MS, now),
  ]);
}

/**
 * Finishing a login with a challenge and a second factor.
 *
 * @example
 * const verify = createSecondFactorVerification(context);
 * const signedIn = await verify({ challenge, code: '123456', client: { userAgent, ip } });
 */
export function createSecondFactorVerification(
  context: UseCaseContext,
): (input: SecondFactorInput) => Promise<SignedIn> {
  const { store, clock, logger } = context;

  return async function verifySecondFactor(input) {
    const { challenge, client } = input;
    if (parseCredential(challenge) === null) throw new LatchkeyError('challenge_invalid');
    const id = sha256(challenge);
    const record = await store.consumeOneTimeToken(id, MFA_CHALLENGE_PURPOSE, clock());
    if (record === null) throw new LatchkeyError('challenge_invalid');
    const data = parseChallengeData(record.data);
    const user = await context.activeUser(record.subject);
    const putBack = async (attempts: number): Promise<void> => {
      if (attempts <= 0) return;
      await store.putOneTimeToken({ ...record, data: JSON.stringify({ ...data, attempts }) });
    };
    try {
      await assertCodesNotThrottled(context, user.id, client.ip);
    } catch (error) {
      await putBack(data.attempts);
      throw error;
    }
    const method =
      input.code !== undefined ? 'totp' : input.passkey !== undefined ? 'passkey' : 'recovery_code';
    const accepted = await acceptSecondFactor(context, user, input);
    if (accepted === null) {
      await countCodeFailure(context, user.id, client.ip);
      await putBack(data.attempts - 1);
      logger.info(
        { event: 'mfa.failure', method, userId: user.id, ip: client.ip, userAgent: client.userAgent },
        'wrong second-factor code',
      );
      throw new LatchkeyError('invalid_code', undefined, {
        extensions: { attempts_left: data.attempts - 1 },
      });
    }
    const signedIn = await establishSession(context, {
      user,
      mode: data.mode,
      client,
      persistent: data.remember,
      assurance: assuranceOf(['pwd', accepted], clock()),
    });
    logger.info(
      {
        event: 'login.success',
        factor: method,
        userId: user.id,
        sessionId: signedIn.session.id,
        mode: data.mode,
        ip: client.ip,
        userAgent: client.userAgent,
      },
      'login succeeded with a second factor',
    );
    if (method === 'recovery_code') {
      logger.warn(
        { event: 'mfa.recovery_code_used', userId: user.id, ip: client.ip, userAgent: client.userAgent },
        'a recovery code was used',
      );
    }
    return signedIn;
  };
}
