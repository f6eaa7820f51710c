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
 */

import { systemClock, type Clock } from '../clock.js';
import { LatchkeyError } from '../errors.js';
import { importPublicJWK } from '../keys/key-material.js';
import type { VerificationKey } from '../token/jwt.js';

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
const MAX_BODY_CHARS = 512 * 1024;
const MAX_KEYS = 100;

interface HeldKey {
  readonly json: string;
  readonly key: VerificationKey;
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

  let keys = new Map<string, HeldKey>();
  let loaded = false;
  let lastFetch: number | null = null;
  let lastAttempt: number | null = null;
  let expiresAt = 0;
  let fetches = 0;
  let lastError: string | null = null;
  let inFlight: Promise<void> | null = null;
  let closed = false;
  const closer = new AbortController();

  function refresh(): Promise<void> {
    if (inFlight !== null) return inFlight;
    if (closed) return Promise.reject(unavailable('the verifier is closed'));
    lastAttempt = clock();
    fetches += 1;
    inFlight = load()
      .then(
        (next) => {
          keys = next;
          loaded = true;
          lastFetch = clock();
          lastError = null;
        },
        (error: unknown) => {
          lastError = error instanceof Error ? error.message : 'fetch failed';
          throw unavailable(`JWKS fetch failed: ${lastError}`, error);
        },
      )
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  }

  async function load(): Promise<Map<string, HeldKey>> {
    const signal = AbortSignal.any([closer.signal, AbortSignal.timeout(timeoutMs)]);
    const response = await fetchImpl(url, {
      headers: { accept: 'application/jwk-set+json, application/json' },
      redirect: 'error',
      signal,
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`status ${response.status}`);
    }
    const length = Number(response.headers.get('content-length') ?? '0');
    if (length > MAX_BODY_CHARS) {
      await response.body?.cancel();
      throw new Error('response too large');
    }
    const text = await response.text();
    if (text.length > MAX_BODY_CHARS) throw new Error('response too large');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error('response is not JSON');
    }
    const list = typeof body === 'object' && body !== null ? (body as { keys?: unknown }).keys : undefined;
    if (!Array.isArray(list)) throw new Error('response is not a JWK Set');
    expiresAt = clock() + cacheLifetime(response.headers.get('cache-control'));
    return parseKeys(list.slice(0, MAX_KEYS));
  }

  function parseKeys(list: readonly unknown[]): Map<string, HeldKey> {
    const next = new Map<string, HeldKey>();
    const duplicated = new Set<string>();
    for (const jwk of list) {
      const json = JSON.stringify(jwk);
      const kid = typeof jwk === 'object' && jwk !== null ? (jwk as { kid?: unknown }).kid : undefined;
      if (typeof kid !== 'string') continue;
      if (next.has(kid) || duplicated.has(kid)) {
        // Two keys under one kid: which one verifies would be ambiguous, so neither does.
        next.delete(kid);
        duplicated.add(kid);
        continue;
      }
      const held = keys.get(kid);
      if (held !== undefined && held.json === json) {
        // Unchanged: the same KeyObject, so the verifier's cache of verified tokens stays valid.
        next.set(kid, held);
        continue;
      }
      try {
        next.set(kid, { json, key: importPublicJWK(jwk) });
      } catch {
        // A key we cannot use (another algorithm, a symmetric key, garbage): skip it.
      }
    }
    return next;
  }

  function cacheLifetime(header: string | null): number {
    const match = header === null ? null : /(?:^|,)\s*max-age\s*=\s*"?(\d{1,10})"?\s*(?:,|$)/i.exec(header);
    const seconds = match?.[1] === undefined ? null : Number(match[1]);
    const ms = seconds === null ? defaultCacheMs : seconds * 1000;
    return Math.min(maxCacheMs, Math.max(minCacheMs, ms));
  }

  return {
    resolve(kid) {
      return keys.get(kid)?.key;
    },
    ensureFresh() {
      if (!loaded) {
        if (inFlight !== null) return inFlight;
        if (lastAttempt !== null && clock() - lastAttempt < RETRY_WITHOUT_KEYS_MS) {
          return Promise.reject(unavailable(`JWKS not loaded: ${lastError ?? 'fetch failed'}`));
        }
        return refresh();
      }
      const now = clock();
      if (
        now >= expiresAt &&
        inFlight === null &&
        (lastAttempt === null || now - lastAttempt >= minCacheMs)
      ) {
        // Stale while revalidate: keep verifying with the keys held; a failure keeps them.
        refresh().catch(() => undefined);
      }
      return undefined;
    },
    async refreshForUnknownKid() {
      if (inFlight === null) {
        if (closed || (lastAttempt !== null && clock() - lastAttempt < cooldownMs)) return false;
      }
      try {
        await refresh();
        return true;
      } catch {
        return false;
      }
    },
    health() {
      return { lastFetch, keys: keys.size, fetches, lastError };
    },
    close() {
      closed = true;
      closer.abort();
    },
  };
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
