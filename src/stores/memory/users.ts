/** Users in the memory store, by id and by email. */

import { LatchkeyError } from '../../errors.js';
import type { UserPatch, UserRecord } from '../../records.js';
import type { UserStore } from '../../store.js';
import { compareCodePoints } from '../ordering.js';
import type { RunOperation } from './runner.js';

/** Copies a user deeply enough that neither side can reach into the other's `roles`. */
function copyUser(user: UserRecord): UserRecord {
  return { ...user, roles: [...user.roles] };
}

/**
 * Creates the user operations of one memory store, over state of their own.
 *
 * @example
 * const users = createMemoryUsers(createMemoryRunner().run);
 * await users.createUser(user);
 */
export function createMemoryUsers(run: RunOperation): UserStore {
  const users = new Map<string, UserRecord>();
  const userIdByEmail = new Map<string, string>();

  return {
    createUser(user: UserRecord): Promise<void> {
      return run(() => {
        if (userIdByEmail.has(user.email)) throw new LatchkeyError('email_taken');
        if (users.has(user.id)) {
          throw new LatchkeyError('internal_error', 'A user with this id already exists');
        }
        users.set(user.id, copyUser(user));
        userIdByEmail.set(user.email, user.id);
      });
    },

    getUserById(id: string): Promise<UserRecord | null> {
      return run(() => {
        const user = users.get(id);
        return user === undefined ? null : copyUser(user);
      });
    },

    getUserByEmail(email: string): Promise<UserRecord | null> {
      return run(() => {
        const id = userIdByEmail.get(email);
        const user = id === undefined ? undefined : users.get(id);
        return user === undefined ? null : copyUser(user);
      });
    },

    updateUser(id: string, patch: UserPatch): Promise<boolean> {
      return run(() => {
        const user = users.get(id);
        if (user === undefined) return false;
        if (patch.email !== undefined && patch.email !== user.email) {
          if (userIdByEmail.has(patch.email)) throw new LatchkeyError('email_taken');
          userIdByEmail.delete(user.email);
          userIdByEmail.set(patch.email, id);
          user.email = patch.email;
        }
        if (patch.passwordHash !== undefined) user.passwordHash = patch.passwordHash;
        if (patch.status !== undefined) user.status = patch.status;
        if (patch.roles !== undefined) user.roles = [...patch.roles];
        if (patch.emailVerifiedAt !== undefined) user.emailVerifiedAt = patch.emailVerifiedAt;
        user.updatedAt = patch.updatedAt;
        return true;
      });
    },

    listUsers(options: { limit: number; after?: string }): Promise<UserRecord[]> {
      return run(() => {
        if (options.limit <= 0) return [];
        const { after } = options;
        const page = [...users.values()]
          .filter((user) => after === undefined || compareCodePoints(user.email, after) > 0)
          .sort((a, b) => compareCodePoints(a.email, b.email))
          .slice(0, options.limit);
        return page.map(copyUser);
      });
    },
  };
}
