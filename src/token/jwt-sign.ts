/**
 * Signing of access tokens: JWS Compact Serialization with header `{ alg, kid, typ: 'at+jwt' }`.
 *
 * The signer refuses (with a `TypeError`) what its own verifier would refuse, so that the
 * server never issues a token it could not accept.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2 JWT Profile for OAuth 2.0 Access Tokens
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-7.1 JWS Compact Serialization
 */

import {
  createSignature,
  getKeyAlgorithm,
  KEY_ALGORITHMS,
  type AccessTokenSigningKey,
} from '../keys/algorithms.js';
import { toBase64url } from '../lib/encoding.js';
import { MAX_KID_LENGTH } from './jwt-checks.js';
import { ACCESS_TOKEN_TYPE, type AccessTokenClaims, type AccessTokenHeader } from './jwt-types.js';

/**
 * Signs an access token as a JWS Compact Serialization JWT with header
 * `{ alg, kid, typ: 'at+jwt' }`.
 *
 * The claims are serialized as given; the caller computes `iat`, `exp` and `jti`. Throws a
 * `TypeError` when a required claim is missing or when the key does not fit its algorithm,
 * so that the server never issues a token its own verifier would refuse.
 *
 * @example
 * const token = signAccessToken(
 *   { iss, aud: iss, sub: user.id, sid, iat: now, exp: now + 900, jti: randomId() },
 *   keyring.signingKey(),
 * );
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-7.1
 */
export function signAccessToken(claims: AccessTokenClaims, key: AccessTokenSigningKey): string {
  assertSignableClaims(claims);
  if (typeof key.kid !== 'string' || key.kid.length === 0 || key.kid.length > MAX_KID_LENGTH) {
    throw new TypeError('"key.kid" must be a non-empty string');
  }
  if (!KEY_ALGORITHMS.includes(key.alg)) throw new TypeError('"key.alg" is not a supported algorithm');
  const expectedType = key.alg === 'HS256' ? 'secret' : 'private';
  if (key.privateKey.type !== expectedType || getKeyAlgorithm(key.privateKey) !== key.alg) {
    throw new TypeError(`"key.privateKey" is not a ${key.alg} ${expectedType} key`);
  }
  const header: AccessTokenHeader = { alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYPE };
  const signingInput = `${toBase64url(JSON.stringify(header))}.${toBase64url(JSON.stringify(claims))}`;
  const signature = createSignature(key.alg, key.privateKey, Buffer.from(signingInput, 'latin1'));
  return `${signingInput}.${signature.toString('base64url')}`;
}

function assertSignableClaims(claims: AccessTokenClaims): void {
  if (typeof claims !== 'object' || claims === null) throw new TypeError('"claims" must be an object');
  const { iss, aud, sub, jti, iat, exp } = claims;
  if (typeof iss !== 'string' || iss.length === 0)
    throw new TypeError('"claims.iss" must be a non-empty string');
  const audiences: readonly unknown[] = typeof aud === 'string' ? [aud] : aud;
  if (!Array.isArray(audiences) || audiences.length === 0 || !audiences.every((a) => typeof a === 'string')) {
    throw new TypeError('"claims.aud" must be a string or a non-empty array of strings');
  }
  if (typeof sub !== 'string' || sub.length === 0)
    throw new TypeError('"claims.sub" must be a non-empty string');
  if (typeof jti !== 'string' || jti.length === 0)
    throw new TypeError('"claims.jti" must be a non-empty string');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new TypeError('"claims.iat" must be a number');
  if (typeof exp !== 'number' || !Number.isFinite(exp) || exp <= iat) {
    throw new TypeError('"claims.exp" must be a number after "claims.iat"');
  }
}
