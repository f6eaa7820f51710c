/**
 * Session mode of the verifier: a resource service that receives the auth server's session
 * cookie asks `POST /v1/introspect` (RFC 7662) whether it is live, and caches the answer briefly.
 *
 * - Answers (active and inactive) are cached for `cacheMs`, keyed by the SHA-256 of the cookie
 *   value (the value itself is never kept); concurrent lookups of one cookie share one request.
 * - The revocation feed drops the cached answers of a revoked session or user at once
 *   ({@link IntrospectionCache.revoke}); while the feed is stale the cache is bypassed.
 * - A failed introspection (network, 5xx, the client's own credentials refused) is never cached
 *   and fails with 503 `store_unavailable`: the caller cannot be told apart from an outage.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-4 (caching)
 */

import { createHash } from 'node:crypto';
import { LatchkeyError } from '../errors.js';
import type { RevocationRecord } from '../records.js';

/** Options of session mode (`introspection` in the verifier options). */
export interface IntrospectionOptions {
  /** The auth server's introspection endpoint, e.g. `https://auth.example.com/v1/introspect`. */
  url: string | URL;
  clientId: string;
  clientSecret: string;
  /** How long an answer is reused. Default 5 s. */
  cacheMs?: number;
}

/** A live session as introspection describes it. */
export interface IntrospectedSession {
  readonly sub: string;
  readonly sid: string;
  readonly iat: number;
  readonly exp: number;
  /** How and when the user authenticated, when the server said (`auth_time` in seconds). */
  readonly amr?: readonly string[];
  readonly acr?: string;
  readonly authTime?: number;
}

export interface IntrospectionCache {
  /** The live session of a cookie value, or null when inactive. Throws `store_unavailable`. */
  lookup(cookie: string, options: { useCache: boolean }): Promise<IntrospectedSession | null>;
  /** Drops the cached answers a revocation makes wrong. */
  revoke(record: RevocationRecord): void;
  clear(): void;
}

const DEFAULT_CACHE_MS = 5_000;
const MAX_ENTRIES = 10_000;
const TIMEOUT_MS = 5_000;

interface Entry {
  session: IntrospectedSession | null;
  expiresAt: number;
}

function isSession(body: unknown): body is IntrospectedSession & { active: true } {
  if (typeof body !== 'object' || body === null) return false;
  const { active, sub, sid, iat, exp } = body as Record<string, unknown>;
  return (
    active === true &&
    typeof sub === 'string' &&
    typeof sid === 'string' &&
    typeof iat === 'number' &&
    typeof exp === 'number'
  );
}

/** The `amr`, `acr` and `auth_time` of an introspection answer, those of the right type. */
function assuranceOfAnswer(body: object): { amr?: readonly string[]; acr?: string; authTime?: number } {
  const { amr, acr, auth_time: authTime } = body as Record<string, unknown>;
  return {
    ...(Array.isArray(amr) && amr.every((method) => typeof method === 'string')
      ? { amr: Object.freeze([...amr]) }
      : {}),
    ...(typeof acr === 'string' ? { acr } : {}),
    ...(typeof authTime === 'number' && Number.isFinite(authTime) ? { authTime } : {}),
  };
}

/**
 * Creates the introspection client and its cache. `url` must already be checked by the caller.
 *
 * @example
 * const cache = createIntrospectionCache({ url, clientId, clientSecret }, { fetch, clock: Date.now });
 * const session = await cache.lookup(cookieValue, { useCache: true });
 */
export function createIntrospectionCache(
  options: IntrospectionOptions & { url: URL },
  runtime: { fetch: typeof fetch; clock: () => number },
): IntrospectionCache {
  const cacheMs = options.cacheMs ?? DEFAULT_CACHE_MS;
  const authorization = `Basic ${Buffer.from(
    `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
  ).toString('base64')}`;
  const entries = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<IntrospectedSession | null>>();
  /** Bumped by every revocation: an answer requested before one is not cached. */
  let epoch = 0;

  async function introspect(cookie: string): Promise<IntrospectedSession | null> {
    let response: Response;
    try {
      response = await runtime.fetch(options.url, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token: cookie }).toString(),
        signal: AbortSignal.timeout(TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (cause) {
      throw new LatchkeyError('store_unavailable', 'Introspection failed', { retryAfter: 1, cause });
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new LatchkeyError('store_unavailable', `Introspection answered ${response.status}`, {
        retryAfter: 1,
      });
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (cause) {
      throw new LatchkeyError('store_unavailable', 'Introspection answered invalid JSON', {
        retryAfter: 1,
        cause,
      });
    }
    if (!isSession(body)) return null;
    return { sub: body.sub, sid: body.sid, iat: body.iat, exp: body.exp, ...assuranceOfAnswer(body) };
  }

  function remember(key: string, session: IntrospectedSession | null): void {
    if (entries.size >= MAX_ENTRIES) {
      const oldest = entries.keys().next();
      if (oldest.done !== true) entries.delete(oldest.value);
    }
    entries.set(key, { session, expiresAt: runtime.clock() + cacheMs });
  }

  return {
    async lookup(cookie, lookupOptions) {
      const key = createHash('sha256').update(cookie, 'utf8').digest('base64url');
      const now = runtime.clock();
      const cached = entries.get(key);
      if (lookupOptions.useCache && cached !== undefined && cached.expiresAt > now) {
        // A session whose own expiry has passed is inactive, cache or not.
        if (cached.session !== null && cached.session.exp * 1000 <= now) return null;
        return cached.session;
      }
      if (cached !== undefined) entries.delete(key);
      const pending = inFlight.get(key);
      if (pending !== undefined) return pending;
      const startedAt = epoch;
      const request = introspect(cookie).then(
        (session) => {
          inFlight.delete(key);
          if (startedAt === epoch) remember(key, session);
          return session;
        },
        (error: unknown) => {
          inFlight.delete(key);
          throw error;
        },
      );
      inFlight.set(key, request);
      return request;
    },
    revoke(record) {
      if (record.kind === 'token') return;
      epoch += 1;
      for (const [key, entry] of entries) {
        const session = entry.session;
        if (session === null) continue;
        // A user revocation drops every cached session of the user: at worst one extra request.
        const hit =
          record.kind === 'session' ? session.sid === record.subject : session.sub === record.subject;
        if (hit) entries.delete(key);
      }
    },
    clear() {
      epoch += 1;
      entries.clear();
    },
  };
}
