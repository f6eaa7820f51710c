/**
 * Setting up and removing second factors from the account: a TOTP authenticator app, and the
 * recovery codes that come with it.
 *
 * - Enrolment is two steps. `enrolTotp` makes a secret and an unconfirmed factor (sealed at
 *   rest) and hands the secret back once, as base32 and as the `otpauth://` URI an app scans;
 *   `confirmTotp` takes the first code from the app, which proves the user holds the secret.
 *   Only then does login ask for it, and only then are the 10 recovery codes made (shown once,
 *   stored as keyed hashes). One TOTP factor per account: a second is refused while one is
 *   confirmed; an unconfirmed one is replaced by the next enrolment.
 * - Removing needs the password and a current code (or a recovery code).
 * - Replacing the recovery codes, and the proof of a code shared with removing (wrong codes
 *   count against the account, then 429), are in `recovery-codes.ts`.
 * - Every change of the factors mails the owner (`factor-mail.ts`), with no secret in it.
 * - Adding or removing a factor changes what the session is worth: the user's other sessions
 *   are revoked and this one renewed (new id and credentials), as after a password change.
 */

import { LatchkeyError } from '../errors.js';
import { generateTotpSecret, totpURI, verifyTotp } from '../factors/totp.js';
import { toBase32 } from '../lib/base32.js';
import { seal } from '../lib/seal.js';
import { randomId } from '../lib/secrets.js';
import type { FactorChange } from '../outbox/templates.js';
import { hasPassword, type FactorRecord, type UserRecord } from '../records.js';
import type { ClientInfo } from '../session/sessions.js';
import type { Principal } from './authenticate.js';
import type { UseCaseContext } from './context.js';
import { mailFactorChange } from './factor-mail.js';
import type { SignedIn } from './login.js';
import { renewSession } from './renew.js';
import {
  createRecoveryCodeUseCases,
  proveSecondFactor,
  replaceRecoveryCodes,
  type RecoveryCodeUseCases,
} from './recovery-codes.js';
import { openTotpSecret, RECOVERY_CODE_PURPOSE, totpSealLabel } from './second-factor.js';

export interface TotpEnrolment {
  factor: FactorRecord;
  /** The secret in base32, for typing into an app; shown once. */
  secret: string;
  /** `otpauth://totp/...` for a QR code; shown once. */
  uri: string;
}

export interface FactorUseCases extends RecoveryCodeUseCases {
  /** The user's factors (confirmed and pending). */
  listFactors(principal: Principal): Promise<FactorRecord[]>;
  enrolTotp(principal: Principal, input: { label?: string | undefined }): Promise<TotpEnrolment>;
  /**
   * The enrolment started and not yet confirmed, again (the set-up page shows it after a
   * reload or a wrong first code), or null. A pending factor does not guard anything yet, and
   * whoever holds the session could start a new one: showing its secret again costs nothing.
   */
  pendingTotp(principal: Principal): Promise<TotpEnrolment | null>;
  /** Activates a pending TOTP factor with its first code; the session is renewed. */
  confirmTotp(
    principal: Principal,
    input: { factorId: string; code: string; client: ClientInfo },
  ): Promise<{ signedIn: SignedIn; recoveryCodes: string[] }>;
  /** Removes a factor with the password and a current code or a recovery code; the session is renewed. */
  removeFactor(
    principal: Principal,
    input: {
      factorId: string;
      password: string;
      code?: string | undefined;
      recoveryCode?: string | undefined;
      client: ClientInfo;
    },
  ): Promise<SignedIn>;
}

/** The user's TOTP enrolment not yet confirmed, opened again; null when there is none. */
async function pendingEnrolment(context: UseCaseContext, user: UserRecord): Promise<TotpEnrolment | null> {
  const factor = (await context.store.listFactors(user.id)).find(
    (f) => f.kind === 'totp' && f.confirmedAt === null,
  );
  if (factor === undefined) return null;
  const secret = openTotpSecret(context, factor);
  return {
    factor,
    secret: toBase32(secret),
    uri: totpURI({ issuer: context.totpIssuer, account: user.email, secret }),
  };
}

/**
 * The factor use cases over one context.
 *
 * @example
 * const { secret, uri, factor } = await factors.enrolTotp(principal, { label: 'Phone' });
 * const { recoveryCodes } = await factors.confirmTotp(principal, { factorId: factor.id, code, client });
 */
