/**
 * Where the verifier's keys come from: the auth server's JWK Set, fetched and refreshed
 * (`remote-jwks.ts`), or a static list of public JWKs given in the options.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5 JWK Set
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-2 `jwks_uri`
 */

import type { Clock } from '../clock.js';
import { LatchkeyError } from '../errors.js';
import type { VerificationKey } from '../keys/algorithms.js';
import { importPublicJWK } from '../keys/key-material.js';
import { checkURL, createRemoteJWKS, type RemoteJWKS } from './remote-jwks.js';
import type { VerifierOptions } from './verifier-types.js';

/**
 * The keys of a verifier: `resolve` is the strict verifier's resolver; `remote` is the JWK Set
 * when keys are fetched (null for static keys), `staticKeyCount` the number of static keys.
 *
 * @example
 * const { remote, resolve } = createKeySource(options, clock);
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5
 */
export interface KeySource {
  readonly remote: RemoteJWKS | null;
  readonly resolve: (kid: string) => VerificationKey | undefined;
  readonly staticKeyCount: number;
}

/**
 * Makes the key source of `options`: a remote JWK Set for `jwksUri` (its URL checked here), or
 * the static `keys`, imported at once (a `TypeError` names the bad one).
 *
 * @example
 * const { remote, resolve } = createKeySource(options, clock);
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5
 */
export function createKeySource(options: VerifierOptions, clock: Clock): KeySource {
  if (options.jwksUri !== undefined) {
    const url = checkURL(options.jwksUri, 'jwksUri', options.allowInsecureRequests === true);
    const jwks = createRemoteJWKS({
      url,
      clock,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...(options.allowInsecureRequests === undefined
        ? {}
        : { allowInsecureRequests: options.allowInsecureRequests }),
      ...options.jwks,
    });
    return { remote: jwks, resolve: (kid) => jwks.resolve(kid), staticKeyCount: 0 };
  }
  const keys = importStaticKeys(options.keys);
  return { remote: null, resolve: (kid) => keys.get(kid), staticKeyCount: keys.size };
}

/**
 * Loads keys, retrying once a second (wall clock) until `deadline` while the JWKS cannot be fetched.
 *
 * @example
 * await loadKeys(remote, Date.now() + 10_000);
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5
 */
export async function loadKeys(remote: RemoteJWKS, deadline: number): Promise<void> {
  // Bounded by the deadline: one attempt per second at most.
  while (Date.now() < deadline) {
    try {
      await remote.ensureFresh();
      if (remote.health().lastFetch !== null) return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 1000).unref());
    }
  }
}

/**
 * Whether `error` is the strict verifier's refusal of a `kid` it has no key for: the one
 * failure that a fresh JWK Set may cure.
 *
 * @example
 * if (remote !== null && isUnknownKid(error)) await remote.refreshForUnknownKid();
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-4.1.4
 */
export function isUnknownKid(error: unknown): boolean {
  return error instanceof LatchkeyError && error.code === 'invalid_token' && error.message === 'unknown kid';
}

function importStaticKeys(keys: unknown): Map<string, VerificationKey> {
  if (!Array.isArray(keys) || keys.length === 0)
    throw new TypeError('"keys" must be a non-empty array of JWKs');
  const map = new Map<string, VerificationKey>();
  keys.forEach((jwk: unknown, index) => {
    let key: VerificationKey;
    try {
      key = importPublicJWK(jwk);
    } catch (cause) {
      throw new TypeError(`"keys[${index}]": ${cause instanceof Error ? cause.message : 'invalid JWK'}`, {
        cause,
      });
    }
    if (map.has(key.kid)) throw new TypeError(`"keys[${index}]": duplicate kid`);
    map.set(key.kid, key);
  });
  return map;
}
