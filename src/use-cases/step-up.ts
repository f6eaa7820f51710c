/**
 * Step-up (RFC 9470): a signed-in user proves a second factor again, and the session's assurance
 * rises to it: `amr` gains the method (and `mfa`), `auth_time` is now, `acr` is `mfa`. A resource
 * service that refused the old token (`insufficient_user_authentication`) accepts the new one.
 *
 * The assurance is a privilege, so the session is renewed (new id and credentials, the old one
 * revoked; OWASP: renew the session ID after any privilege level change): a credential stolen
 * before the step-up is worth no more after it. Wrong codes count against the same per-account
 * and per-address budgets as the second step of a login, so a stolen session cannot guess codes
 * faster there than here.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9470
 */

import { LatchkeyError } from '../errors.js';
import { stepUp as raise } from '../token/assurance.js';
import type { Principal } from './authenticate.js';
import type { UseCaseContext } from './context.js';
import type { SignedIn } from './login.js';
import { renewSession } from './renew.js';
import {
  acceptSecondFactor,
  assertCodesNotThrottled,
  countCodeFailure,
  type SecondFactorInput,
} from './second-factor.js';

export type StepUpInput = Pick<SecondFactorInput, 'code' | 'recoveryCode' | 'passkey' | 'client'>;

export interface StepUpUseCases {
  /**
   * Raises the caller's session with a second factor (a TOTP code, a recovery code or a
   * passkey assertion) and renews it. `no_factor` (409) for an account with none;
   * `invalid_code` (401) for a wrong one; `too_many_requests` past the budget.
   */
  stepUp(principal: Principal, input: StepUpInput): Promise<SignedIn>;
}

/**
 * @example
 * const { stepUp } = createStepUpUseCases(context);
 * const renewed = await stepUp(principal, { code: '123456', client: { userAgent, ip } });
 */
export function createStepUpUseCases(context: UseCaseContext): StepUpUseCases {
  const { store, clock, logger } = context;

  /** Refuses an account without the kind of factor the input offers. */
  async function assertHasFactor(userId: string, input: StepUpInput): Promise<void> {
    const has =
      input.passkey === undefined
        ? (await store.listFactors(userId)).some((f) => f.kind === 'totp' && f.confirmedAt !== null)
        : (await store.listPasskeys(userId)).length > 0;
    if (!has) {
      throw new LatchkeyError(
        'no_factor',
        input.passkey === undefined
          ? 'The account has no authenticator app set up'
          : 'The account has no passkey',
      );
    }
  }

  return {
    async stepUp(principal, input) {
      const user = await context.activeUser(principal.user.id);
      const { ip } = input.client;
      await assertHasFactor(user.id, input);
      await assertCodesNotThrottled(context, user.id, ip);
      const method = await acceptSecondFactor(context, user, input);
      const kind =
        input.code !== undefined ? 'totp' : input.passkey !== undefined ? 'passkey' : 'recovery_code';
      if (method === null) {
        await countCodeFailure(context, user.id, ip);
        logger.info(
          {
            event: 'mfa.failure',
            method: kind,
            step: 'step_up',
            userId: user.id,
            sessionId: principal.session.id,
            ip,
          },
          'wrong second factor at a step-up',
        );
        throw new LatchkeyError('invalid_code');
      }
      const assurance = raise(principal.session, method, clock());
      const renewed = await renewSession(
        context,
        { ...principal, user },
        input.client,
        'mfa.step_up',
        assurance,
      );
      logger.info(
        {
          event: 'mfa.step_up',
          method: kind,
          amr: renewed.session.amr,
          userId: user.id,
          sessionId: renewed.session.id,
          previousSessionId: principal.session.id,
          ip,
        },
        'session assurance raised by a second factor',
      );
      if (kind === 'recovery_code') {
        logger.warn({ event: 'mfa.recovery_code_used', userId: user.id, ip }, 'a recovery code was used');
      }
      return renewed;
    },
  };
}
