/**
 * Email verification (`LATCHKEY_EMAIL_VERIFICATION`): a link that proves the owner reads mail
 * at the account's address; the login step that requires it; and sign-up that reveals nothing
 * about existing accounts under `required`.
 */

import { isLatchkeyError, LatchkeyError } from '../errors.js';
import { normalizeEmail } from '../password/policy.js';
import type { UserRecord } from '../records.js';
import type { UseCaseContext } from './context.js';
import type { LoginStep } from './login.js';
import { humanDuration, linkSecretId, linkTo, newLinkSecret, tokenData } from './mail-links.js';
import { mailFlows } from './recovery.js';
import type { SignUpInput } from './signup.js';

export const EMAIL_VERIFICATION = 'email_verification';

export interface VerificationUseCases {
  /** Queues a verification link to the user's address (replacing older ones). */
  sendVerification(user: UserRecord): Promise<void>;
  /** Marks the address verified from a link; `invalid_link` otherwise. */
  verifyEmail(token: string): Promise<UserRecord>;
  /** A new link for a signed-in user, or by address (the login refused as unverified); no answer differs. */
  requestVerification(input: { user?: UserRecord; email?: string; ip: string }): Promise<void>;
  /** For an operator (`latchkey users verify`). */
  markVerified(email: string): Promise<UserRecord>;
  /**
   * Sign-up under `required`: the same outcome whether or not the address has an account. A new
   * address gets an account and a verification link; an existing one a "someone tried to sign
   * up" mail, and its password is never touched. Both spend one argon2 hash.
   */
  signUpPrivately(input: SignUpInput, signUp: (input: SignUpInput) => Promise<UserRecord>): Promise<void>;
}

/** Under `required`, an unverified account is refused after the right password, with a way to resend. */
export function verifiedEmailStep(required: boolean): LoginStep {
  return {
    name: 'verified_email',
    check(user) {
      if (!required || user.emailVerifiedAt !== null) return Promise.resolve();
      return Promise.reject(
        new LatchkeyError('email_unverified', undefined, {
          extensions: { resend: '/v1/email/verify/request' },
        }),
      );
    },
  };
}

/** Tells the owner of `address` that someone tried to sign up with it (under `required`). */
export async function mailSignupAttempt(context: UseCaseContext, address: string, ip: string): Promise<void> {
  const mail = mailFlows(context);
  const owner = await context.store.getUserByEmail(address);
  if (owner === null) return;
  await mail.outbox.queue({
    kind: 'signup_attempt',
    to: owner.email,
    values: { loginLink: linkTo(mail, '/login'), forgotLink: linkTo(mail, '/forgot') },
  });
  context.logger.info(
    { event: 'user.signup_existing', userId: owner.id, ip },
    'sign-up with a taken address',
  );
}

/**
 * @example
 * const verification = createVerificationUseCases(context);
 * await verification.verifyEmail(tokenFromTheLink);
 */
export function createVerificationUseCases(context: UseCaseContext): VerificationUseCases {
  const { store, clock, logger } = context;

  async function sendVerification(user: UserRecord): Promise<void> {
    const mail = mailFlows(context);
    const { secret, id } = newLinkSecret();
    const now = clock();
    await mail.outbox.queue({
      kind: 'verification',
      to: user.email,
      values: {
        link: linkTo(mail, '/verify', secret),
        expiresIn: humanDuration(mail.settings.verificationTTL),
      },
      token: {
        id,
        purpose: EMAIL_VERIFICATION,
        subject: user.id,
        data: JSON.stringify({ email: user.email }),
        createdAt: now,
        expiresAt: now + mail.settings.verificationTTL,
      },
      supersede: true,
    });
  }

  return {
    sendVerification,

    async verifyEmail(secret) {
      const id = linkSecretId(secret);
      const token = id === null ? null : await store.consumeOneTimeToken(id, EMAIL_VERIFICATION, clock());
      const user = token === null ? null : await store.getUserById(token.subject);
      // The link is for the address it was sent to: after an email change it proves nothing.
      if (token === null || user === null || tokenData(token.data).email !== user.email) {
        throw new LatchkeyError('invalid_link');
      }
      const now = clock();
      if (user.emailVerifiedAt === null)
        await context.updateUser(user.id, { emailVerifiedAt: now, updatedAt: now });
      logger.info({ event: 'email.verified', userId: user.id }, 'email address verified');
      return { ...user, emailVerifiedAt: user.emailVerifiedAt ?? now };
    },

    async requestVerification({ user: signedIn, email, ip }) {
      const mail = mailFlows(context);
      const address = signedIn?.email ?? normalizeEmail(email ?? '') ?? (email ?? '').trim().toLowerCase();
      await mail.throttle.check({ flow: EMAIL_VERIFICATION, address, ip });
      const user = signedIn ?? (await store.getUserByEmail(address));
      if (user === null || user.status !== 'active' || user.emailVerifiedAt !== null) return;
      await sendVerification(user);
    },

    async markVerified(email) {
      const normalized = normalizeEmail(email);
      const user = normalized === null ? null : await store.getUserByEmail(normalized);
      if (user === null) throw new LatchkeyError('not_found', 'No such user');
      const now = clock();
      await context.updateUser(user.id, { emailVerifiedAt: user.emailVerifiedAt ?? now, updatedAt: now });
      await store.deleteOneTimeTokens(user.id, EMAIL_VERIFICATION);
      logger.info({ event: 'email.verified', userId: user.id, by: 'operator' }, 'email address verified');
      return { ...user, emailVerifiedAt: user.emailVerifiedAt ?? now };
    },

    async signUpPrivately(input, signUp) {
      const mail = mailFlows(context);
      const address = normalizeEmail(input.email) ?? input.email;
      await mail.throttle.check({ flow: 'signup', address, ip: input.ip });
      try {
        const user = await signUp(input);
        await sendVerification(user);
      } catch (error) {
        if (!isLatchkeyError(error, 'email_taken')) throw error;
        // signUp hashed the password before the store refused the address: the same work as a
        // new account. The existing owner is told; nothing of the account changes.
        await mailSignupAttempt(context, address, input.ip);
      }
    },
  };
}
