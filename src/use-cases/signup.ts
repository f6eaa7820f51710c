/** Sign-up: a new account with a password that meets the policy, throttled per IP. */

import { LatchkeyError } from '../errors.js';
import { randomId } from '../lib/secrets.js';
import { assertPasswordPolicy, normalizeEmail } from '../password/policy.js';
import type { UserRecord } from '../records.js';
import type { UseCaseContext } from './context.js';

export interface SignUpInput {
  email: string;
  password: string;
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

  return async function signUp({ email, password, ip }) {
    const normalized = normalizeEmail(email);
    if (normalized === null) {
      throw new LatchkeyError('validation_failed', 'email is not a valid address', {
        extensions: { errors: [{ field: 'email', message: 'is not a valid address' }] },
      });
    }
    assertPasswordPolicy(password, { email: normalized });
    const now = clock();
    const { count, expiresAt } = await store.increment(`signup:ip:${ip}`, HOUR, now);
    if (count > limit) {
      throw new LatchkeyError('too_many_requests', undefined, {
        retryAfter: Math.max(1, Math.ceil((expiresAt - now) / 1000)),
      });
    }
    const user: UserRecord = {
      id: randomId(),
      email: normalized,
      passwordHash: await hasher.hash(password),
      status: 'active',
      roles: [],
      createdAt: now,
      updatedAt: now,
      emailVerifiedAt: null,
    };
    await store.createUser(user);
    logger.info({ event: 'user.signup', userId: user.id, ip }, 'user signed up');
    return user;
  };
}
