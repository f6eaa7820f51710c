/**
 * Passkeys (WebAuthn Level 3): registering them from a signed-in session, signing in with one
 * alone (username-less, discoverable credentials), and listing, renaming and removing them.
 *
 * - Every ceremony has a fresh 256-bit challenge kept as a one-time token (its SHA-256), valid
 *   5 minutes and consumed before the response is checked: single use. A registration challenge
 *   is bound to the user and the session that asked for it.
 * - User verification is required: a passkey is a multi-factor authenticator by itself, so a
 *   passkey sign-in skips the password and the second-factor step, whether or not the account
 *   has a password or TOTP. The account must still be active.
 * - The last passkey of an account without a password (made by a passkey sign-up,
 *   `passkey-signup.ts`) cannot be removed: the account would have no way in. The check is made
 *   before and after the removal (a concurrent removal of the other one puts this one back).
 * - Under `LATCHKEY_EMAIL_VERIFICATION=required`, a passkey sign-in of an unverified account is
 *   refused like a password login (`email_unverified`).
 * - Removing a passkey needs a fresh proof: the password, or an assertion of one of the user's
 *   passkeys (any, the one being removed included) made for this purpose's challenge.
 * - Adding or removing one changes what the account's sessions are worth: the user's other
 *   sessions are revoked and this one renewed, as after a factor change.
 *
 * The assertion itself is checked in `passkey-assertion.ts` (shared with the second step of a
 * login, `second-factor.ts`).
 */

import { LatchkeyError } from '../errors.js';
import {
  authenticationOptions,
  CEREMONY_TIMEOUT_MS,
  challengeOf,
  newChallenge,
  registrationOptions,
  verifyRegistration,
  type AuthenticationOptionsJSON,
  type AuthenticationResponseJSON,
  type RegistrationOptionsJSON,
  type RegistrationResponseJSON,
} from '../factors/webauthn.js';
import { sha256 } from '../lib/secrets.js';
import { hasPassword, type PasskeyRecord, type SessionMode, type UserRecord } from '../records.js';
import type { ClientInfo } from '../session/sessions.js';
import { clientKey } from '../throttle/client-key.js';
import { assuranceOf, passkeyMethod } from '../token/assurance.js';
import type { Principal } from './authenticate.js';
import type { UseCaseContext } from './context.js';
import { mailFactorChange } from './factor-mail.js';
import { establishSession, type SignedIn } from './login.js';
import {
  acceptPasskeyAssertion,
  PASSKEY_AUTHENTICATION_PURPOSE,
  PASSKEY_REGISTRATION_PURPOSE,
} from './passkey-assertion.js';
import { renewSession } from './renew.js';
import { verifiedEmailStep } from './verification.js';

/** Passkeys per account. */
const MAX_PASSKEYS = 20;
/** Sign-in challenges handed out per client address per minute (each is a stored token). */
const OPTIONS_PER_MINUTE = 60;

export interface PasskeyUseCases {
  /** Options for `navigator.credentials.create()`, for the signed-in user. */
  passkeyRegistrationOptions(principal: Principal): Promise<RegistrationOptionsJSON>;
  /** Stores the passkey the browser created; the session is renewed. */
  registerPasskey(
    principal: Principal,
    input: { response: RegistrationResponseJSON; name?: string | undefined; client: ClientInfo },
  ): Promise<{ passkey: PasskeyRecord; signedIn: SignedIn }>;
  /** Options for `navigator.credentials.get()`: a sign-in, a second step, or a proof. */
  passkeyLoginOptions(input: { ip: string }): Promise<AuthenticationOptionsJSON>;
  /** Signs in with a passkey alone, in the mode asked for. */
  loginWithPasskey(input: {
    response: AuthenticationResponseJSON;
    mode: SessionMode;
    remember?: boolean | undefined;
    client: ClientInfo & { ip: string };
  }): Promise<SignedIn>;
  listPasskeys(principal: Principal): Promise<PasskeyRecord[]>;
  renamePasskey(principal: Principal, input: { passkeyId: string; name: string }): Promise<PasskeyRecord>;
  /** Removes a passkey with the password or a passkey assertion; the session is renewed. */
  removePasskey(
    principal: Principal,
    input: {
      passkeyId: string;
      password?: string | undefined;
      assertion?: AuthenticationResponseJSON | undefined;
      client: ClientInfo & { ip: string };
    },
  ): Promise<SignedIn>;
}

