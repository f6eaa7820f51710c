/**
 * Settings of passkeys (WebAuthn): the relying party's id and the origins a browser may sign
 * from. Both default to the issuer, which is right when the pages and the API share its origin.
 */

import { ConfigError, list, origin, read, type Env } from './env.js';
import type { ConfigVariable } from './variables.js';

export interface WebAuthnConfig {
  /** `LATCHKEY_WEBAUTHN_RP_ID`: the domain passkeys are bound to. */
  rpId: string;
  /** `LATCHKEY_WEBAUTHN_ORIGINS`: the exact origins an assertion or attestation may come from. */
  origins: string[];
}

export const WEBAUTHN_VARIABLES: readonly ConfigVariable[] = [
  {
    name: 'LATCHKEY_WEBAUTHN_RP_ID',
    default: 'hostname of `LATCHKEY_ISSUER`',
    description:
      'Relying-party id of passkeys: a domain, equal to or a parent of the origins’ host. Passkeys are bound to it: changing it invalidates every registered passkey.',
  },
  {
    name: 'LATCHKEY_WEBAUTHN_ORIGINS',
    default: 'origin of `LATCHKEY_ISSUER`',
    description:
      'Comma-separated origins (`https://app.example.com`) whose pages may register and use passkeys; a ceremony from any other origin is refused.',
  },
];

/**
 * Reads the passkey settings; `issuer` is the validated `LATCHKEY_ISSUER`.
 *
 * @example
 * loadWebAuthnConfig({}, 'https://auth.example.com'); // { rpId: 'auth.example.com', origins: ['https://auth.example.com'] }
 */
export function loadWebAuthnConfig(env: Env, issuer: string): WebAuthnConfig {
  const issuerURL = new URL(issuer);
  const rpId = (read(env, 'LATCHKEY_WEBAUTHN_RP_ID') ?? issuerURL.hostname).toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(rpId)) {
    throw new ConfigError('LATCHKEY_WEBAUTHN_RP_ID', `"${rpId}" is not a domain name`);
  }
  const configured = list(env, 'LATCHKEY_WEBAUTHN_ORIGINS');
  const origins = (configured.length > 0 ? configured : [issuerURL.origin]).map((text) =>
    origin('LATCHKEY_WEBAUTHN_ORIGINS', text),
  );
  for (const allowed of origins) {
    const host = new URL(allowed).hostname;
    if (host !== rpId && !host.endsWith(`.${rpId}`)) {
      throw new ConfigError(
        'LATCHKEY_WEBAUTHN_ORIGINS',
        `the host of ${allowed} is not ${rpId} or under it (LATCHKEY_WEBAUTHN_RP_ID)`,
      );
    }
  }
  return { rpId, origins };
}
