/**
 * Access tokens: signing and strict verification of JWS Compact Serialization JWTs.
 *
 * Shared by the server and the resource-service SDK (`src/verify/`), so it imports no framework
 * and no store. Signatures use `node:crypto` on `KeyObject`s that the caller parsed once.
 *
 * This module is the entry point of the JWT code; the work is done in one module per concept:
 * - `jwt-types.ts`: the header, the claims and the verified result;
 * - `jwt-sign.ts`: `signAccessToken`;
 * - `jwt-verifier.ts`: `createAccessTokenVerifier` and the signature check;
 * - `jwt-options.ts`: the verifier's options and their validation;
 * - `jwt-checks.ts`: the header, claim and time rules;
 * - `jwt-decode.ts`: strict base64url and JSON decoding;
 * - `jwt-cache.ts`: the cache of verified tokens;
 * - `src/keys/algorithms.ts`: the algorithms, the key types and what binds a key to one.
 *
 * @example
 * import { createAccessTokenVerifier, signAccessToken } from './jwt.js';
 *
 * const token = signAccessToken(claims, keyring.signingKey());
 * const { claims: verified } = createAccessTokenVerifier(options).verify(token);
 * @see https://www.rfc-editor.org/rfc/rfc8725 JSON Web Token Best Current Practices
 * @see https://www.rfc-editor.org/rfc/rfc9068 JWT Profile for OAuth 2.0 Access Tokens
 * @see https://www.rfc-editor.org/rfc/rfc7515 JSON Web Signature (JWS)
 */

export {
  getKeyAlgorithm,
  KEY_ALGORITHMS,
  type AccessTokenSigningKey,
  type VerificationKey,
  type VerificationKeyResolver,
} from '../keys/algorithms.js';
export type { AccessTokenVerifierOptions } from './jwt-options.js';
export { signAccessToken } from './jwt-sign.js';
export {
  ACCESS_TOKEN_TYPE,
  type AccessTokenClaims,
  type AccessTokenHeader,
  type VerifiedAccessToken,
  type VerifiedAccessTokenClaims,
} from './jwt-types.js';
export { createAccessTokenVerifier, type AccessTokenVerifier } from './jwt-verifier.js';