export function cleanName(name: string | undefined): string {
  return (
    (name ?? '')
      .replace(/\p{Cc}/gu, '')
      .trim()
      .slice(0, 100) || 'Passkey'
  );
}

/** A fresh challenge, kept as a one-time token (its hash) for the ceremony's lifetime. */
export async function issueChallenge(
  context: UseCaseContext,
  purpose: string,
  subject: string,
  data: string | null,
): Promise<string> {
  const { store, clock } = context;
  const challenge = newChallenge();
  const now = clock();
  await store.putOneTimeToken({
    id: sha256(challenge),
    purpose,
    subject,
    data,
    createdAt: now,
    expiresAt: now + CEREMONY_TIMEOUT_MS,
  });
  return challenge;
}

/** The refusal to remove the only credential of an account without a password (it would be locked out). */
function lastPasskey(): LatchkeyError {
  return new LatchkeyError(
    'forbidden',
    'This is the only way to sign in to this account: set a password or add another passkey first',
  );
}

/** Counts a challenge handed out without a session (sign-in, sign-up) against the client's address. */
export async function countChallenge(context: UseCaseContext, ip: string): Promise<void> {
  const { store, clock } = context;
  const counter = await store.increment(`passkey:options:${clientKey(ip)}`, 60_000, clock());
  if (counter.count > OPTIONS_PER_MINUTE) {
    throw new LatchkeyError('too_many_requests', 'Too many passkey challenges; retry later', {
      retryAfter: Math.max(1, Math.ceil((counter.expiresAt - clock()) / 1000)),
    });
  }
}

/**
 * Revokes the user's other sessions, mails the owner and renews this session, after a passkey
 * was added or removed.
 */
async function afterPasskeyChange(
  context: UseCaseContext,
  principal: Principal,
  client: ClientInfo,
  event: 'passkey.added' | 'passkey.removed',
): Promise<SignedIn> {
  const revoked = await context.revokeUserSessions(principal.user.id, principal.session.id);
  await mailFactorChange(
    context,
    principal.user,
    event === 'passkey.added' ? 'passkey_added' : 'passkey_removed',
  );
  context.logger.info(
    {
      event,
      userId: principal.user.id,
      sessionId: principal.session.id,
      revokedSessions: revoked,
      ip: client.ip,
      userAgent: client.userAgent,
    },
    'passkeys changed',
  );
  return renewSession(context, principal, client, event);
}

/** The session of a passkey sign-in (two factors: the key and its user verification). */
async function signInWithPasskey(
  context: UseCaseContext,
  input: {
    user: UserRecord;
    passkey: PasskeyRecord;
    mode: SessionMode;
    remember: boolean;
    client: ClientInfo & { ip: string };
  },
): Promise<SignedIn> {
  const { user, passkey, mode, client } = input;
  const assurance = assuranceOf([passkeyMethod(passkey)], context.clock());
  const signedIn = await establishSession(context, {
    user,
    mode,
    client,
    persistent: input.remember,
    assurance,
  });
  context.logger.info(
    {
      event: 'login.success',
      method: 'passkey',
      userId: user.id,
      passkeyId: passkey.id,
      sessionId: signedIn.session.id,
      mode,
      ip: client.ip,
      userAgent: client.userAgent,
    },
    'login succeeded with a passkey',
  );
  return signedIn;
}

/** Removes a passkey with a fresh proof, never the last one of an account without a password. */
async function removePasskey(
  context: UseCaseContext,
  principal: Principal,
  input: Parameters<PasskeyUseCases['removePasskey']>[1],
): Promise<SignedIn> {
  const { store } = context;
  const { passkeyId, password, assertion, client } = input;
  const user = await context.activeUser(principal.user.id);
  const passkey = await store.getPasskey(passkeyId);
  if (passkey?.userId !== user.id) throw new LatchkeyError('not_found', 'No such passkey');
  const passwordless = !hasPassword(user);
  if (passwordless && (await store.listPasskeys(user.id)).length <= 1) throw lastPasskey();
  if (assertion !== undefined) {
    await acceptPasskeyAssertion(context, assertion, { ip: client.ip, userId: user.id });
  } else if (password === undefined) {
    throw new LatchkeyError('invalid_credentials', 'The password is incorrect');
  } else {
    await context.reauthenticate(user, password);
  }
  if (!(await store.deletePasskey(user.id, passkeyId)))
    throw new LatchkeyError('not_found', 'No such passkey');
  if (passwordless && (await store.listPasskeys(user.id)).length === 0) {
    // A concurrent removal took the other one: this one goes back, so one always stays.
    await store.createPasskey(passkey);
    throw lastPasskey();
  }
  return afterPasskeyChange(context, { ...principal, user }, client, 'passkey.removed');
}

