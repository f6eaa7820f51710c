/**
 * The WebAuthn ceremonies, over `@simplewebauthn/server` (a pure library: no framework, no I/O),
 * which is imported here and nowhere else (`test/unit/layering.test.ts`). The flows
 * (`use-cases/passkeys.ts`) see plain records and JSON documents.
 *
 * Every ceremony requires user verification (a PIN or biometric on the authenticator): a passkey
 * alone signs in, so it must be a multi-factor authenticator by itself (possession + UV).
 * Attestation is not asked for (`none`): the server trusts no authenticator model over another.
 *
 * @see https://www.w3.org/TR/webauthn-3/
 */

import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { randomBytes } from 'node:crypto';
import type { PasskeyRecord } from '../records.js';

export type { AuthenticationResponseJSON, RegistrationResponseJSON };
export type RegistrationOptionsJSON = PublicKeyCredentialCreationOptionsJSON;
export type AuthenticationOptionsJSON = PublicKeyCredentialRequestOptionsJSON;

/** Who the relying party is and where its pages live. */
export interface RelyingParty {
  id: string;
  name: string;
  /** Exact origins a ceremony may come from. */
  origins: readonly string[];
}

/** How long a browser may take over a ceremony (the challenge lives as long). */
export const CEREMONY_TIMEOUT_MS = 5 * 60_000;

/** A fresh challenge: 256 random bits, base64url. */
export function newChallenge(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The challenge a response answers, read from its `clientDataJSON` (not yet verified: the
 * ceremony's verification checks it against the one we issued). Null when unreadable.
 */
export function challengeOf(response: { response: { clientDataJSON: string } }): string | null {
  try {
    const data = JSON.parse(Buffer.from(response.response.clientDataJSON, 'base64url').toString('utf8')) as {
      challenge?: unknown;
    };
    return typeof data.challenge === 'string' && /^[A-Za-z0-9_-]{16,200}$/.test(data.challenge)
      ? data.challenge
      : null;
  } catch {
    return null;
  }
}

const transportsOf = (passkey: PasskeyRecord): AuthenticatorTransportFuture[] =>
  passkey.transports as AuthenticatorTransportFuture[];

/** Options for `navigator.credentials.create()`: a discoverable credential, UV required. */
export function registrationOptions(
  rp: RelyingParty,
  input: { challenge: string; userId: string; userName: string; existing: readonly PasskeyRecord[] },
): Promise<RegistrationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userID: Buffer.from(input.userId, 'utf8'),
    userName: input.userName,
    challenge: Buffer.from(input.challenge, 'base64url'),
    timeout: CEREMONY_TIMEOUT_MS,
    attestationType: 'none',
    excludeCredentials: input.existing.map((p) => ({ id: p.id, transports: transportsOf(p) })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
}

/** A verified registration: the passkey record minus what the flow adds (user, name, times). */
export type RegisteredCredential = Pick<
  PasskeyRecord,
  'id' | 'publicKey' | 'counter' | 'transports' | 'backupEligible' | 'backedUp' | 'aaguid'
>;

/** Verifies an attestation; null when it does not verify (any reason: origin, RP, UV, challenge). */
export async function verifyRegistration(
  rp: RelyingParty,
  input: { response: RegistrationResponseJSON; challenge: string },
): Promise<RegisteredCredential | null> {
  try {
    const result = await verifyRegistrationResponse({
      response: input.response,
      expectedChallenge: input.challenge,
      expectedOrigin: [...rp.origins],
      expectedRPID: rp.id,
      requireUserVerification: true,
    });
    if (!result.verified) return null;
    const info = result.registrationInfo;
    return {
      id: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      transports: (input.response.response.transports ?? [])
        .filter((t) => /^[a-z-]{1,20}$/.test(t))
        .slice(0, 8),
      backupEligible: info.credentialDeviceType === 'multiDevice',
      backedUp: info.credentialBackedUp,
      aaguid: info.aaguid,
    };
  } catch {
    return null;
  }
}

/** Options for `navigator.credentials.get()`; no allow list: discoverable credentials. */
export function authenticationOptions(
  rp: RelyingParty,
  input: { challenge: string },
): Promise<AuthenticationOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: rp.id,
    challenge: Buffer.from(input.challenge, 'base64url'),
    timeout: CEREMONY_TIMEOUT_MS,
    userVerification: 'required',
  });
}

/** What a verified assertion reports. */
export interface VerifiedAssertion {
  counter: number;
  backedUp: boolean;
}

/**
 * Verifies an assertion by `passkey`; null when it does not verify. The counter is not judged
 * here: the store records the use only if it grows (`usePasskey`), atomically.
 */
export async function verifyAssertion(
  rp: RelyingParty,
  input: { response: AuthenticationResponseJSON; challenge: string; passkey: PasskeyRecord },
): Promise<VerifiedAssertion | null> {
  const { passkey } = input;
  try {
    const result = await verifyAuthenticationResponse({
      response: input.response,
      expectedChallenge: input.challenge,
      expectedOrigin: [...rp.origins],
      expectedRPID: rp.id,
      // 0: the library's own counter check is not atomic; the store's is (see above).
      credential: {
        id: passkey.id,
        publicKey: Buffer.from(passkey.publicKey, 'base64url'),
        counter: 0,
        transports: transportsOf(passkey),
      },
      requireUserVerification: true,
    });
    if (!result.verified) return null;
    return {
      counter: result.authenticationInfo.newCounter,
      backedUp: result.authenticationInfo.credentialBackedUp,
    };
  } catch {
    return null;
  }
}
