/**
 * The rules a decoded access token must meet: its JOSE header, its claims, and its times
 * against the clock. Every failure is `LatchkeyError('invalid_token')` with a detail naming the
 * rule, never the token.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3 JWT Best Current Practices
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4 Validating JWT access tokens
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-4.1 registered claims
 */

import { LatchkeyError } from '../errors.js';
import type { KeyAlgorithm } from '../records.js';
import type { VerifierConfig } from './jwt-options.js';
import type { AccessTokenClaims, VerifiedAccessTokenClaims } from './jwt-types.js';

/** Header parameters refused outright. See `createAccessTokenVerifier`. */
const REFUSED_HEADER_PARAMETERS = ['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'zip'] as const;

/** Longest `kid` signed or accepted, in characters. */
export const MAX_KID_LENGTH = 256;

/**
 * Checks a decoded JOSE header against the rules of `createAccessTokenVerifier` (extensions,
 * key-carrying parameters, `alg`, `typ`, `kid`) and returns its `alg` and `kid`.
 *
 * @example
 * const { alg, kid } = checkHeader(decodeJSONObject(token, 0, firstDot, 'header', false), config);
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-4.1
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.1
 */
export function checkHeader(
  header: Record<string, unknown>,
  config: VerifierConfig,
): { alg: KeyAlgorithm; kid: string } {
  if (header.crit !== undefined) fail('crit not supported');
  if (header.b64 !== undefined) fail('b64 not supported');
  for (const name of REFUSED_HEADER_PARAMETERS) {
    if (header[name] !== undefined) fail(`${name} header refused`);
  }
  const { alg, typ, kid } = header;
  if (typeof alg !== 'string') fail('alg missing');
  if (alg.toLowerCase() === 'none') fail('alg none refused');
  if (!config.algorithms.has(alg)) fail('alg not allowed');
  if (typeof typ !== 'string' || !config.acceptedTypes.has(typ.toLowerCase())) fail('typ not allowed');
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH)
    fail('kid missing or invalid');
  return { alg: alg as KeyAlgorithm, kid };
}

/**
 * Checks the claims of a decoded payload: `iss`, `aud`, `sub`, `jti`, the types of the optional
 * ones, then the times (`checkTimes`). Returns the payload, typed.
 *
 * @example
 * const claims = checkClaims(decodeJSONObject(token, firstDot + 1, secondDot, 'payload', true), config);
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
export function checkClaims(
  payload: Record<string, unknown>,
  config: VerifierConfig,
): VerifiedAccessTokenClaims {
  const { iss, aud, sub, jti, sid, scope, roles, client_id: clientId } = payload;
  if (typeof iss !== 'string') fail('iss missing');
  if (iss !== config.issuer) fail('iss mismatch');
  if (typeof aud === 'string') {
    if (!config.audiences.includes(aud)) fail('aud mismatch');
  } else if (Array.isArray(aud)) {
    if (aud.length === 0 || !aud.every((value) => typeof value === 'string')) fail('aud invalid');
    if (!aud.some((value) => config.audiences.includes(value))) fail('aud mismatch');
  } else {
    fail('aud missing');
  }
  if (typeof sub !== 'string' || sub.length === 0) fail('sub missing');
  if (typeof jti !== 'string' || jti.length === 0) fail('jti missing');
  if (sid !== undefined && typeof sid !== 'string') fail('sid invalid');
  if (scope !== undefined && typeof scope !== 'string') fail('scope invalid');
  if (clientId !== undefined && typeof clientId !== 'string') fail('client_id invalid');
  if (roles !== undefined && !(Array.isArray(roles) && roles.every((role) => typeof role === 'string'))) {
    fail('roles invalid');
  }
  checkAssuranceClaims(payload);
  const claims = payload as unknown as VerifiedAccessTokenClaims;
  checkTimes(claims, config.clock(), config.clockTolerance);
  return claims;
}

/** The types of `amr` (strings), `auth_time` (a NumericDate) and `acr` (a string), when present. */
function checkAssuranceClaims(payload: Record<string, unknown>): void {
  const { amr, auth_time: authTime, acr } = payload;
  if (amr !== undefined && !(Array.isArray(amr) && amr.every((method) => typeof method === 'string'))) {
    fail('amr invalid');
  }
  if (authTime !== undefined && (typeof authTime !== 'number' || !Number.isFinite(authTime))) {
    fail('auth_time invalid');
  }
  if (acr !== undefined && typeof acr !== 'string') fail('acr invalid');
}

/**
 * `exp`, `nbf` and `iat` against the clock; run on every verification, cached or not.
 *
 * @example
 * checkTimes(claims, clock(), config.clockTolerance);
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-4.1.4
 */
export function checkTimes(claims: AccessTokenClaims, nowMs: number, tolerance: number): void {
  const { exp, iat, nbf } = claims as { exp: unknown; iat: unknown; nbf: unknown };
  const now = Math.floor(nowMs / 1000);
  if (typeof exp !== 'number' || !Number.isFinite(exp)) fail('exp missing');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) fail('iat missing');
  if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf))) fail('nbf invalid');
  if (exp <= now - tolerance) fail('token expired');
  if (nbf !== undefined && nbf > now + tolerance) fail('token not yet valid');
  if (iat > now + tolerance) fail('iat in the future');
}

/**
 * Throws the one error of verification, `LatchkeyError('invalid_token')`, with `detail` (which
 * names the rule that failed and never contains the token).
 *
 * @example
 * if (typeof sub !== 'string') fail('sub missing');
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1 `invalid_token`
 */
export function fail(detail: string): never {
  throw new LatchkeyError('invalid_token', detail, { detail });
}