/**
 * The passkey use cases over one context.
 *
 * @example
 * const options = await passkeys.passkeyRegistrationOptions(principal); // to the browser
 * const { passkey } = await passkeys.registerPasskey(principal, { response, name: 'Laptop', client });
 */
export function createPasskeyUseCases(context: UseCaseContext): PasskeyUseCases {
  const { store, clock, logger, webauthn } = context;

  return {
    async passkeyRegistrationOptions(principal) {
      const user = await context.activeUser(principal.user.id);
      const existing = await store.listPasskeys(user.id);
      if (existing.length >= MAX_PASSKEYS) {
        throw new LatchkeyError('forbidden', `At most ${MAX_PASSKEYS} passkeys per account`);
      }
      const challenge = await issueChallenge(
        context,
        PASSKEY_REGISTRATION_PURPOSE,
        user.id,
        JSON.stringify({ sessionId: principal.session.id }),
      );
      return registrationOptions(webauthn, { challenge, userId: user.id, userName: user.email, existing });
    },

    async registerPasskey(principal, { response, name, client }) {
      const user = await context.activeUser(principal.user.id);
      const challenge = challengeOf(response);
      const token =
        challenge === null
          ? null
          : await store.consumeOneTimeToken(sha256(challenge), PASSKEY_REGISTRATION_PURPOSE, clock());
      const boundHere =
        token !== null &&
        token.subject === user.id &&
        token.data === JSON.stringify({ sessionId: principal.session.id });
      const credential =
        boundHere && challenge !== null ? await verifyRegistration(webauthn, { response, challenge }) : null;
      if (credential === null) {
        logger.info({ event: 'passkey.register_failed', userId: user.id, ip: client.ip }, 'passkey refused');
        throw new LatchkeyError('passkey_invalid');
      }
      const passkey: PasskeyRecord = {
        ...credential,
        userId: user.id,
        name: cleanName(name),
        createdAt: clock(),
        lastUsedAt: null,
      };
      await store.createPasskey(passkey);
      const signedIn = await afterPasskeyChange(context, { ...principal, user }, client, 'passkey.added');
      return { passkey, signedIn };
    },

    async passkeyLoginOptions({ ip }) {
      await countChallenge(context, ip);
      const challenge = await issueChallenge(context, PASSKEY_AUTHENTICATION_PURPOSE, '', null);
      return authenticationOptions(webauthn, { challenge });
    },

    async loginWithPasskey({ response, mode, remember, client }) {
      const passkey = await acceptPasskeyAssertion(context, response, { ip: client.ip });
      const user = await context.activeUser(passkey.userId).catch((error: unknown) => {
        logger.info(
          { event: 'login.failure', reason: 'account', userId: passkey.userId, ip: client.ip },
          'refused',
        );
        throw error;
      });
      // Under `required`, a passkey does not skip the address check a password login makes.
      await verifiedEmailStep(context.mail?.settings.emailVerification === 'required').check(user, {
        mode,
        remember: remember === true,
        client,
      });
      return signInWithPasskey(context, { user, passkey, mode, remember: remember === true, client });
    },

    listPasskeys(principal) {
      return store.listPasskeys(principal.user.id);
    },

    async renamePasskey(principal, { passkeyId, name }) {
      const user = await context.activeUser(principal.user.id);
      if (!(await store.renamePasskey(user.id, passkeyId, cleanName(name)))) {
        throw new LatchkeyError('not_found', 'No such passkey');
      }
      const passkey = await store.getPasskey(passkeyId);
      if (passkey === null) throw new LatchkeyError('not_found', 'No such passkey');
      return passkey;
    },

    removePasskey: (principal, input) => removePasskey(context, principal, input),
  };
}
