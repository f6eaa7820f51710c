/**
 * Changing the account's address: the signed-in owner gives the new address and the password;
 * a link goes to the new address (proving it), and the change happens when it is followed. The
 * old address is then told. The request answers the same whether or not the new address has an
 * account; only whoever reads the new mailbox learns it, at confirmation (`email_taken`).
 */

import { LatchkeyError } from '../errors.js';
import { normalizeEmail } from '../password/policy.js';
import type { UserRecord } from '../records.js';
import type { Principal } from './authenticate.js';
import type { UseCaseContext } from './context.js';
import { humanDuration, linkSecretId, linkTo, newLinkSecret, tokenData } from './mail-links.js';
import { mailFlows } from './recovery.js';
import { EMAIL_VERIFICATION } from './verification.js';

export const EMAIL_CHANGE = 'email_change';

export interface EmailChangeUseCases {
  requestEmailChange(
    principal: Principal,
    input: { email: string; password: string; ip: string },
  ): Promise<void>;
  confirmEmailChange(token: string): Promise<UserRecord>;
}

/**
 * @example
 * await createEmailChangeUseCases(context).requestEmailChange(principal, { email, password, ip });
 */
export function createEmailChangeUseCases(context: UseCaseContext): EmailChangeUseCases {
  const { store, clock, logger } = context;
  return {
    async requestEmailChange(principal, { email, password, ip }) {
      const mail = mailFlows(context);
      const user = await context.activeUser(principal.user.id);
      await context.reauthenticate(user, password);
      const address = normalizeEmail(email);
      if (address === null || address === user.email) {
        throw new LatchkeyError('validation_failed', 'email is not a valid new address', {
          extensions: { errors: [{ field: 'email', message: 'is not a valid new address' }] },
        });
      }
      await mail.throttle.check({ flow: EMAIL_CHANGE, address, ip });
      const { secret, id } = newLinkSecret();
      const now = clock();
      await mail.outbox.queue({
        kind: 'email_change',
        to: address,
        values: {
          link: linkTo(mail, '/email/confirm', secret),
          newEmail: address,
          expiresIn: humanDuration(mail.settings.emailChangeTTL),
        },
        token: {
          id,
          purpose: EMAIL_CHANGE,
          subject: user.id,
          data: JSON.stringify({ email: address, from: user.email }),
          createdAt: now,
          expiresAt: now + mail.settings.emailChangeTTL,
        },
        supersede: true,
      });
      logger.info({ event: 'email.change_requested', userId: user.id, ip }, 'email change link queued');
    },

    async confirmEmailChange(secret) {
      const mail = mailFlows(context);
      const id = linkSecretId(secret);
      const token = id === null ? null : await store.consumeOneTimeToken(id, EMAIL_CHANGE, clock());
      const user = token === null ? null : await store.getUserById(token.subject);
      const data = tokenData(token?.data ?? null);
      // The link changes the address it was issued from; if that changed meanwhile, it is void.
      if (user?.status !== 'active' || typeof data.email !== 'string' || data.from !== user.email) {
        throw new LatchkeyError('invalid_link');
      }
      const now = clock();
      await context.updateUser(user.id, { email: data.email, emailVerifiedAt: now, updatedAt: now });
      await store.deleteOneTimeTokens(user.id, EMAIL_VERIFICATION);
      await mail.outbox.queue({
        kind: 'email_changed',
        to: user.email,
        values: { newEmail: data.email, forgotLink: linkTo(mail, '/forgot') },
      });
      logger.info({ event: 'email.changed', userId: user.id }, 'email address changed');
      return { ...user, email: data.email, emailVerifiedAt: now, updatedAt: now };
    },
  };
}
