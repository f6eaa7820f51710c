/**
 * The HTTP side of a remote JWK Set: one `GET` of the configured URL (no redirect, bounded
 * size, a JSON object with a `keys` array), and the cache lifetime its `Cache-Control` grants.
 *
 * @see ./remote-jwks.ts the key set kept fresh with it
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5 JWK Set
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-5.2.2.1 Cache-Control max-age
 */

const MAX_BODY_CHARS = 512 * 1024;

/** What one fetch of a JWK Set brings back. */
export interface FetchedJWKSet {
  /** The `keys` array, unparsed. */
  readonly keys: readonly unknown[];
  /** The response's `Cache-Control` header, null when absent. */
  readonly cacheControl: string | null;
}

/** The bounds of a cache lifetime (see {@link cacheLifetime}). */
export interface CacheLifetimeBounds {
  /** Lower bound of the lifetime taken from `max-age`. */
  readonly minCacheMs: number;
  /** Upper bound of the lifetime. */
  readonly maxCacheMs: number;
  /** The lifetime when there is no usable `max-age`. */
  readonly defaultCacheMs: number;
}

/**
 * Fetches the JWK Set at `url`; rejects with a short reason (never a credential) on a status
 * other than 200, a body over 512 KiB, a body that is not JSON or not a JWK Set.
 *
 * @example
 * const { keys, cacheControl } = await fetchJWKSet(fetch, url, AbortSignal.timeout(5_000));
 */
export async function fetchJWKSet(
  fetchImpl: typeof fetch,
  url: URL,
  signal: AbortSignal,
): Promise<FetchedJWKSet> {
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
  return { keys: list, cacheControl: response.headers.get('cache-control') };
}

/**
 * The cache lifetime granted by a `Cache-Control` header: its `max-age` within the bounds, or
 * the default when it has none.
 *
 * @example
 * cacheLifetime('public, max-age=600', { minCacheMs: 30_000, maxCacheMs: 3_600_000, defaultCacheMs: 300_000 }); // 600_000
 */
export function cacheLifetime(header: string | null, bounds: CacheLifetimeBounds): number {
  const match = header === null ? null : /(?:^|,)\s*max-age\s*=\s*"?(\d{1,10})"?\s*(?:,|$)/i.exec(header);
  const seconds = match?.[1] === undefined ? null : Number(match[1]);
  const ms = seconds === null ? bounds.defaultCacheMs : seconds * 1000;
  return Math.min(bounds.maxCacheMs, Math.max(bounds.minCacheMs, ms));
}
