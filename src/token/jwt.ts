/**
 * Access tokens: signing and strict verification of JWS Compact Serialization JWTs.
 *
 * Shared by the server and the resource-service SDK (`src/verify/`), so it imports no framework
 * and no store. Signatures use `node:crypto` on `KeyObject`s that the caller parsed once.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8725 JSON Web Token Best Current Practices
 * @see https://www.rfc-editor.org/rfc/rfc9068 JWT Profile for OAuth 2.0 Access Tokens
 * @see https://www.rfc-editor.org/rfc/rfc7515 JSON Web Signature (JWS)
 */

import {
  constants,
  createHmac,
  sign as cryptoSign,
  timingSafeEqual,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { systemClock, type Clock } from '../clock.js';
import { LatchkeyError } from '../errors.js';
import { fromBase64urlStrict, toBase64url } from '../lib/encoding.js';
import type { KeyAlgorithm } from '../stores/types.js';
import { createBoundedCache, type BoundedCache } from './jwt-cache.js';

/** Every algorithm Latchkey signs and verifies. `none` is not one of them, and never will be. */
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = Object.freeze(['EdDSA', 'ES256', 'RS256', 'HS256']);

/** The `typ` of Latchkey access tokens. @see https://www.rfc-editor.org/rfc/rfc9068#section-2.1 */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** The JOSE header of an access token, as signed and as returned by the verifier. */
export interface AccessTokenHeader {
  readonly alg: KeyAlgorithm;
  readonly kid: string;
  readonly typ: string;
}

/**
 * The claims of a Latchkey access token. Times are NumericDate: seconds since the epoch.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2
 */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly aud: string | readonly string[];
  readonly sub: string;
  /** Session id; absent for machine clients (client credentials). */
  readonly sid?: string;
  readonly iat: number;
  readonly exp: number;
  readonly nbf?: number;
  readonly jti: string;
  /** Space-separated scopes. @see https://www.rfc-editor.org/rfc/rfc8693#section-4.2 */
  readonly scope?: string;
  readonly roles?: readonly string[];
  readonly client_id?: string;
}

/** Claims as verified: the typed claims plus whatever else the issuer put in the token. */
export interface VerifiedAccessTokenClaims extends AccessTokenClaims {
  readonly [claim: string]: unknown;
}

/** The result of a successful verification. Deeply frozen: it may be shared through the cache. */
export interface VerifiedAccessToken {
  readonly header: AccessTokenHeader;
  readonly claims: VerifiedAccessTokenClaims;
}

/** A private (or, for HS256, secret) key and the one algorithm it signs with. */
export interface AccessTokenSigningKey {
  readonly kid: string;
  readonly alg: KeyAlgorithm;
  readonly privateKey: KeyObject;
}

/**
 * A key that verifies, bound to exactly one algorithm: a public `KeyObject` for EdDSA (Ed25519),
 * ES256 (P-256) and RS256 (RSA, 2048 bits or more), a secret `KeyObject` of 32 bytes or more for
 * HS256.
 */
export interface VerificationKey {
  readonly kid: string;
  readonly alg: KeyAlgorithm;
  readonly key: KeyObject;
}

/**
 * Finds the key of a `kid`. The `kid` comes from the token: it is attacker-controlled, so the
 * resolver must only look it up (a Map), never use it as a path, URL or query.
 */
export type VerificationKeyResolver = (kid: string) => VerificationKey | undefined;

export interface AccessTokenVerifierOptions {
  /** The exact `iss` required. */
  issuer: string;
  /** The `aud` must contain this audience (or one of these). */
  audience: string | readonly string[];
  /** Allowed `alg` values; non-empty. A token's `alg` must also equal its key's bound `alg`. */
  algorithms: readonly KeyAlgorithm[];
  keys: VerificationKeyResolver;
  /** Leeway in seconds for `exp`, `nbf` and `iat`. Default 30. */
  clockTolerance?: number;
  /** Longest token accepted, in characters. Default 8192. */
  maxTokenLength?: number;
  clock?: Clock;
  /** Cache of verified tokens; `false` disables it. Default `{ maxEntries: 10_000 }`. */
  cache?: { maxEntries: number } | false;
  /** Required `typ` (compared case-insensitively, `application/` prefix allowed). Default `at+jwt`. */
  typ?: string;
}

export interface AccessTokenVerifier {
  /**
   * Verifies `token` synchronously. Throws `LatchkeyError('invalid_token')` on any failure;
   * the error's message names the rule that failed and never contains the token.
   */
  verify(token: string): VerifiedAccessToken;
  /** Empties the cache of verified tokens. */
  clearCache(): void;
}

interface CacheEntry {
  readonly result: VerifiedAccessToken;
  readonly key: KeyObject;
}

