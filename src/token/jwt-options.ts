/**
 * The options of the access-token verifier, and their validation into the configuration the
 * hot path reads. Misconfiguration throws a `TypeError` naming the option, at creation, never
 * at the first token.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.1 perform algorithm verification
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */

import type { KeyObject } from 'node:crypto';
import { systemClock, type Clock } from '../clock.js';
import { KEY_ALGORITHMS, type VerificationKeyResolver } from '../keys/algorithms.js';
import type { KeyAlgorithm } from '../records.js';
import { createBoundedCache, type BoundedCache } from './jwt-cache.js';
import { ACCESS_TOKEN_TYPE, type VerifiedAccessToken } from './jwt-types.js';

/**
 * The options of `createAccessTokenVerifier`. `issuer`, `audience`, `algorithms` and `keys` are
 * required: no default would be safe.
 *
 * @example
 * const options: AccessTokenVerifierOptions = {
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com',
 *   algorithms: ['EdDSA'],
 *   keys: keyring.resolveVerificationKey,
 * };
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
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

/**
 * A verified token as cached: the (frozen) result and the key that verified it, so that a hit
 * can check that the `kid` still resolves to that key.
 *
 * @example
 * const entry: CacheEntry = { result: Object.freeze({ header, claims }), key };
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-4.1.4
 */
export interface CacheEntry {
  readonly result: VerifiedAccessToken;
  readonly key: KeyObject;
}

const DEFAULT_CLOCK_TOLERANCE = 30;
const DEFAULT_MAX_TOKEN_LENGTH = 8192;
const DEFAULT_CACHE_ENTRIES = 10_000;

/**
 * The validated options, in the form the hot path reads: sets instead of arrays, defaults
 * applied, the cache made.
 *
 * @example
 * const config: VerifierConfig = validateVerifierOptions(options);
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
export interface VerifierConfig {
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

/**
 * Checks `options` (a `TypeError` names the first bad one) and builds the `VerifierConfig`:
 * `algorithms` only from `KEY_ALGORITHMS` and never `none`; `typ` accepted as itself or as
 * `application/<typ>`, case-insensitively.
 *
 * @example
 * const config = validateVerifierOptions({ issuer, audience, algorithms: ['EdDSA'], keys });
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.1
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
export function validateVerifierOptions(options: AccessTokenVerifierOptions): VerifierConfig {
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
