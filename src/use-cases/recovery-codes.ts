/**
 * The recovery codes of a TOTP factor: made when it is confirmed (`factors.ts`), counted, and
 * replaced on demand.
 *
 * - `regenerateRecoveryCodes` (10 new codes, the old ones dead) needs the same proof as removing
 *   the factor: the password and a current code or a recovery code. The password alone would
 *   let whoever holds a session and the password mint a second factor of their own; a code
 *   alone would let a stolen session do it. A user who lost the phone proves it with one of the
 *   codes left. It changes no session (no factor was added or removed) and mails the owner.
 * - Wrong codes in these forms (and in removing a factor) count against the account's budget of
 *   the login's second step (`mfa:acct:<user>`, 10 in 15 minutes, then 429), so a stolen session
 *   with the password cannot guess codes.
 */

import { LatchkeyError } from '../errors.js';
import { generateRecoveryCodes, hashRecoveryCode } from '../factors/recovery-codes.js';
import type { UserRecord } from '../records.js';
import type { ClientInfo } from '../session/sessions.js';
import type { Principal } from './authenticate.js';
import type { UseCaseContext } from './context.js';
import { mailFactorChange } from './factor-mail.js';
import { acceptRecoveryCode, acceptTotpCode, RECOVERY_CODE_PURPOSE } from './second-factor.js';

/** Recovery codes do not expire by time (they are used up or replaced); the store needs an expiry. */
const RECOVERY_CODE_LIFETIME_MS = 100 * 365 * 24 * 3_600_000;

export interface RecoveryCodeUseCases {
  /** How many recovery codes the user has left (0 without a second factor). */
  recoveryCodesLeft(principal: Principal): Promise<number>;
  /**
   * Replaces the recovery codes with 10 new ones (the old ones stop working), with the password
   * and a current code or a recovery code; `not_found` without a confirmed TOTP factor.
   */
  regenerateRecoveryCodes(
    principal: Principal,
    input: {
      password: string;
      code?: string | undefined;
      recoveryCode?: string | undefined;
      client: ClientInfo;
    },
  ): Promise<string[]>;
}

/** Wrong codes per account in the forms of this module, shared with the login's second step. */
const ACCOUNT_FAILURES = 10;
const FAILURE_WINDOW_MS = 15 * 60_000;

/**
 * A current TOTP code or a recovery code of the user (the recovery code is used up), else
 * `invalid_code`; counted against the account's budget of wrong codes, 429 past it.
 */
export async function proveSecondFactor(
  context: UseCaseContext,
  user: UserRecord,
  proof: { code?: string | undefined; recoveryCode?: string | undefined },
): Promise<void> {
  const { store, clock } = context;
  const key = `mfa:acct:${user.id}`;
  const counter = await store.getCounter(key, clock());
  if (counter !== null && counter.count >= ACCOUNT_FAILURES) {
    throw new LatchkeyError('too_many_requests', 'Too many wrong codes; retry later', {
      retryAfter: Math.max(1, Math.ceil((counter.expiresAt - clock()) / 1000)),
    });
  }
  const proven =
    (proof.code !== undefined && (await acceptTotpCode(context, user, proof.code))) ||
    (proof.recoveryCode !== undefined && (await acceptRecoveryCode(context, user, proof.recoveryCode)));
  if (proven) return;
  await store.increment(key, FAILURE_WINDOW_MS, clock());
  throw new LatchkeyError('invalid_code');
}

/** Replaces the user's recovery codes with 10 new ones; returns them (shown once). */
export async function replaceRecoveryCodes(context: UseCaseContext, userId: string): Promise<string[]> {
  const { store, clock } = context;
  await store.deleteOneTimeTokens(userId, RECOVERY_CODE_PURPOSE);
  const codes = generateRecoveryCodes();
  const now = clock();
  for (const code of codes) {
    await store.putOneTimeToken({
      id: hashRecoveryCode(code, { userId, key: context.factorKeys.recovery }),
      purpose: RECOVERY_CODE_PURPOSE,
      subject: userId,
      data: null,
      createdAt: now,
      expiresAt: now + RECOVERY_CODE_LIFETIME_MS,
    });
  }
  return codes;
}

/**
 * @example
 * const codes = await createRecoveryCodeUseCases(context).regenerateRecoveryCodes(principal, { password, code, client });
 */
export function createRecoveryCodeUseCases(context: UseCaseContext): RecoveryCodeUseCases {
  const { store, clock, logger } = context;
  return {
    async recoveryCodesLeft(principal) {
      return store.countOneTimeTokens(principal.user.id, RECOVERY_CODE_PURPOSE, clock());
    },

    async regenerateRecoveryCodes(principal, { password, code, recoveryCode, client }) {
      const user = await context.activeUser(principal.user.id);
      const factors = await store.listFactors(user.id);
      if (!factors.some((f) => f.kind === 'totp' && f.confirmedAt !== null)) {
        throw new LatchkeyError('not_found', 'No second factor');
      }
      await context.reauthenticate(user, password);
      await proveSecondFactor(context, user, { code, recoveryCode });
      const codes = await replaceRecoveryCodes(context, user.id);
      await mailFactorChange(context, user, 'recovery_codes_replaced');
      logger.info(
        {
          event: 'mfa.recovery_codes_replaced',
          userId: user.id,
          sessionId: principal.session.id,
          ip: client.ip,
        },
        'recovery codes replaced',
      );
      return codes;
    },
  };
}