/** Header parameters refused outright. See `createAccessTokenVerifier`. */
const REFUSED_HEADER_PARAMETERS = ['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'zip'] as const;

/** Refuses malformed UTF-8 instead of replacing it, and keeps a BOM so that JSON.parse refuses it. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const DEFAULT_CLOCK_TOLERANCE = 30;
const DEFAULT_MAX_TOKEN_LENGTH = 8192;
const DEFAULT_CACHE_ENTRIES = 10_000;
const MAX_KID_LENGTH = 256;

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
  if (key.privateKey.type !== expectedType || keyAlgorithm(key.privateKey) !== key.alg) {
    throw new TypeError(`"key.privateKey" is not a ${key.alg} ${expectedType} key`);
  }
  const header: AccessTokenHeader = { alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYPE };
  const signingInput = `${toBase64url(JSON.stringify(header))}.${toBase64url(JSON.stringify(claims))}`;
  const signature = createSignature(key.alg, key.privateKey, Buffer.from(signingInput, 'latin1'));
  return `${signingInput}.${signature.toString('base64url')}`;
}

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
 * the resolver invalidates its cached tokens. Failures are never cached.
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

    const entry = verifyUncached(token, config);
    if (cache !== null) cache.set(token, entry);
    return entry.result;
  }

  return {
    verify,
    clearCache(): void {
      cache?.clear();
    },
  };
}

interface VerifierConfig {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly algorithms: ReadonlySet<string>;
  readonly keys: VerificationKeyResolver;
  readonly clockTolerance: number;
  readonly maxTokenLength: number;
  readonly clock: Clock;
  readonly cache: BoundedCache<CacheEntry> | null;
  readonly acceptedTypes: ReadonlySet<string>;
}

function validateVerifierOptions(options: AccessTokenVerifierOptions): VerifierConfig {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  const { issuer, audience, algorithms, keys } = options;
  if (typeof issuer !== 'string' || issuer.length === 0) {
    throw new TypeError('"issuer" must be a non-empty string');
  }
  const audiences: readonly unknown[] = typeof audience === 'string' ? [audience] : audience;
  if (
    !Array.isArray(audiences) ||
    audiences.length === 0 ||
    !audiences.every((value) => typeof value === 'string' && value.length > 0)
  ) {
    throw new TypeError('"audience" must be a non-empty string or a non-empty array of non-empty strings');
  }
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw new TypeError('"algorithms" must be a non-empty array');
  }
  for (const alg of algorithms as readonly unknown[]) {
    if (typeof alg === 'string' && alg.toLowerCase() === 'none') {
      throw new TypeError('"algorithms" must not contain "none"');
    }
    if (!KEY_ALGORITHMS.includes(alg as KeyAlgorithm)) {
      throw new TypeError(
        `"algorithms" contains an unsupported algorithm; allowed: ${KEY_ALGORITHMS.join(', ')}`,
      );
    }
  }
  if (typeof keys !== 'function') throw new TypeError('"keys" must be a function (kid) => VerificationKey');
  const clockTolerance = options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE;
  if (typeof clockTolerance !== 'number' || !Number.isFinite(clockTolerance) || clockTolerance < 0) {
    throw new TypeError('"clockTolerance" must be a non-negative number of seconds');
  }
  const maxTokenLength = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH;
  if (!Number.isSafeInteger(maxTokenLength) || maxTokenLength < 1) {
    throw new TypeError('"maxTokenLength" must be a positive integer');
  }
  const clock = options.clock ?? systemClock;
  if (typeof clock !== 'function') throw new TypeError('"clock" must be a function returning milliseconds');
  const cacheOption = options.cache ?? { maxEntries: DEFAULT_CACHE_ENTRIES };
  if (cacheOption !== false && (typeof cacheOption !== 'object' || cacheOption === null)) {
    throw new TypeError('"cache" must be { maxEntries } or false');
  }
  const typ = options.typ ?? ACCESS_TOKEN_TYPE;
  if (typeof typ !== 'string' || typ.length === 0) throw new TypeError('"typ" must be a non-empty string');
  const lowerTyp = typ.toLowerCase();
  return {
    issuer,
    audiences: audiences as readonly string[],
    algorithms: new Set(algorithms),
    keys,
    clockTolerance,
    maxTokenLength,
    clock,
    cache: cacheOption === false ? null : createBoundedCache<CacheEntry>(cacheOption),
    acceptedTypes: new Set(
      lowerTyp.startsWith('application/') ? [lowerTyp] : [lowerTyp, `application/${lowerTyp}`],
    ),
  };
}

function verifyUncached(token: string, config: VerifierConfig): CacheEntry {
  const firstDot = token.indexOf('.');
  const secondDot = firstDot === -1 ? -1 : token.indexOf('.', firstDot + 1);
  if (secondDot === -1 || token.indexOf('.', secondDot + 1) !== -1) fail('token must have three parts');

  const header = decodeJSONObject(token.slice(0, firstDot), 'header');
  const { alg, kid } = checkHeader(header, config);

  const verificationKey = config.keys(kid);
  if (verificationKey === undefined) fail('unknown kid');
  if (verificationKey.alg !== alg) fail('alg does not match key');
  const expectedType = alg === 'HS256' ? 'secret' : 'public';
  if (verificationKey.key.type !== expectedType || keyAlgorithm(verificationKey.key) !== alg) {
    fail('key does not fit alg');
  }

  const signature = fromBase64urlStrict(token.slice(secondDot + 1));
  if (signature === null) fail('signature is not base64url');
  const signingInput = Buffer.from(token.slice(0, secondDot), 'latin1');
  if (!verifySignature(alg, verificationKey.key, signingInput, signature)) fail('signature invalid');

  const payload = decodeJSONObject(token.slice(firstDot + 1, secondDot), 'payload');
  const claims = checkClaims(payload, config);
  const result: VerifiedAccessToken = deepFreeze({
    header: { alg, kid, typ: header.typ as string },
    claims,
  });
  return { result, key: verificationKey.key };
}

function checkHeader(
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

function checkClaims(payload: Record<string, unknown>, config: VerifierConfig): VerifiedAccessTokenClaims {
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
  const claims = payload as unknown as VerifiedAccessTokenClaims;
  checkTimes(claims, config.clock(), config.clockTolerance);
  return claims;
}

/** `exp`, `nbf` and `iat` against the clock; run on every verification, cached or not. */
function checkTimes(claims: AccessTokenClaims, nowMs: number, tolerance: number): void {
  const { exp, iat, nbf } = claims as { exp: unknown; iat: unknown; nbf: unknown };
  const now = Math.floor(nowMs / 1000);
  if (typeof exp !== 'number' || !Number.isFinite(exp)) fail('exp missing');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) fail('iat missing');
  if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf))) fail('nbf invalid');
  if (exp <= now - tolerance) fail('token expired');
  if (nbf !== undefined && nbf > now + tolerance) fail('token not yet valid');
  if (iat > now + tolerance) fail('iat in the future');
}

