/**
 * A JWK Set fetched from one configured URL, parsed once per key, and kept fresh.
 *
 * Nothing a token carries can make it fetch: the URL is fixed at creation, redirects are
 * refused, and the strict verifier refuses `jku`/`x5u` before it asks for a key. An unknown
 * `kid` may trigger one refetch, at most once per `cooldownMs`, so that tokens with made-up
 * `kid`s cannot make a service hammer the auth server. Concurrent refetches share one request.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5 JWK Set
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.10 Do not trust received claims (jku, x5u)
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-5.2.2.1 Cache-Control max-age
 * @see ./jwks-fetch.ts the HTTP fetch and its cache rules
 * @see ./jwks-keys.ts the keys parsed from a fetched set
 */

import { systemClock, type Clock } from '../clock.js';
import { LatchkeyError } from '../errors.js';
import type { VerificationKey } from '../token/jwt.js';
import { cacheLifetime, fetchJWKSet, type CacheLifetimeBounds } from './jwks-fetch.js';
import { parseKeys, type HeldKey } from './jwks-keys.js';

/** Options of {@link createRemoteJWKS}. */
export interface RemoteJWKSOptions {
  /** The JWKS URL; `https:`, or `http:` on a loopback host (or with `allowInsecureRequests`). */
  url: string | URL;
  fetch?: typeof fetch;
  clock?: Clock;
  /** No refetch for an unknown `kid` within this long of the previous fetch. Default 30 s. */
  cooldownMs?: number;
  /** Lower bound of the cache lifetime taken from `Cache-Control: max-age`. Default 30 s. */
  minCacheMs?: number;
  /** Upper bound of the cache lifetime. Default 1 h. */
  maxCacheMs?: number;
  /** Cache lifetime when the response has no usable `max-age`. Default 5 min. */
  defaultCacheMs?: number;
  /** Abort a fetch after this long. Default 5 s. */
  timeoutMs?: number;
  /** Allow plain `http:` to a host that is not loopback. Default false. */
  allowInsecureRequests?: boolean;
}

/** What {@link RemoteJWKS.health} reports. */
export interface RemoteJWKSHealth {
  /** When the last successful fetch completed (ms since the epoch), null before the first. */
  readonly lastFetch: number | null;
  /** Keys held. */
  readonly keys: number;
  /** Successful and failed fetches so far. */
  readonly fetches: number;
  /** Why the last fetch failed, null when it succeeded. Never contains a credential. */
  readonly lastError: string | null;
}

/** A JWK Set fetched from one URL and kept fresh; see {@link createRemoteJWKS}. */
export interface RemoteJWKS {
  /** The key of `kid`, or undefined. Synchronous: a `Map` lookup. */
  resolve(kid: string): VerificationKey | undefined;
  /**
   * Makes sure keys are held: fetches when none are (and rejects with `store_unavailable` when
   * that fails), and refreshes in the background once the cache lifetime is over. Returns
   * undefined when nothing needs waiting for, so the hot path stays synchronous.
   */
  ensureFresh(): Promise<void> | undefined;
  /**
   * For an unknown `kid`: joins a fetch in flight, or starts one unless the cooldown forbids.
   * Resolves true when a fetch completed (so a retry may now succeed).
   */
  refreshForUnknownKid(): Promise<boolean>;
  health(): RemoteJWKSHealth;
  /** Aborts a fetch in flight; no fetch starts afterwards. */
  close(): void;
}

const DEFAULTS = {
  cooldownMs: 30_000,
  minCacheMs: 30_000,
  maxCacheMs: 3_600_000,
  defaultCacheMs: 300_000,
  timeoutMs: 5000,
} as const;
/** After a failed fetch while no key is held, the next attempt waits this long. */
const RETRY_WITHOUT_KEYS_MS = 1000;

/** The options of {@link createRemoteJWKS}, checked, with their defaults. */
interface JWKSSettings extends CacheLifetimeBounds {
  readonly url: URL;
  readonly fetchImpl: typeof fetch;
  readonly clock: Clock;
  readonly cooldownMs: number;
  readonly timeoutMs: number;
}

/** A remote JWK Set's keys, and when (and how) it last fetched them. */
interface JWKSState {
  readonly settings: JWKSSettings;
  /** Aborts a fetch in flight on close(). */
  readonly closer: AbortController;
  keys: Map<string, HeldKey>;
  loaded: boolean;
  lastFetch: number | null;
  lastAttempt: number | null;
  expiresAt: number;
  fetches: number;
  lastError: string | null;
  inFlight: Promise<void> | null;
  closed: boolean;
}

/**
 * Creates a remote JWK Set. The first fetch happens on the first `ensureFresh()`.
 *
 * @example
 * const jwks = createRemoteJWKS({ url: 'https://auth.example.com/.well-known/jwks.json' });
 * await jwks.ensureFresh();
 * const verifier = createAccessTokenVerifier({ ...options, keys: (kid) => jwks.resolve(kid) });
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5
 */
export function createRemoteJWKS(options: RemoteJWKSOptions): RemoteJWKS {
  const settings = jwksSettings(options);
  const { clock, cooldownMs } = settings;
  const jwks: JWKSState = {
    settings,
    closer: new AbortController(),
    keys: new Map<string, HeldKey>(),
    loaded: false,
    lastFetch: null,
    lastAttempt: null,
    expiresAt: 0,
    fetches: 0,
    lastError: null,
    inFlight: null,
    closed: false,
  };

  return {
    resolve(kid) {
      return jwks.keys.get(kid)?.key;
    },
    ensureFresh() {
      return ensureFresh(jwks);
    },
    async refreshForUnknownKid() {
      if (jwks.inFlight === null) {
        if (jwks.closed || (jwks.lastAttempt !== null && clock() - jwks.lastAttempt < cooldownMs))
          return false;
      }
      try {
        await refresh(jwks);
        return true;
      } catch {
        return false;
      }
    },
    health() {
      return {
        lastFetch: jwks.lastFetch,
        keys: jwks.keys.size,
        fetches: jwks.fetches,
        lastError: jwks.lastError,
      };
    },
    close() {
      jwks.closed = true;
      jwks.closer.abort();
    },
  };
}

