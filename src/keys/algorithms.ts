/**
 * The signature algorithms Latchkey knows, and what binds a key to one of them.
 *
 * This is the single table of algorithms: key generation and import (`key-material.ts`), the
 * keyring and the JWT signer and verifier (`src/token/`) all read it, and it reads none of
 * them. Signatures use `node:crypto` on `KeyObject`s that the caller parsed once.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3 JWA: algorithms for JWS
 * @see https://www.rfc-editor.org/rfc/rfc8037 EdDSA in JOSE
 */

import { constants, createHmac, sign as cryptoSign, type KeyObject } from 'node:crypto';
import type { KeyAlgorithm } from '../records.js';

/**
 * Every algorithm Latchkey signs and verifies. `none` is not one of them, and never will be.
 *
 * @example
 * if (!KEY_ALGORITHMS.includes(alg)) throw new TypeError('unsupported algorithm');
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.1
 */
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = Object.freeze(['EdDSA', 'ES256', 'RS256', 'HS256']);

/**
 * A private (or, for HS256, secret) key and the one algorithm it signs with.
 *
 * @example
 * const key: AccessTokenSigningKey = { kid, alg: 'EdDSA', privateKey };
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-4.1.4 the `kid` header parameter
 */
export interface AccessTokenSigningKey {
  readonly kid: string;
  readonly alg: KeyAlgorithm;
  readonly privateKey: KeyObject;
}

/**
 * A key that verifies, bound to exactly one algorithm: a public `KeyObject` for EdDSA (Ed25519),
 * ES256 (P-256) and RS256 (RSA, 2048 bits or more), a secret `KeyObject` of 32 bytes or more for
 * HS256.
 *
 * @example
 * const key: VerificationKey = { kid, alg: 'EdDSA', key: createPublicKey(pem) };
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.1 one key, one algorithm
 */
export interface VerificationKey {
  readonly kid: string;
  readonly alg: KeyAlgorithm;
  readonly key: KeyObject;
}

/**
 * Finds the key of a `kid`. The `kid` comes from the token: it is attacker-controlled, so the
 * resolver must only look it up (a Map), never use it as a path, URL or query.
 *
 * @example
 * const keys: VerificationKeyResolver = (kid) => byKid.get(kid);
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.10
 */
export type VerificationKeyResolver = (kid: string) => VerificationKey | undefined;

const keyAlgorithms = new WeakMap<KeyObject, KeyAlgorithm | null>();

/**
 * The one algorithm a key fits, whether public, private or secret: `EdDSA` for Ed25519, `ES256`
 * for P-256, `RS256` for RSA of 2048 bits or more, `HS256` for a secret of 32 bytes or more;
 * null for anything else. Memoized per `KeyObject`.
 *
 * @example
 * getKeyAlgorithm(createSecretKey(randomBytes(32))); // 'HS256'
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3.1
 */
export function getKeyAlgorithm(key: KeyObject): KeyAlgorithm | null {
  const known = keyAlgorithms.get(key);
  if (known !== undefined) return known;
  let alg: KeyAlgorithm | null = null;
  if (key.type === 'secret') {
    // RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
    if ((key.symmetricKeySize ?? 0) >= 32) alg = 'HS256';
  } else {
    const details = key.asymmetricKeyDetails;
    switch (key.asymmetricKeyType) {
      case 'ed25519':
        alg = 'EdDSA';
        break;
      case 'ec':
        if (details?.namedCurve === 'prime256v1') alg = 'ES256';
        break;
      case 'rsa':
        // RFC 7518 §3.3: 2048 bits or more.
        if ((details?.modulusLength ?? 0) >= 2048) alg = 'RS256';
        break;
      default:
        break;
    }
  }
  keyAlgorithms.set(key, alg);
  return alg;
}

/**
 * Signs `data` with `key` as `alg` does in a JWS: EdDSA over the bytes, ES256 as the raw
 * `r || s` (IEEE P1363, not DER), RS256 as PKCS#1 v1.5, HS256 as HMAC-SHA-256. The caller has
 * checked that `key` fits `alg` (`getKeyAlgorithm`).
 *
 * @example
 * const signature = createSignature('EdDSA', privateKey, Buffer.from(signingInput, 'latin1'));
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3.4 ES256 signatures are `r || s`
 * @see https://www.rfc-editor.org/rfc/rfc8037#section-3.1 EdDSA
 */
export function createSignature(alg: KeyAlgorithm, key: KeyObject, data: Buffer): Buffer {
  switch (alg) {
    case 'EdDSA':
      return cryptoSign(null, data, key);
    case 'ES256':
      return cryptoSign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
    case 'RS256':
      return cryptoSign('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING });
    case 'HS256':
      return createHmac('sha256', key).update(data).digest();
  }
}

/**
 * The length in bytes of a signature of `alg` by `key` (whose algorithm is known to be `alg`).
 *
 * @example
 * expectedSignatureLength('ES256', publicKey); // 64
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3.4
 */
export function expectedSignatureLength(alg: KeyAlgorithm, key: KeyObject): number {
  switch (alg) {
    case 'EdDSA':
    case 'ES256':
      return 64;
    case 'RS256':
      return (key.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
    case 'HS256':
      return 32;
  }
}
