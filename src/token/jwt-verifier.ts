/**
 * The access-token verifier: synchronous and strict, with a cache of verified tokens and a memo
 * of the header segments that verified.
 *
 * The hot path of every authenticated request, measured and tuned: one pass of base64url into
 * a shared scratch buffer (`jwt-decode.ts`), the signing input written into a second one, no
 * intermediate strings; a cache hit is one hash lookup, one key comparison and the time checks.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8725 JSON Web Token Best Current Practices
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4 Validating JWT access tokens
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-5.2 Message signature validation
 */

import { constants, createHmac, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { expectedSignatureLength, getKeyAlgorithm } from '../keys/algorithms.js';
import type { KeyAlgorithm } from '../records.js';
import { checkClaims, checkHeader, checkTimes, fail } from './jwt-checks.js';
import { decodeBase64url, decodeJSONObject, scratch } from './jwt-decode.js';
import {
  validateVerifierOptions,
  type AccessTokenVerifierOptions,
  type CacheEntry,
  type VerifierConfig,
} from './jwt-options.js';
import type { AccessTokenHeader, VerifiedAccessToken } from './jwt-types.js';

/**
 * What `createAccessTokenVerifier` returns.
 *
 * @example
 * const { header, claims } = verifier.verify(bearerToken);
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
export interface AccessTokenVerifier {
  /**
   * Verifies `token` synchronously. Throws `LatchkeyError('invalid_token')` on any failure;
   * the error's message names the rule that failed and never contains the token.
   */
  verify(token: string): VerifiedAccessToken;
  /** Empties the cache of verified tokens. */
  clearCache(): void;
}

/** The header segment of a token that verified, and the (frozen) header it was checked to hold. */
interface KnownHeader {
  readonly segment: string;
  readonly header: AccessTokenHeader;
}

/**
 * How many header segments a verifier remembers. An issuer signs every token of a key with
 * the same header, so a handful covers a key rotation.
 */
const MAX_KNOWN_HEADERS = 8;