export function createFactorUseCases(context: UseCaseContext): FactorUseCases {
  const { store, clock, logger } = context;

  /**
   * Revokes the user's other sessions, mails the owner and renews this session, after a factor
   * was added or removed.
   */
  async function afterFactorChange(
    principal: Principal,
    client: ClientInfo,
    change: FactorChange | null,
    event: string,
  ): Promise<SignedIn> {
    const revoked = await context.revokeUserSessions(principal.user.id, principal.session.id);
    if (change !== null) await mailFactorChange(context, principal.user, change);
    logger.info(
      {
        event,
        userId: principal.user.id,
        sessionId: principal.session.id,
        revokedSessions: revoked,
        ip: client.ip,
        userAgent: client.userAgent,
      },
      'second factor changed',
    );
    return renewSession(context, principal, client, event);
  }

  return {
    async listFactors(principal) {
      return store.listFactors(principal.user.id);
    },

    async enrolTotp(principal, input) {
      const user = await context.activeUser(principal.user.id);
      // A second factor guards the password; an account without one signs in with passkeys only.
      if (!hasPassword(user)) throw new LatchkeyError('forbidden', 'Set a password first');
      const existing = (await store.listFactors(user.id)).filter((factor) => factor.kind === 'totp');
      if (existing.some((factor) => factor.confirmedAt !== null)) throw new LatchkeyError('factor_exists');
      for (const pending of existing) await store.deleteFactor(user.id, pending.id);
      const id = randomId();
      const secret = generateTotpSecret();
      const factor: FactorRecord = {
        id,
        userId: user.id,
        kind: 'totp',
        label: (input.label ?? '').trim().slice(0, 100) || 'Authenticator app',
        secret: seal(secret, { label: totpSealLabel(user.id, id), key: context.factorKeys.seal }),
        lastUsedStep: null,
        createdAt: clock(),
        confirmedAt: null,
        lastUsedAt: null,
      };
      await store.createFactor(factor);
      logger.info({ event: 'mfa.enrol_started', userId: user.id, factorId: id }, 'TOTP enrolment started');
      return {
        factor,
        secret: toBase32(secret),
        uri: totpURI({ issuer: context.totpIssuer, account: user.email, secret }),
      };
    },

    async pendingTotp(principal) {
      return pendingEnrolment(context, principal.user);
    },

    async confirmTotp(principal, { factorId, code, client }) {
      const user = await context.activeUser(principal.user.id);
      const factor = (await store.listFactors(user.id)).find((f) => f.id === factorId && f.kind === 'totp');
      if (factor === undefined || factor.confirmedAt !== null)
        throw new LatchkeyError('not_found', 'No pending factor');
      const now = clock();
      const step = verifyTotp(openTotpSecret(context, factor), code, {
        now,
        lastUsedStep: factor.lastUsedStep,
      });
      if (step === null || !(await store.useFactorStep(user.id, factor.id, step, now))) {
        throw new LatchkeyError('invalid_code');
      }
      if (!(await store.confirmFactor(user.id, factor.id, now)))
        throw new LatchkeyError('not_found', 'No pending factor');
      const recoveryCodes = await replaceRecoveryCodes(context, user.id);
      const signedIn = await afterFactorChange(
        { ...principal, user },
        client,
        'totp_added',
        'mfa.factor_added',
      );
      return { signedIn, recoveryCodes };
    },

    ...createRecoveryCodeUseCases(context),

    async removeFactor(principal, { factorId, password, code, recoveryCode, client }) {
      const user = await context.activeUser(principal.user.id);
      const factor = (await store.listFactors(user.id)).find((f) => f.id === factorId);
      if (factor === undefined) throw new LatchkeyError('not_found', 'No such factor');
      await context.reauthenticate(user, password);
      if (factor.confirmedAt !== null) await proveSecondFactor(context, user, { code, recoveryCode });
      await store.deleteFactor(user.id, factor.id);
      const left = (await store.listFactors(user.id)).some((f) => f.confirmedAt !== null);
      if (!left) await store.deleteOneTimeTokens(user.id, RECOVERY_CODE_PURPOSE);
      return afterFactorChange(
        { ...principal, user },
        client,
        // A set-up never confirmed guarded nothing: no mail for it.
        factor.confirmedAt === null ? null : 'totp_removed',
        'mfa.factor_removed',
      );
    },
  };
}