function jwksSettings(options: RemoteJWKSOptions): JWKSSettings {
  const url = checkURL(options.url, 'url', options.allowInsecureRequests === true);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new TypeError('"fetch" must be a function');
  const clock = options.clock ?? systemClock;
  const cooldownMs = duration(options.cooldownMs, DEFAULTS.cooldownMs, 'cooldownMs');
  const minCacheMs = duration(options.minCacheMs, DEFAULTS.minCacheMs, 'minCacheMs');
  const maxCacheMs = duration(options.maxCacheMs, DEFAULTS.maxCacheMs, 'maxCacheMs');
  const defaultCacheMs = duration(options.defaultCacheMs, DEFAULTS.defaultCacheMs, 'defaultCacheMs');
  const timeoutMs = duration(options.timeoutMs, DEFAULTS.timeoutMs, 'timeoutMs');
  if (minCacheMs > maxCacheMs) throw new TypeError('"minCacheMs" must not exceed "maxCacheMs"');
  return { url, fetchImpl, clock, cooldownMs, minCacheMs, maxCacheMs, defaultCacheMs, timeoutMs };
}

/** See {@link RemoteJWKS.ensureFresh}. */
function ensureFresh(jwks: JWKSState): Promise<void> | undefined {
  const { clock, minCacheMs } = jwks.settings;
  if (!jwks.loaded) {
    if (jwks.inFlight !== null) return jwks.inFlight;
    if (jwks.lastAttempt !== null && clock() - jwks.lastAttempt < RETRY_WITHOUT_KEYS_MS) {
      return Promise.reject(unavailable(`JWKS not loaded: ${jwks.lastError ?? 'fetch failed'}`));
    }
    return refresh(jwks);
  }
  const now = clock();
  if (
    now >= jwks.expiresAt &&
    jwks.inFlight === null &&
    (jwks.lastAttempt === null || now - jwks.lastAttempt >= minCacheMs)
  ) {
    // Stale while revalidate: keep verifying with the keys held; a failure keeps them.
    refresh(jwks).catch(() => undefined);
  }
  return undefined;
}

/**
 * Joins the fetch in flight, or starts one; on success the keys fetched replace the keys held,
 * on failure (rejected with `store_unavailable`) the keys held stay.
 */
function refresh(jwks: JWKSState): Promise<void> {
  if (jwks.inFlight !== null) return jwks.inFlight;
  if (jwks.closed) return Promise.reject(unavailable('the verifier is closed'));
  const { clock } = jwks.settings;
  jwks.lastAttempt = clock();
  jwks.fetches += 1;
  jwks.inFlight = load(jwks)
    .then(
      (next) => {
        jwks.keys = next;
        jwks.loaded = true;
        jwks.lastFetch = clock();
        jwks.lastError = null;
      },
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : 'fetch failed';
        jwks.lastError = reason;
        throw unavailable(`JWKS fetch failed: ${reason}`, error);
      },
    )
    .finally(() => {
      jwks.inFlight = null;
    });
  return jwks.inFlight;
}

/** One fetch (aborted on close or after `timeoutMs`): sets the expiry, returns the keys. */
async function load(jwks: JWKSState): Promise<Map<string, HeldKey>> {
  const { fetchImpl, url, timeoutMs, clock } = jwks.settings;
  const signal = AbortSignal.any([jwks.closer.signal, AbortSignal.timeout(timeoutMs)]);
  const fetched = await fetchJWKSet(fetchImpl, url, signal);
  jwks.expiresAt = clock() + cacheLifetime(fetched.cacheControl, jwks.settings);
  return parseKeys(fetched.keys, jwks.keys);
}

/**
 * Checks a URL option: `https:`, or `http:` for loopback hosts (or when insecure requests are
 * allowed); no credentials in it. Throws a `TypeError` naming the option.
 *
 * @example
 * checkURL('http://127.0.0.1:8080/.well-known/jwks.json', 'jwksUri', false); // URL
 * checkURL('http://auth.internal/.well-known/jwks.json', 'jwksUri', false); // TypeError: "jwksUri" must be an https: URL ...
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.10
 */
export function checkURL(value: unknown, name: string, allowInsecure: boolean): URL {
  let url: URL;
  try {
    url = value instanceof URL ? new URL(value.href) : new URL(String(value));
  } catch {
    throw new TypeError(`"${name}" must be an absolute URL`);
  }
  if (typeof value !== 'string' && !(value instanceof URL)) {
    throw new TypeError(`"${name}" must be a string or a URL`);
  }
  if (url.username !== '' || url.password !== '')
    throw new TypeError(`"${name}" must not contain credentials`);
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && (allowInsecure || isLoopback(url.hostname))) return url;
  throw new TypeError(
    `"${name}" must be an https: URL (http: only on a loopback host, or with "allowInsecureRequests")`,
  );
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

function duration(value: number | undefined, fallback: number, name: string): number {
  const ms = value ?? fallback;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new TypeError(`"${name}" must be a non-negative number of milliseconds`);
  }
  return ms;
}

function unavailable(message: string, cause?: unknown): LatchkeyError {
  return new LatchkeyError('store_unavailable', message, { retryAfter: 1, cause });
}
