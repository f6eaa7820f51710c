/**
 * Session renewal after a privilege change (a new password today; a role change, a second
 * factor added or removed, a step-up later): the current session is replaced by a new one with
 * a new id and secret, and revoked at once, so a credential that leaked before the change is
 * worth nothing after it (OWASP session management: renew the session ID after any privilege
 * level change).
 *
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html#renew-the-session-id-after-any-privilege-level-change
 */

import type { ClientInfo } from '../session/sessions.js';
import type { Assurance } from '../token/assurance.js';
import type { Principal } from './authenticate.js';
import type { UseCaseContext } from './context.js';
import { establishSession, type SignedIn } from './login.js';

/**
 * Replaces the caller's session: same mode, same absolute expiry and persistence, new id and
 * secret (and a new token pair in token and hybrid mode); the old session is revoked and the
 * revocation published. Returns the new credentials for the caller to hand back.
 *
 * @example
 * const renewed = await renewSession(context, principal, { userAgent, ip }, 'password.change');
 */
export async function renewSession(
  context: UseCaseContext,
  principal: Principal,
  client: ClientInfo,
  reason: string,
  /** A step-up's new assurance; without it the renewed session keeps the old one's. */
  assurance?: Assurance,
): Promise<SignedIn> {
  const old = principal.session;
  const renewed = await establishSession(context, {
    user: principal.user,
    mode: old.mode,
    client,
    renewing: old,
    ...(assurance === undefined ? {} : { assurance }),
  });
  await context.revokeSession(old.id);
  context.logger.info(
    {
      event: 'session.renew',
      reason,
      userId: principal.user.id,
      sessionId: renewed.session.id,
      previousSessionId: old.id,
      ip: client.ip,
      userAgent: client.userAgent,
    },
    'session renewed after a privilege change',
  );
  return renewed;
}
