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
import { toBase64url } from '../lib/encoding.js';
import type { KeyAlgorithm } from '../records.js';
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
  if (key.type !== expectedType || keyAlgorithm(key) !== alg) fail('key does not fit alg');
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

/**
 * Decodes `token[start, end)` as a JSON object: strict base64url, UTF-8 (malformed sequences
 * refused), JSON, an object, and no object in it repeating a member name. With `freeze`, the
 * object and everything in it are frozen.
 */
function decodeJSONObject(
  token: string,
  start: number,
  end: number,
  part: 'header' | 'payload',
  freeze: boolean,
): Record<string, unknown> {
  const length = decodeBase64url(token, start, end);
  if (length <= 0) fail(`${part} is not base64url`);
  const bytes = scratch;
  let value: unknown;
  try {
    const text = isASCII(bytes, length)
      ? bytes.toString('latin1', 0, length)
      : UTF8.decode(bytes.subarray(0, length));
    value = JSON.parse(text);
  } catch {
    fail(`${part} is not UTF-8 JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(`${part} is not a JSON object`);
  // Every member of every object has one `:` outside strings; JSON.parse keeps one property
  // per distinct name (after unescaping), so the counts differ exactly when a name repeats.
  if (countMembers(value, freeze) !== countNameSeparators(bytes, length)) {
    fail(`${part} has duplicate members`);
  }
  return value as Record<string, unknown>;
}

/** The `:` outside strings in the JSON text `bytes[0, length)` (known to be valid JSON). */
function countNameSeparators(bytes: Uint8Array, length: number): number {
  let count = 0;
  for (let i = 0; i < length; i++) {
    const byte = bytes[i];
    if (byte === 0x22 /* " */) {
      for (i++; i < length; i++) {
        const inner = bytes[i];
        if (inner === 0x5c /* \ */) i++;
        else if (inner === 0x22) break;
      }
    } else if (byte === 0x3a /* : */) {
      count++;
    }
  }
  return count;
}

/** The own properties of all the objects in a parsed JSON value; freezes them all with `freeze`. */
function countMembers(value: unknown, freeze: boolean): number {
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) count += countMembers(item, freeze);
  } else {
    const object = value as Record<string, unknown>;
    const names = Object.keys(object);
    count = names.length;
    for (const name of names) count += countMembers(object[name], freeze);
  }
  if (freeze) Object.freeze(value);
  return count;
}

function isASCII(bytes: Uint8Array, length: number): boolean {
  let bits = 0;
  for (let i = 0; i < length; i++) bits |= bytes[i] ?? 0;
  return bits < 0x80;
}

/** The value of each base64url character (RFC 4648 §5); 64 for every other ASCII character. */
const BASE64URL_VALUES: Uint8Array = (() => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const values = new Uint8Array(128).fill(64);
  for (let i = 0; i < alphabet.length; i++) values[alphabet.charCodeAt(i)] = i;
  return values;
})();

function sextet(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return code < 128 ? (BASE64URL_VALUES[code] ?? 64) : 64;
}

/**
 * Shared output of `decodeBase64url` (verification is synchronous, so one is enough); grown to
 * the longest segment seen. Read it before the next decoding.
 */
let scratch: Buffer = Buffer.allocUnsafeSlow(6144);

/**
 * Decodes `text[start, end)` as strict base64url into `scratch`: only the URL-safe alphabet, no
 * padding, no whitespace, and canonical (a length that is not 1 mod 4, and the unused low bits
 * of the last character zero), so that one value has one spelling; exactly what
 * `fromBase64urlStrict` accepts. Returns the number of bytes, or -1.
 */
function decodeBase64url(text: string, start: number, end: number): number {
  const tail = (end - start) & 3;
  if (tail === 1) return -1;
  const needed = ((end - start) >> 2) * 3 + 2;
  if (scratch.length < needed) scratch = Buffer.allocUnsafeSlow(needed);
  const out = scratch;
  const last = end - tail;
  let length = 0;
  for (let i = start; i < last; i += 4) {
    const a = sextet(text, i);
    const b = sextet(text, i + 1);
    const c = sextet(text, i + 2);
    const d = sextet(text, i + 3);
    if ((a | b | c | d) > 63) return -1;
    out[length] = (a << 2) | (b >> 4);
    out[length + 1] = ((b & 15) << 4) | (c >> 2);
    out[length + 2] = ((c & 3) << 6) | d;
    length += 3;
  }
  if (tail === 2) {
    const a = sextet(text, last);
    const b = sextet(text, last + 1);
    if ((a | b) > 63 || (b & 15) !== 0) return -1;
    out[length++] = (a << 2) | (b >> 4);
  } else if (tail === 3) {
    const a = sextet(text, last);
    const b = sextet(text, last + 1);
    const c = sextet(text, last + 2);
    if ((a | b | c) > 63 || (c & 3) !== 0) return -1;
    out[length++] = (a << 2) | (b >> 4);
    out[length++] = ((b & 15) << 4) | (c >> 2);
  }
  return length;
}

/** Latin-1 bytes of the signing input, for `crypto.verify`; grown like `scratch`. */
let signingInputScratch: Buffer = Buffer.allocUnsafeSlow(8192);

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

/** The length in bytes of a signature of `alg` by `key` (whose algorithm is known to be `alg`). */
function expectedSignatureLength(alg: KeyAlgorithm, key: KeyObject): number {
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

function fail(detail: string): never {
  throw new LatchkeyError('invalid_token', detail, { detail });
}
