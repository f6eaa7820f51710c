/**
 * Sign-up with a passkey and no password: `passkeySignupOptions({ email })` hands out creation
 * options for a new user, `signUpWithPasskey({ response })` makes the account and its first
 * passkey in one go.
 *
 * - The options name a fresh user id (the passkey's user handle) and the address; both are kept
 *   in the challenge (a one-time token, 5 minutes, single use), so the second call cannot change
 *   them. The options do not look the address up: they answer alike for any address.
 * - The account is made through the sign-up of `signup.ts` (the per-IP limit, the address's
 *   validity) with no password (`NO_PASSWORD`: a password login of it fails like a wrong
 *   password, in the same time). A password is set later through the reset link (`/forgot`),
 *   which proves the mailbox.
 * - `LATCHKEY_EMAIL_VERIFICATION`: under `off` and `optional` the new user is signed in at once
 *   (in the mode asked for) and a taken address answers 409 `email_taken`, as the password
 *   sign-up does. Under `required` the answer is the same whether or not the address has an
 *   account: no session, a verification link to a new account, a "someone tried to sign up"
 *   mail to an existing owner (whose account is not touched, and the passkey not stored); the
 *   new account signs in with its passkey once the address is verified.
 */

import { isLatchkeyError, LatchkeyError } from '../errors.js';
import {
  challengeOf,
  registrationOptions,
  verifyRegistration,
  type RegistrationOptionsJSON,
  type RegistrationResponseJSON,
} from '../factors/webauthn.js';
import { randomId, sha256 } from '../lib/secrets.js';
import { normalizeEmail } from '../password/policy.js';
import type { SessionMode, UserRecord } from '../records.js';
import type { ClientInfo } from '../session/sessions.js';
import { assuranceOf, passkeyMethod } from '../token/assurance.js';
import type { UseCaseContext } from './context.js';
import { establishSession, type SignedIn } from './login.js';
import { tokenData } from './mail-links.js';
import { cleanName, countChallenge, issueChallenge } from './passkeys.js';
import { mailFlows } from './recovery.js';
import type { SignUpInput } from './signup.js';
import { mailSignupAttempt, type VerificationUseCases } from './verification.js';

export const PASSKEY_SIGNUP_PURPOSE = 'passkey_signup';

export interface PasskeySignupUseCases {
  /** Creation options for a new account at `email` (validated, not looked up). */
  passkeySignupOptions(input: { email: string; ip: string }): Promise<RegistrationOptionsJSON>;
  /**
   * Makes the account and its passkey. Null under `required` (nothing tells whether an account
   * was made); otherwise the new user, signed in.
   */
  signUpWithPasskey(input: {
    response: RegistrationResponseJSON;
    name?: string | undefined;
    mode: SessionMode;
    remember?: boolean | undefined;
    client: ClientInfo & { ip: string };
  }): Promise<SignedIn | null>;
}

function invalidEmail(): LatchkeyError {
  return new LatchkeyError('validation_failed', 'email is not a valid address', {
    extensions: { errors: [{ field: 'email', message: 'is not a valid address' }] },
  });
}

/**
 * @example
 * const options = await passkeySignup.passkeySignupOptions({ email, ip }); // to the browser
 * const signedIn = await passkeySignup.signUpWithPasskey({ response, mode: 'cookie', client });
 */
export function createPasskeySignupUseCases(
  context: UseCaseContext,
  deps: {
    signUp: (input: SignUpInput) => Promise<UserRecord>;
    sendVerification: VerificationUseCases['sendVerification'];
  },
): PasskeySignupUseCases {
  const { store, clock, logger, webauthn } = context;
  const verification = (): string => context.mail?.settings.emailVerification ?? 'off';

  return {
    async passkeySignupOptions({ email, ip }) {
      const address = normalizeEmail(email);
      if (address === null) throw invalidEmail();
      await countChallenge(context, ip);
      const userId = randomId();
      const data = JSON.stringify({ email: address, userId });
      const challenge = await issueChallenge(context, PASSKEY_SIGNUP_PURPOSE, '', data);
      return registrationOptions(webauthn, { challenge, userId, userName: address, existing: [] });
    },

    async signUpWithPasskey({ response, name, mode, remember, client }) {
      const challenge = challengeOf(response);
      const token =
        challenge === null
          ? null
          : await store.consumeOneTimeToken(sha256(challenge), PASSKEY_SIGNUP_PURPOSE, clock());
      const { email, userId } = tokenData(token?.data ?? null);
      const credential =
        challenge !== null && typeof email === 'string' && typeof userId === 'string'
          ? await verifyRegistration(webauthn, { response, challenge })
          : null;
      if (credential === null || typeof email !== 'string' || typeof userId !== 'string') {
        logger.info({ event: 'passkey.register_failed', ip: client.ip }, 'passkey sign-up refused');
        throw new LatchkeyError('passkey_invalid');
      }
      if ((await store.getPasskey(credential.id)) !== null) throw new LatchkeyError('passkey_exists');
      const required = verification() === 'required';
      if (required)
        await mailFlows(context).throttle.check({ flow: 'signup', address: email, ip: client.ip });
      let user;
      try {
        user = await deps.signUp({ email, password: null, id: userId, ip: client.ip });
      } catch (error) {
        if (!required || !isLatchkeyError(error, 'email_taken')) throw error;
        await mailSignupAttempt(context, email, client.ip);
        return null;
      }
      const now = clock();
      await store.createPasskey({
        ...credential,
        userId,
        name: cleanName(name),
        createdAt: now,
        lastUsedAt: null,
      });
      logger.info(
        { event: 'passkey.added', userId, passkeyId: credential.id, ip: client.ip },
        'passkey sign-up',
      );
      if (verification() !== 'off') await deps.sendVerification(user);
      if (required) return null;
      const signedIn = await establishSession(context, {
        user,
        mode,
        client,
        persistent: remember === true,
        // A user-verified passkey: two factors (the key and its PIN or biometric), as at sign-in.
        assurance: assuranceOf([passkeyMethod(credential)], now),
      });
      logger.info(
        {
          event: 'login.success',
          method: 'passkey',
          userId,
          sessionId: signedIn.session.id,
          mode,
          ip: client.ip,
          userAgent: client.userAgent,
        },
        'signed up and in with a passkey',
      );
      return signedIn;
    },
  };
}
