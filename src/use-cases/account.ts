/** The account itself: change the password, enable or disable a user (an operator's command). */

import { LatchkeyError } from '../errors.js';
import { assertPasswordPolicy, normalizeEmail } from '../password/policy.js';
import type { UserRecord } from '../records.js';
import type { ClientInfo } from '../session/sessions.js';
import type { Principal } from './authenticate.js';
import type { UseCaseContext } from './context.js';
import type { SignedIn } from './login.js';
import { renewSession } from './renew.js';

export interface AccountUseCases {
  /**
   * Checks the current password, applies the policy to the new one, stores its hash, revokes
   * every other session of the user and renews the caller's own (new id and secret; the old
   * credentials are refused at once). Returns the renewed session's credentials.
   */
  changePassword(
    principal: Principal,
    input: { currentPassword: string; newPassword: string; client: ClientInfo },
  ): Promise<SignedIn>;
  /** Enables or disables a user by email; disabling revokes every session and token. */
  setUserStatus(email: string, status: 'active' | 'disabled'): Promise<UserRecord>;
}

/**
 * @example
 * await createAccountUseCases(context).setUserStatus('ada@example.com', 'disabled');
 */
export function createAccountUseCases(context: UseCaseContext): AccountUseCases {
  const { store, clock, logger, hasher, revocations } = context;
  return {
    async changePassword(principal, { currentPassword, newPassword, client }) {
      const user = await context.activeUser(principal.user.id);
      await context.reauthenticate(user, currentPassword, 'The current password is incorrect');
      assertPasswordPolicy(newPassword, { email: user.email });
      const passwordHash = await hasher.hash(newPassword);
      await context.updateUser(user.id, { passwordHash, updatedAt: clock() });
      // A reset link issued before the change must not undo it.
      await store.deleteOneTimeTokens(user.id, 'password_reset');
      const count = await context.revokeUserSessions(user.id, principal.session.id);
      logger.info(
        {
          event: 'password.change',
          userId: user.id,
          sessionId: principal.session.id,
          revokedSessions: count,
          ip: client.ip,
          userAgent: client.userAgent,
        },
        'password changed',
      );
      return renewSession(
        context,
        { ...principal, user: { ...user, passwordHash } },
        client,
        'password.change',
      );
    },

    async setUserStatus(email, status) {
      const normalized = normalizeEmail(email);
      const user = normalized === null ? null : await store.getUserByEmail(normalized);
      if (user === null) throw new LatchkeyError('not_found', 'No such user');
      await context.updateUser(user.id, { status, updatedAt: clock() });
      if (status === 'disabled') {
        await context.revokeUserSessions(user.id);
        await revocations.userRevoked(user.id);
      }
      logger.info(
        { event: `user.${status === 'active' ? 'enable' : 'disable'}`, userId: user.id },
        'user status set',
      );
      return { ...user, status };
    },
  };
}
