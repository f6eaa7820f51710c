/**
 * The options of `createVerifier`, checked at once: a `TypeError` names the first bad one, so
 * that a misconfigured service fails at start, not at its first request.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.1 perform algorithm verification
 */

import { systemClock, type Clock } from '../clock.js';
import { fromBase64urlStrict } from '../lib/encoding.js';
import type { KeyAlgorithm } from '../records.js';
import type { RevocationFeed } from './feed.js';
import { createIntrospectionCache, type IntrospectionCache } from './introspection.js';
import { checkURL } from './remote-jwks.js';
import { ACCESS_COOKIE } from './verifier-request.js';
import type { VerifierOptions } from './verifier-types.js';

const DEFAULT_MAX_STALENESS = 30_000;

/**
 * The options `createVerifier` reads itself, checked and with their defaults. The strict
 * verifier's own options (`issuer`, `audience`, `algorithms`, `clockTolerance`, `cache`) are
 * checked again by `createAccessTokenVerifier`, and the key source's by `createKeySource`.
 *
 * @example
 * const { clock, revocation } = readVerifierOptions(options);
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
export interface VerifierSettings {
  readonly issuer: string;
  readonly audience: string | readonly string[];
  readonly algorithms: readonly KeyAlgorithm[];
  readonly revocation: RevocationFeed | false;
  readonly maxStaleness: number;
  readonly onStale: 'fail-closed' | 'allow';
  readonly clock: Clock;
  readonly cookieName: string;
  /** The CSRF key of the hybrid access cookie; null when none was given. */
  readonly csrfKey: Uint8Array | null;
  /** Session mode's introspection client, null when `introspection` is not set. */
  readonly introspection: IntrospectionCache | null;
}

/**
 * Checks the options `createVerifier` reads itself, in the order it always has (so the first
 * bad one is the one named), and builds the introspection client.
 *
 * @example
 * const settings = readVerifierOptions(options); // throws TypeError('"issuer" must be ...')
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.1
 */
export function readVerifierOptions(options: VerifierOptions): VerifierSettings {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  const { issuer, audience, algorithms, revocation } = options;
  if (typeof issuer !== 'string' || issuer.length === 0) {
    throw new TypeError('"issuer" must be a non-empty string');
  }
  if (
    audience === undefined ||
    (typeof audience !== 'string' && !Array.isArray(audience)) ||
    audience.length === 0
  ) {
    throw new TypeError('"audience" must be a non-empty string or a non-empty array of strings');
  }
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw new TypeError('"algorithms" must be a non-empty array, e.g. ["EdDSA"]');
  }
  if (options.jwksUri === undefined && options.keys === undefined) {
    throw new TypeError('"jwksUri" or "keys" is required');
  }
  if (options.jwksUri !== undefined && options.keys !== undefined) {
    throw new TypeError('"jwksUri" and "keys" are exclusive');
  }
  if (revocation === undefined) {
    throw new TypeError(
      '"revocation" is required: a RevocationFeed (createSSERevocationFeed), or false to accept revoked tokens until they expire',
    );
  }
  if (
    revocation !== false &&
    (typeof revocation !== 'object' ||
      revocation === null ||
      typeof revocation.start !== 'function' ||
      typeof revocation.close !== 'function')
  ) {
    throw new TypeError('"revocation" must be a RevocationFeed { start, close } or false');
  }
  const maxStaleness = options.maxStaleness ?? DEFAULT_MAX_STALENESS;
  if (typeof maxStaleness !== 'number' || !Number.isFinite(maxStaleness) || maxStaleness < 0) {
    throw new TypeError('"maxStaleness" must be a non-negative number of milliseconds');
  }
  const onStale = options.onStale ?? 'fail-closed';
  if (onStale !== 'fail-closed' && onStale !== 'allow') {
    throw new TypeError('"onStale" must be "fail-closed" or "allow"');
  }
  const clock = options.clock ?? systemClock;
  if (typeof clock !== 'function') throw new TypeError('"clock" must be a function returning milliseconds');
  const cookieName = options.cookieName ?? ACCESS_COOKIE;
  if (typeof cookieName !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookieName)) {
    throw new TypeError('"cookieName" must be a cookie name');
  }
  const csrfKey = options.csrf === undefined ? null : readCSRFKey(options.csrf);
  const introspection = readIntrospection(options, clock);
  return {
    issuer,
    audience,
    algorithms,
    revocation,
    maxStaleness,
    onStale,
    clock,
    cookieName,
    csrfKey,
    introspection,
  };
}

/** Checks the `introspection` option (TypeErrors name the field) and builds its cache. */
function readIntrospection(options: VerifierOptions, clock: Clock): IntrospectionCache | null {
  const value = options.introspection;
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null) throw new TypeError('"introspection" must be an object');
  const url = checkURL(value.url, 'introspection.url', options.allowInsecureRequests === true);
  if (typeof value.clientId !== 'string' || value.clientId.length === 0) {
    throw new TypeError('"introspection.clientId" must be a non-empty string');
  }
  if (typeof value.clientSecret !== 'string' || value.clientSecret.length === 0) {
    throw new TypeError('"introspection.clientSecret" must be a non-empty string');
  }
  const cacheMs = value.cacheMs ?? 5_000;
  if (typeof cacheMs !== 'number' || !Number.isFinite(cacheMs) || cacheMs < 0) {
    throw new TypeError('"introspection.cacheMs" must be a non-negative number of milliseconds');
  }
  return createIntrospectionCache(
    { url, clientId: value.clientId, clientSecret: value.clientSecret, cacheMs },
    { fetch: options.fetch ?? fetch, clock: () => clock() },
  );
}

function readCSRFKey(csrf: unknown): Uint8Array {
  const key = typeof csrf === 'object' && csrf !== null ? (csrf as { key?: unknown }).key : undefined;
  const bytes =
    typeof key === 'string' ? fromBase64urlStrict(key) : key instanceof Uint8Array ? key : undefined;
  if (bytes === undefined || bytes === null || bytes.length !== 32) {
    throw new TypeError('"csrf.key" must be 32 bytes, or their base64url');
  }
  return Uint8Array.from(bytes);
}