function decodeJSONObject(segment: string, part: 'header' | 'payload'): Record<string, unknown> {
  const bytes = fromBase64urlStrict(segment);
  if (bytes === null || bytes.length === 0) fail(`${part} is not base64url`);
  let text: string;
  let value: unknown;
  try {
    text = UTF8.decode(bytes);
    value = JSON.parse(text);
  } catch {
    fail(`${part} is not UTF-8 JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(`${part} is not a JSON object`);
  if (hasDuplicateMembers(text)) fail(`${part} has duplicate members`);
  return value as Record<string, unknown>;
}

/**
 * True when an object in `json` (already known to be valid JSON) repeats a member name, after
 * unescaping (`"alg"` and `"\u0061lg"` are the same name).
 */
function hasDuplicateMembers(json: string): boolean {
  // One entry per open container: the names seen so far for an object, null for an array.
  const stack: (Set<string> | null)[] = [];
  let expectName = false;
  const length = json.length;
  for (let i = 0; i < length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i + 1;
      let escaped = false;
      i++;
      while (i < length) {
        const d = json.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i += 2;
        } else if (d === 0x22) {
          break;
        } else {
          i++;
        }
      }
      if (expectName) {
        const raw = json.slice(start, i);
        const name = escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
        const names = stack[stack.length - 1];
        if (names !== undefined && names !== null) {
          if (names.has(name)) return true;
          names.add(name);
        }
        expectName = false;
      }
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectName = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectName = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectName = false;
    } else if (c === 0x2c /* , */) {
      expectName = stack[stack.length - 1] instanceof Set;
    }
  }
  return false;
}

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
  return keyAlgorithm(key);
}

function keyAlgorithm(key: KeyObject): KeyAlgorithm | null {
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

function createSignature(alg: KeyAlgorithm, key: KeyObject, data: Buffer): Buffer {
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

function verifySignature(alg: KeyAlgorithm, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  try {
    switch (alg) {
      case 'EdDSA':
        return signature.length === 64 && cryptoVerify(null, data, key, signature);
      case 'ES256':
        return (
          signature.length === 64 &&
          cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
        );
      case 'RS256':
        return (
          signature.length === (key.asymmetricKeyDetails?.modulusLength ?? 0) / 8 &&
          cryptoVerify('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }, signature)
        );
      case 'HS256': {
        const expected = createHmac('sha256', key).update(data).digest();
        return signature.length === expected.length && timingSafeEqual(expected, signature);
      }
    }
  } catch {
    return false;
  }
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

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}

function fail(detail: string): never {
  throw new LatchkeyError('invalid_token', detail, { detail });
}
