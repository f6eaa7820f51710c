/**
 * Password recovery: "forgot" sends a reset link, "reset" uses it. The link's secret is 256
 * random bits, stored as its SHA-256 in the one-time token store (purpose `password_reset`),
 * single use, valid `LATCHKEY_RESET_TTL`, replaced by a newer one (the store supersedes), and
 * dead once the password changes (the token holds a fingerprint of the hash it was issued for).
 * A reset of an account whose address was never verified also removes its passkeys and second
 * factors (see `dropUnprovenCredentials`). An account made with a passkey and no password gets
 * its first password this way.
 */

import { LatchkeyError } from '../errors.js';
import { assertPasswordPolicy, normalizeEmail } from '../password/policy.js';
import type { OneTimeTokenRecord } from '../records.js';
import type { UseCaseContext } from './context.js';
import { RECOVERY_CODE_PURPOSE } from './second-factor.js';
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

/**
 * Removes the passkeys and second factors of an account whose address was never verified, when
 * a reset link (the first proof of the mailbox) sets its password: whoever added them never
 * proved they own the address. Without this, someone who signed up first with another person's
 * address (and a passkey) would keep a way in after that person takes the account back by a
 * reset (account pre-hijacking). Returns how many were removed.
 */
async function dropUnprovenCredentials(context: UseCaseContext, userId: string): Promise<number> {
  const { store } = context;
  let dropped = 0;
  for (const passkey of await store.listPasskeys(userId)) {
    if (await store.deletePasskey(userId, passkey.id)) dropped += 1;
  }
  for (const factor of await store.listFactors(userId)) {
    if (await store.deleteFactor(userId, factor.id)) dropped += 1;
  }
  if (dropped > 0) await store.deleteOneTimeTokens(userId, RECOVERY_CODE_PURPOSE);
  return dropped;
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
      const dropped = user.emailVerifiedAt === null ? await dropUnprovenCredentials(context, user.id) : 0;
      const revoked = await context.revokeUserSessions(user.id);
      await context.revocations.userRevoked(user.id);
      await mail.outbox.queue({
        kind: 'password_changed',
        to: user.email,
        values: { forgotLink: linkTo(mail, '/forgot') },
      });
      logger.info(
        {
          event: 'password.reset',
          userId: user.id,
          revokedSessions: revoked,
          droppedCredentials: dropped,
          ip,
        },
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
