/** The account itself: change the password, enable or disable a user (an operator's command). */

import { LatchkeyError } from '../errors.js';
import { assertPasswordPolicy } from '../password/policy.js';
import type { UserRecord } from '../records.js';
import type { ClientInfo } from '../session/sessions.js';
import { findUser, type UserRef } from './admin.js';
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
  /** Enables or disables a user (by email or id); disabling revokes every session and token. */
  setUserStatus(user: UserRef, status: 'active' | 'disabled'): Promise<UserRecord>;
  /**
   * Sets a user's roles (by email or id). Access tokens carry the roles, so every token issued before
   * is revoked (a user revocation: the feed tells resource services and every node's near cache);
   * sessions stay, and their next request reads the new roles.
   */
  setUserRoles(user: UserRef, roles: readonly string[]): Promise<UserRecord>;
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

    async setUserStatus(ref, status) {
      const user = await findUser(context, ref);
      if (status === 'disabled') {
        // The user revocation tells every node (and resource service) at once: no second notice.
        await store.updateUser(user.id, { status, updatedAt: clock() });
        context.cache?.invalidateUser(user.id);
        await context.revokeUserSessions(user.id);
        await revocations.userRevoked(user.id);
      } else {
        await context.updateUser(user.id, { status, updatedAt: clock() });
      }
      logger.info(
        { event: `user.${status === 'active' ? 'enable' : 'disable'}`, userId: user.id },
        'user status set',
      );
      return { ...user, status };
    },

    async setUserRoles(ref, roles) {
      const user = await findUser(context, ref);
      const clean = [...new Set(roles.map((role) => role.trim()).filter((role) => role.length > 0))];
      if (clean.some((role) => !ROLE.test(role))) {
        throw new LatchkeyError('bad_request', 'A role is 1 to 64 letters, digits, or . _ : -');
      }
      await store.updateUser(user.id, { roles: clean, updatedAt: clock() });
      context.cache?.invalidateUser(user.id);
      await revocations.userRevoked(user.id);
      logger.info({ event: 'user.roles', userId: user.id, roles: clean }, 'user roles set');
      return { ...user, roles: clean };
    },
  };
}

/** What a role may be: a short name, no spaces or commas (the CLI splits on commas). */
const ROLE = /^[A-Za-z0-9._:-]{1,64}$/;
