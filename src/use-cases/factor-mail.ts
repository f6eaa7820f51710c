/**
 * The mail that tells the owner their sign-in methods changed: a TOTP factor or a passkey added
 * or removed, the recovery codes replaced. It names the change and holds no secret (no code, no
 * TOTP secret, no passkey name), only links to review the methods and to reset the password.
 *
 * Queued right after the change, before the answer: the factor and passkey records are not in
 * the outbox's store step (`queueMail` takes one one-time token, not a factor), so a store that
 * fails between the two leaves the change without its mail and the caller sees the error.
 */

import type { FactorChange } from '../outbox/templates.js';
import type { UserRecord } from '../records.js';
import type { UseCaseContext } from './context.js';
import { linkTo } from './mail-links.js';

/** Queues the `factor_changed` mail to the user; nothing when the mail flows are off. */
export async function mailFactorChange(
  context: UseCaseContext,
  user: Pick<UserRecord, 'email'>,
  change: FactorChange,
): Promise<void> {
  const mail = context.mail;
  if (mail === undefined) return;
  const page = change.startsWith('passkey') ? '/account/passkeys' : '/account/security';
  await mail.outbox.queue({
    kind: 'factor_changed',
    to: user.email,
    values: { change, securityLink: linkTo(mail, page), forgotLink: linkTo(mail, '/forgot') },
  });
}
