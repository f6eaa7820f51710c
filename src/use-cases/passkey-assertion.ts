/**
 * Checking a passkey assertion, shared by every flow that takes one: a username-less sign-in,
 * the second step of a login, and the proof before removing a passkey.
 *
 * The assertion's challenge must be one this server issued (`POST /v1/passkeys/login/options`)
 * and not used before: it is a one-time token, consumed atomically before the signature is
 * checked, so a response is accepted once. The credential is found by its id; when the flow
 * already knows the user, it must be theirs. The signature counter must grow (or be 0 on an
 * authenticator without one): the store records the use only then, atomically, and a counter
 * that does not grow is the sign of a cloned authenticator (`passkey.counter_regression`).
 * Failures count per client address; past the limit the answer is 429.
 */

import { LatchkeyError } from '../errors.js';
import { challengeOf, verifyAssertion, type AuthenticationResponseJSON } from '../factors/webauthn.js';
import { sha256 } from '../lib/secrets.js';
import type { PasskeyRecord } from '../records.js';
import { clientKey } from '../throttle/client-key.js';
import type { UseCaseContext } from './context.js';

export const PASSKEY_AUTHENTICATION_PURPOSE = 'passkey_authentication';
export const PASSKEY_REGISTRATION_PURPOSE = 'passkey_registration';
/** Failed assertions per client address in `FAILURE_WINDOW_MS`, then 429. */
const ADDRESS_FAILURES = 50;
const FAILURE_WINDOW_MS = 15 * 60_000;

/**
 * Verifies an assertion and records the passkey's use. Returns the passkey; throws
 * `passkey_invalid` (or `too_many_requests`) otherwise.
 *
 * @example
 * const passkey = await acceptPasskeyAssertion(context, response, { ip, userId: user.id });
 */
export async function acceptPasskeyAssertion(
  context: UseCaseContext,
  response: AuthenticationResponseJSON,
  options: { ip: string; userId?: string | undefined },
): Promise<PasskeyRecord> {
  const { store, clock, logger } = context;
  const failures = `passkey:ip:${clientKey(options.ip)}`;
  const counted = await store.getCounter(failures, clock());
  if (counted !== null && counted.count >= ADDRESS_FAILURES) {
    throw new LatchkeyError('too_many_requests', 'Too many failed passkey attempts; retry later', {
      retryAfter: Math.max(1, Math.ceil((counted.expiresAt - clock()) / 1000)),
    });
  }
  const refuse = async (reason: string, passkey?: PasskeyRecord): Promise<never> => {
    await store.increment(failures, FAILURE_WINDOW_MS, clock());
    logger.info(
      { event: 'passkey.failure', reason, userId: passkey?.userId, passkeyId: passkey?.id, ip: options.ip },
      'passkey assertion refused',
    );
    throw new LatchkeyError('passkey_invalid');
  };

  const challenge = challengeOf(response);
  if (challenge === null) return refuse('no_challenge');
  const token = await store.consumeOneTimeToken(sha256(challenge), PASSKEY_AUTHENTICATION_PURPOSE, clock());
  if (token === null) return refuse('unknown_challenge');
  const passkey = await store.getPasskey(response.id);
  if (passkey === null) return refuse('unknown_credential');
  if (options.userId !== undefined && passkey.userId !== options.userId) return refuse('other_user', passkey);
  const handle = response.response.userHandle as string | null | undefined;
  if (typeof handle === 'string' && Buffer.from(handle, 'base64url').toString('utf8') !== passkey.userId) {
    return refuse('user_handle', passkey);
  }
  const verified = await verifyAssertion(context.webauthn, { response, challenge, passkey });
  if (verified === null) return refuse('signature', passkey);
  const recorded = await store.usePasskey(passkey.id, { ...verified, at: clock() });
  if (!recorded) {
    logger.warn(
      {
        event: 'passkey.counter_regression',
        userId: passkey.userId,
        passkeyId: passkey.id,
        storedCounter: passkey.counter,
        counter: verified.counter,
        ip: options.ip,
      },
      'a passkey signature counter did not grow: possibly a cloned authenticator',
    );
    return refuse('counter_regression', passkey);
  }
  return { ...passkey, counter: verified.counter, backedUp: verified.backedUp, lastUsedAt: clock() };
}
