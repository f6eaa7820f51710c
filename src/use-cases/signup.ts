/**
 * Sign-up: a new account with a password that meets the policy, throttled per IP. A passkey
 * sign-up (`passkey-signup.ts`) makes the account through here too, with no password.
 */

import { LatchkeyError } from '../errors.js';
import { randomId } from '../lib/secrets.js';
import { assertPasswordPolicy, normalizeEmail } from '../password/policy.js';
import { NO_PASSWORD, type UserRecord } from '../records.js';
import type { UseCaseContext } from './context.js';

export interface SignUpInput {
  email: string;
  /** Null: an account without a password (its first credential is a passkey). */
  password: string | null;
  /** The new user's id, when the caller chose it (a passkey's user handle); random otherwise. */
  id?: string | undefined;
  /** The caller's address: sign-ups are counted per IP. */
  ip: string;
}

const HOUR = 3_600_000;

/**
 * The sign-up use case. Refuses an invalid email (`validation_failed`), a weak password
 * (`weak_password`), a taken email (`email_taken`, from the store's atomic create) and more
 * than `signupLimitPerHour` sign-ups from one IP (`too_many_requests` with a retry time).
 *
 * @example
 * const signUp = createSignUp(context);
 * const user = await signUp({ email: 'ada@example.com', password, ip: '203.0.113.7' });
 */
export function createSignUp(context: UseCaseContext): (input: SignUpInput) => Promise<UserRecord> {
  const { store, clock, hasher, logger } = context;
  const limit = context.signupLimitPerHour ?? 20;

  return async function signUp({ email, password, ip, id }) {
    const normalized = normalizeEmail(email);
    if (normalized === null) {
      throw new LatchkeyError('validation_failed', 'email is not a valid address', {
        extensions: { errors: [{ field: 'email', message: 'is not a valid address' }] },
      });
    }
    if (password !== null) assertPasswordPolicy(password, { email: normalized });
    const now = clock();
    const { count, expiresAt } = await store.increment(`signup:ip:${ip}`, HOUR, now);
    if (count > limit) {
      throw new LatchkeyError('too_many_requests', undefined, {
        retryAfter: Math.max(1, Math.ceil((expiresAt - now) / 1000)),
      });
    }
    const user: UserRecord = {
      id: id ?? randomId(),
      email: normalized,
      passwordHash: password === null ? NO_PASSWORD : await hasher.hash(password),
      status: 'active',
      roles: [],
      createdAt: now,
      updatedAt: now,
      emailVerifiedAt: null,
    };
    await store.createUser(user);
    logger.info(
      { event: 'user.signup', userId: user.id, ip, method: password === null ? 'passkey' : 'password' },
      'user signed up',
    );
    return user;
  };
}