/**
 * Creates a synchronous, strict access-token verifier. Misconfiguration throws a `TypeError`
 * naming the option, at creation.
 *
 * Rules, in the order they are checked (every failure is `LatchkeyError('invalid_token')`):
 * - at most `maxTokenLength` characters; exactly three `.`-separated parts; each part strict,
 *   canonical base64url (no padding, no `+` `/`, no whitespace);
 * - header and payload are JSON objects without duplicate member names (`JSON.parse` would keep
 *   the last one; another parser might keep the first, so the token is refused);
 * - header: no `crit` (we understand no extension, so any `crit` refuses), no `b64`, none of
 *   `jwk`, `jku`, `x5u`, `x5c`, `x5t`, `x5t#S256` (keys are never taken from the token, and we
 *   use no certificates, so a certificate thumbprint can only select a key we do not have),
 *   no `zip`; `alg` is not `none` in any casing and is in `algorithms`; `typ` equals `typ`
 *   or `application/<typ>`, case-insensitively (RFC 9068 §4); `kid` is a non-empty string;
 * - the `kid` resolves, through `keys` only, to a key bound to exactly the header's `alg`,
 *   and the key's type fits that `alg` (an asymmetric key can never verify an HMAC);
 * - the signature verifies (`crypto.verify`, or HMAC compared with `timingSafeEqual`);
 * - claims: `iss` equals `issuer`; `aud` (string or array) contains an accepted audience;
 *   `exp`, `iat` numbers, `nbf` a number if present, checked against the clock with
 *   `clockTolerance`; `sub`, `jti` non-empty strings; `sid`, `scope`, `client_id` strings and
 *   `roles` an array of strings when present.
 *
 * Verified tokens are cached by their exact string. A hit still re-checks `exp`/`nbf`/`iat`
 * against the clock and that the `kid` still resolves to the same key, so removing a key from
 * the resolver invalidates its cached tokens. Failures are never cached. The verifier also
 * remembers the header segments of the last few tokens that verified: a token whose header
 * segment is identical to one of them skips decoding and checking its header (which depend on
 * nothing but that string and the options), never the key resolution, the signature or the
 * claims; any other header is checked in full.
 *
 * @example
 * const verifier = createAccessTokenVerifier({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com',
 *   algorithms: ['EdDSA'],
 *   keys: keyring.resolveVerificationKey,
 * });
 * const { claims } = verifier.verify(bearerToken);
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-4.1
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-7.2
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const config = validateVerifierOptions(options);
  const { keys, clock, cache } = config;
  const knownHeaders: KnownHeader[] = [];

  function verify(token: string): VerifiedAccessToken {
    if (typeof token !== 'string' || token.length === 0) fail('token missing');
    if (token.length > config.maxTokenLength) fail('token too long');

    if (cache !== null) {
      const hit = cache.get(token);
      if (hit !== undefined) {
        const { header, claims } = hit.result;
        const current = keys(header.kid);
        if (
          current !== undefined &&
          current.alg === header.alg &&
          (current.key === hit.key || current.key.equals(hit.key))
        ) {
          try {
            checkTimes(claims, clock(), config.clockTolerance);
          } catch (error) {
            cache.delete(token);
            throw error;
          }
          return hit.result;
        }
        // The key changed or is gone: forget the entry and verify in full, which says why.
        cache.delete(token);
      }
    }

    const entry = verifyUncached(token, config, knownHeaders);
    if (cache !== null) cache.set(token, entry);
    return entry.result;
  }

  return {
    verify,
    clearCache(): void {
      cache?.clear();
      knownHeaders.length = 0;
    },
  };
}

function verifyUncached(token: string, config: VerifierConfig, knownHeaders: KnownHeader[]): CacheEntry {
  const firstDot = token.indexOf('.');
  const secondDot = firstDot === -1 ? -1 : token.indexOf('.', firstDot + 1);
  if (secondDot === -1 || token.indexOf('.', secondDot + 1) !== -1) fail('token must have three parts');

  // A header segment identical to one of a token that verified passes the same checks (they
  // depend on nothing else), so its decoding and checking are skipped; any other is checked.
  const known = findKnownHeader(knownHeaders, token, firstDot);
  let header: AccessTokenHeader;
  if (known === undefined) {
    const parsed = decodeJSONObject(token, 0, firstDot, 'header', false);
    const { alg, kid } = checkHeader(parsed, config);
    header = { alg, kid, typ: parsed.typ as string };
  } else {
    header = known.header;
  }
  const { alg, kid } = header;

  const verificationKey = config.keys(kid);
  if (verificationKey === undefined) fail('unknown kid');
  if (verificationKey.alg !== alg) fail('alg does not match key');
  const { key } = verificationKey;
  const expectedType = alg === 'HS256' ? 'secret' : 'public';
  if (key.type !== expectedType || getKeyAlgorithm(key) !== alg) fail('key does not fit alg');
  const signatureLength = expectedSignatureLength(alg, key);

  // No code but ours runs from here until the signature is checked: the scratch stays ours.
  const decoded = decodeBase64url(token, secondDot + 1, token.length);
  if (decoded === -1) fail('signature is not base64url');
  if (decoded !== signatureLength || !verifySignature(alg, key, token, secondDot, decoded)) {
    fail('signature invalid');
  }

  const claims = checkClaims(decodeJSONObject(token, firstDot + 1, secondDot, 'payload', true), config);
  if (known === undefined) {
    Object.freeze(header);
    rememberHeader(knownHeaders, { segment: token.slice(0, firstDot), header });
  }
  return { result: Object.freeze({ header, claims }), key };
}

function findKnownHeader(
  knownHeaders: readonly KnownHeader[],
  token: string,
  length: number,
): KnownHeader | undefined {
  for (const known of knownHeaders) {
    if (known.segment.length === length && token.startsWith(known.segment)) return known;
  }
  return undefined;
}

function rememberHeader(knownHeaders: KnownHeader[], known: KnownHeader): void {
  if (knownHeaders.length >= MAX_KNOWN_HEADERS) knownHeaders.shift();
  knownHeaders.push(known);
}

/** Latin-1 bytes of the signing input, for `crypto.verify`; grown like `scratch`. */
let signingInputScratch: Buffer = Buffer.allocUnsafeSlow(8192);

/**
 * Checks the signature held in `scratch[0, signatureLength)` over `token[0, end)` (the signing
 * input, whose characters are taken as Latin-1 bytes, as `Buffer.from(input, 'latin1')` does).
 */
function verifySignature(
  alg: KeyAlgorithm,
  key: KeyObject,
  token: string,
  end: number,
  signatureLength: number,
): boolean {
  try {
    const signature = scratch.subarray(0, signatureLength);
    if (alg === 'HS256') {
      const expected = createHmac('sha256', key).update(token.slice(0, end), 'latin1').digest();
      return timingSafeEqual(expected, signature);
    }
    if (signingInputScratch.length < end) signingInputScratch = Buffer.allocUnsafeSlow(end);
    signingInputScratch.write(token, 0, end, 'latin1');
    const data = signingInputScratch.subarray(0, end);
    switch (alg) {
      case 'EdDSA':
        return cryptoVerify(null, data, key, signature);
      case 'ES256':
        return cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'RS256':
        return cryptoVerify('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    }
  } catch {
    return false;
  }
}
