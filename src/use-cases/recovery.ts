/**
 * Password recovery: "forgot" sends a reset link, "reset" uses it. The link's secret is 256
 * random bits, stored as its SHA-256 in the one-time token store (purpose `password_reset`),
 * single use, valid `LATCHKEY_RESET_TTL`, replaced by a newer one (the store supersedes), and
 * dead once the password changes (the token holds a fingerprint of the hash it was issued for).
 */

import { LatchkeyError } from '../errors.js';
import { assertPasswordPolicy, normalizeEmail } from '../password/policy.js';
import type { OneTimeTokenRecord } from '../records.js';
import type { UseCaseContext } from './context.js';
import {
  humanDuration,
  linkSecretId,
  linkTo,
  newLinkSecret,
  passwordFingerprint,
  tokenData,
  type MailFlowOptions,
} from './mail-links.js';

export const PASSWORD_RESET = 'password_reset';

export interface RecoveryUseCases {
  /**
   * Always resolves the same way whether or not the address has an account (the route answers
   * 202); throttled per client and per address before any lookup.
   */
  forgotPassword(input: { email: string; ip: string }): Promise<void>;
  /**
   * Sets a new password from a reset link: revokes every session and refresh token of the
   * user (published like a logout) and mails "your password was changed".
   */
  resetPassword(input: { token: string; password: string; ip: string }): Promise<void>;
  /** For an operator (`latchkey users reset-link`): a reset link, not mailed. */
  createResetLink(email: string): Promise<string>;
}

export function mailFlows(context: UseCaseContext): MailFlowOptions {
  if (context.mail === undefined) throw new LatchkeyError('not_found', 'Mail flows are not configured');
  return context.mail;
}

/**
 * @example
 * const recovery = createRecoveryUseCases(context);
 * await recovery.forgotPassword({ email: 'ada@example.com', ip });
 */
export function createRecoveryUseCases(context: UseCaseContext): RecoveryUseCases {
  const { store, clock, logger, hasher } = context;

  function resetToken(userId: string, passwordHash: string): { secret: string; token: OneTimeTokenRecord } {
    const { secret, id } = newLinkSecret();
    const now = clock();
    return {
      secret,
      token: {
        id,
        purpose: PASSWORD_RESET,
        subject: userId,
        data: JSON.stringify({ pw: passwordFingerprint(passwordHash) }),
        createdAt: now,
        expiresAt: now + mailFlows(context).settings.resetTTL,
      },
    };
  }

  return {
    async forgotPassword({ email, ip }) {
      const mail = mailFlows(context);
      const address = normalizeEmail(email) ?? email.trim().toLowerCase();
      await mail.throttle.check({ flow: PASSWORD_RESET, address, ip });
      const user = await store.getUserByEmail(address);
      if (user?.status !== 'active') {
        logger.info({ event: 'password.forgot', known: false, ip }, 'password reset asked for no account');
        return;
      }
      const { secret, token } = resetToken(user.id, user.passwordHash);
      await mail.outbox.queue({
        kind: 'password_reset',
        to: user.email,
        values: { link: linkTo(mail, '/reset', secret), expiresIn: humanDuration(mail.settings.resetTTL) },
        token,
        supersede: true,
      });
      logger.info(
        { event: 'password.forgot', known: true, userId: user.id, ip },
        'password reset link queued',
      );
    },

    async resetPassword({ token: secret, password, ip }) {
      const mail = mailFlows(context);
      // The policy that needs no account first, so that a weak password does not burn the link.
      assertPasswordPolicy(password);
      const id = linkSecretId(secret);
      const token = id === null ? null : await store.consumeOneTimeToken(id, PASSWORD_RESET, clock());
      const user = token === null ? null : await store.getUserById(token.subject);
      if (token === null || user?.status !== 'active') {
        logger.info({ event: 'password.reset_failure', ip }, 'password reset refused');
        throw new LatchkeyError('invalid_link');
      }
      if (tokenData(token.data).pw !== passwordFingerprint(user.passwordHash)) {
        logger.info(
          { event: 'password.reset_failure', userId: user.id, ip },
          'reset link older than the password',
        );
        throw new LatchkeyError('invalid_link');
      }
      try {
        assertPasswordPolicy(password, { email: user.email });
      } catch (error) {
        await store.putOneTimeToken(token);
        throw error;
      }
      const now = clock();
      const passwordHash = await hasher.hash(password);
      // Following the link proved the mailbox: the address is verified too.
      await context.updateUser(user.id, {
        passwordHash,
        emailVerifiedAt: user.emailVerifiedAt ?? now,
        updatedAt: now,
      });
      await store.deleteOneTimeTokens(user.id, PASSWORD_RESET);
      const revoked = await context.revokeUserSessions(user.id);
      await context.revocations.userRevoked(user.id);
      await mail.outbox.queue({
        kind: 'password_changed',
        to: user.email,
        values: { forgotLink: linkTo(mail, '/forgot') },
      });
      logger.info(
        { event: 'password.reset', userId: user.id, revokedSessions: revoked, ip },
        'password reset',
      );
    },

    async createResetLink(email) {
      const mail = mailFlows(context);
      const normalized = normalizeEmail(email);
      const user = normalized === null ? null : await store.getUserByEmail(normalized);
      if (user === null) throw new LatchkeyError('not_found', 'No such user');
      const { secret, token } = resetToken(user.id, user.passwordHash);
      await store.deleteOneTimeTokens(user.id, PASSWORD_RESET);
      await store.putOneTimeToken(token);
      logger.info({ event: 'password.reset_link', userId: user.id }, 'reset link made by an operator');
      return linkTo(mail, '/reset', secret);
    },
  };
}
