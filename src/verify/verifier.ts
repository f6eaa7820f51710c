/**
 * The resource-service verifier: checks a caller without asking the auth server.
 *
 * Signatures and claims go through the same strict verifier the server uses
 * (`createAccessTokenVerifier`), with keys from a remote JWKS or a static list; revocations
 * are pushed by a `RevocationFeed` into an in-memory `RevocationList`, so a revoked session is
 * refused within milliseconds, with no call per request. When the feed has been down for
 * longer than `maxStaleness`, verification fails closed (503) unless told otherwise.
 */

import { systemClock, type Clock } from '../clock.js';
import { parseCookies } from '../cookies/cookies.js';
import { CSRF_HEADER, isUnsafeMethod, verifyCSRFToken } from '../csrf/csrf.js';
import { LatchkeyError } from '../errors.js';
import { importPublicJWK } from '../keys/key-material.js';
import { fromBase64urlStrict } from '../lib/encoding.js';
import { createRevocationList, type RevocationMatch } from '../revocation/revocation-list.js';
import type { KeyAlgorithm, RevocationRecord } from '../records.js';
import {
  createAccessTokenVerifier,
  type VerificationKey,
  type VerifiedAccessToken,
  type VerifiedAccessTokenClaims,
} from '../token/jwt.js';
import type { RevocationFeed, RevocationFeedState } from './feed.js';
import {
  createIntrospectionCache,
  type IntrospectionCache,
  type IntrospectionOptions,
} from './introspection.js';
import { checkURL, createRemoteJWKS, type RemoteJWKS } from './remote-jwks.js';

/** The name of the cookie-mode session cookie the auth server sets. */
export const SESSION_COOKIE = '__Host-latchkey_session';

/** The name of the hybrid-mode access cookie the auth server sets. */
export const ACCESS_COOKIE = '__Host-latchkey_access';

export interface VerifierOptions {
  /** The exact `iss` required: the auth server's issuer. */
  issuer: string;
  /** This service's audience: the token's `aud` must contain it (or one of them). */
  audience: string | readonly string[];
  /** Allowed algorithms, e.g. `['EdDSA']`. No default, on purpose. */
  algorithms: readonly KeyAlgorithm[];
  /** Where the public keys are: the auth server's `/.well-known/jwks.json`. Exclusive with `keys`. */
  jwksUri?: string | URL;
  /** Static public JWKs (no fetching). Exclusive with `jwksUri`. */
  keys?: readonly object[];
  /**
   * The revocation transport (`createSSERevocationFeed`), or `false` to accept revoked tokens
   * until they expire. Required: leaving it out is a configuration error, not a default.
   */
  revocation: RevocationFeed | false;
  /** Longest time the feed may be down before verification is stale. Default 30 s. */
  maxStaleness?: number;
  /** What to do when stale: refuse with 503 (`fail-closed`, the default) or carry on. */
  onStale?: 'fail-closed' | 'allow';
  /** Leeway in seconds for `exp`, `nbf` and `iat`. Default 30. */
  clockTolerance?: number;
  /** Cache of verified tokens of the strict verifier. Default `{ maxEntries: 10_000 }`. */
  cache?: { maxEntries: number } | false;
  /** Tuning of the remote JWKS (all in milliseconds). */
  jwks?: {
    cooldownMs?: number;
    minCacheMs?: number;
    maxCacheMs?: number;
    defaultCacheMs?: number;
    timeoutMs?: number;
  };
  fetch?: typeof fetch;
  clock?: Clock;
  /**
   * CSRF check of the hybrid access cookie on unsafe methods. `key` is the server's CSRF key
   * (HKDF of `LATCHKEY_SECRET` with purpose `csrf`: 32 bytes, or their base64url). Without
   * it, a cookie-authenticated POST/PUT/PATCH/DELETE is refused with 403: send a Bearer token.
   */
  csrf?: { key: Uint8Array | string };
  /** The access cookie's name. Default `__Host-latchkey_access`. */
  cookieName?: string;
  /** Allow plain `http:` URLs to hosts that are not loopback. Default false. */
  allowInsecureRequests?: boolean;
  /**
   * Session mode: `authenticate()` accepts the auth server's session cookie
   * (`__Host-latchkey_session`) by asking its introspection endpoint with these client
   * credentials, and reuses each answer for `cacheMs` (default 5 s) unless the revocation feed
   * revokes the session or its user first.
   * @see https://www.rfc-editor.org/rfc/rfc7662
   */
  introspection?: IntrospectionOptions;
}

/**
 * The caller, as a resource service sees it. Frozen: requests that present the same token may
 * share it.
 */
export interface Principal {
  /** The user id, or the client id for a machine client. */
  readonly sub: string;
  /** The session id; null for machine clients. */
  readonly sid: string | null;
  readonly scope: readonly string[];
  readonly roles: readonly string[];
  readonly clientId: string | null;
  /** How the token came: `Authorization: Bearer`, or the hybrid access cookie. */
  readonly via: 'bearer' | 'cookie';
  /** Every verified claim. */
  readonly claims: VerifiedAccessTokenClaims;
}

/** The parts of an HTTP request `authenticate` reads: node's, Express's, Fastify's or fetch's. */
export interface AuthenticateRequest {
  readonly method: string;
  readonly headers: Headers | Readonly<Record<string, string | readonly string[] | undefined>>;
}

export interface VerifierHealth {
  readonly jwks: {
    readonly source: 'remote' | 'static';
    /** Last successful fetch, ms since the epoch (null for static keys or before the first). */
    readonly lastFetch: number | null;
    readonly keys: number;
    readonly lastError: string | null;
  };
  readonly revocation: {
    /** False when created with `revocation: false`. */
    readonly enabled: boolean;
    readonly connected: boolean;
    readonly status: RevocationFeedState['status'] | 'disabled';
    /** When the last revocation record arrived (ms since the epoch). */
    readonly lastEventAt: number | null;
    /** Milliseconds since the feed last showed life (a record, a heartbeat); null before. */
    readonly lag: number | null;
    /** True when the feed has been down longer than `maxStaleness` (or never caught up). */
    readonly stale: boolean;
    readonly lastSeq: number;
    readonly entries: number;
    /** Why the feed last disconnected, null while it never did. */
    readonly lastError: string | null;
  };
}

export interface Verifier {
  /** Verifies an access token and checks it against the revocation list. */
  verify(token: string): Promise<Principal>;
  /**
   * Finds the caller of a request: `Authorization: Bearer`, else (in session mode, with
   * `introspection`) the session cookie, else the hybrid access cookie; with a cookie, unsafe
   * methods also need `X-CSRF-Token`. Throws a `LatchkeyError`: 401
   * `unauthenticated`/`invalid_token`, 403 `csrf_failed`/`cross_site_request`, 503
   * `store_unavailable` (keys unavailable, or the revocation feed stale).
   */
  authenticate(request: AuthenticateRequest): Promise<Principal>;
  /** Resolves once keys are loaded and the feed is live; rejects with 503 after `timeoutMs` (10 s). */
  ready(options?: { timeoutMs?: number }): Promise<void>;
  health(): VerifierHealth;
  /** Stops the feed and any fetch. Verification fails with 503 afterwards. */
  close(): Promise<void>;
}

const DEFAULT_MAX_STALENESS = 30_000;
const PRUNE_INTERVAL = 60_000;

/**
 * Creates a verifier for a resource service. Misconfiguration throws a `TypeError` naming the
 * option, at once.
 *
 * @example
 * import { createVerifier, createSSERevocationFeed } from 'latchkey/verify';
 *
 * const verifier = createVerifier({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://auth.example.com',
 *   algorithms: ['EdDSA'],
 *   jwksUri: 'https://auth.example.com/.well-known/jwks.json',
 *   revocation: createSSERevocationFeed({ url: 'https://auth.example.com/v1/revocations' }),
 * });
 * await verifier.ready();
 * const principal = await verifier.authenticate({ method: req.method, headers: req.headers });
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4 Validating JWT access tokens
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1 Bearer tokens in the Authorization header
 */
export function createVerifier(options: VerifierOptions): Verifier {
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

  let remote: RemoteJWKS | null = null;
  let resolveKey: (kid: string) => VerificationKey | undefined;
  let staticKeyCount = 0;
  if (options.jwksUri !== undefined) {
    const url = checkURL(options.jwksUri, 'jwksUri', options.allowInsecureRequests === true);
    const jwks = createRemoteJWKS({
      url,
      clock,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...(options.allowInsecureRequests === undefined
        ? {}
        : { allowInsecureRequests: options.allowInsecureRequests }),
      ...options.jwks,
    });
    remote = jwks;
    resolveKey = (kid) => jwks.resolve(kid);
  } else {
    const keys = importStaticKeys(options.keys);
    staticKeyCount = keys.size;
    resolveKey = (kid) => keys.get(kid);
  }

  /**
   * The time the strict verifier last read, so that the revocation checks of the same request
   * reuse it; NaN from before each verification, in case it reads none.
   */
  let clockRead = Number.NaN;
  // Validates issuer, audience, algorithms, clockTolerance and cache (TypeErrors name them).
  const strict = createAccessTokenVerifier({
    issuer,
    audience,
    algorithms,
    keys: (kid) => resolveKey(kid),
    clock: () => (clockRead = clock()),
    ...(options.clockTolerance === undefined ? {} : { clockTolerance: options.clockTolerance }),
    ...(options.cache === undefined ? {} : { cache: options.cache }),
  });

  const list = createRevocationList();
  let status: RevocationFeedState['status'] | 'disabled' = revocation === false ? 'disabled' : 'connecting';
  /** The last moment the feed was known to be live; null before it first caught up. */
  let lastLiveAt: number | null = null;
  let lastContactAt: number | null = null;
  let lastEventAt: number | null = null;
  let lastFeedError: string | null = null;
  let lastPrune = clock();
  let closed = false;
  const liveWaiters = new Set<() => void>();

  if (revocation !== false) {
    revocation.start(
      (record: RevocationRecord) => {
        if (closed) return;
        list.apply(record);
        introspection?.revoke(record);
        const now = clock();
        lastEventAt = now;
        lastContactAt = now;
      },
      (state: RevocationFeedState) => {
        if (closed) return;
        const now = clock();
        if (state.status === 'live') {
          lastLiveAt = now;
          lastContactAt = now;
          for (const wake of liveWaiters) wake();
          liveWaiters.clear();
        } else if (status === 'live') {
          // It was live until now: staleness counts from here.
          lastLiveAt = now;
        }
        if (state.status === 'disconnected') lastFeedError = state.reason;
        status = state.status;
      },
    );
  }

  function isStale(now: number): boolean {
    if (revocation === false || status === 'live') return false;
    return lastLiveAt === null || now - lastLiveAt > maxStaleness;
  }

  /** Principals already made, per verified result (which the strict verifier's cache shares). */
  const principals: Record<'bearer' | 'cookie', WeakMap<VerifiedAccessToken, Principal>> = {
    bearer: new WeakMap(),
    cookie: new WeakMap(),
  };

  function toPrincipal(verified: VerifiedAccessToken, via: 'bearer' | 'cookie'): Principal {
    const made = principals[via].get(verified);
    if (made !== undefined) return made;
    const { claims } = verified;
    // Frozen, like the claims: the next request with the same token gets the same object.
    const principal: Principal = Object.freeze({
      sub: claims.sub,
      sid: claims.sid ?? null,
      scope: Object.freeze(
        claims.scope === undefined ? [] : claims.scope.split(' ').filter((s) => s.length > 0),
      ),
      roles: claims.roles ?? Object.freeze([]),
      clientId: claims.client_id ?? null,
      via,
      claims,
    });
    principals[via].set(verified, principal);
    return principal;
  }

  /** The principal of a verified token, unless the revocation list refuses it (or is stale). */
  function admit(verified: VerifiedAccessToken, via: 'bearer' | 'cookie'): Principal {
    if (revocation !== false) {
      const now = Number.isNaN(clockRead) ? clock() : clockRead;
      if (isStale(now) && onStale === 'fail-closed') {
        throw new LatchkeyError('store_unavailable', 'The revocation feed is stale', { retryAfter: 1 });
      }
      if (now - lastPrune >= PRUNE_INTERVAL) {
        lastPrune = now;
        list.prune(now);
      }
      const { claims } = verified;
      const match = list.isRevoked({ sid: claims.sid, sub: claims.sub, iat: claims.iat, jti: claims.jti });
      if (match !== null)
        throw new LatchkeyError('invalid_token', REVOKED[match], { detail: REVOKED[match] });
    }
    return toPrincipal(verified, via);
  }

  /**
   * Verifies a token and checks it against the revocation list: synchronously (returning the
   * principal, or throwing) when the keys are at hand, which is the usual case; otherwise a
   * promise. For a Bearer token, `authorization` is the header it was cut from (by
   * `bearerCandidate`, which does not look at the token's characters): its RFC 6750 syntax is
   * checked only when verification fails (or cannot start), because a token that verifies is
   * three base64url parts, which the syntax allows. A header that breaks the syntax is refused
   * as such, as before any verification; so a cache hit never scans the token.
   */
  function verifyToken(
    token: string,
    via: 'bearer' | 'cookie',
    authorization?: string,
  ): Principal | Promise<Principal> {
    if (closed) {
      if (authorization !== undefined) checkBearerSyntax(authorization);
      throw new LatchkeyError('store_unavailable', 'The verifier is closed', { retryAfter: 1 });
    }
    const pending = remote?.ensureFresh();
    if (pending !== undefined) {
      if (authorization !== undefined) checkBearerSyntax(authorization);
      return pending.then(() => verifyWithKeys(token, via));
    }
    return verifyWithKeys(token, via, authorization);
  }

  function verifyWithKeys(
    token: string,
    via: 'bearer' | 'cookie',
    authorization?: string,
  ): Principal | Promise<Principal> {
    let verified: VerifiedAccessToken;
    clockRead = Number.NaN;
    try {
      verified = strict.verify(token);
    } catch (error) {
      if (authorization !== undefined) checkBearerSyntax(authorization);
      // An unknown kid may be a key published since the last fetch: refetch once (cooldown permitting).
      if (remote === null || !isUnknownKid(error)) throw error;
      return remote.refreshForUnknownKid().then((refreshed) => {
        if (!refreshed) throw error;
        clockRead = Number.NaN;
        return admit(strict.verify(token), via);
      });
    }
    return admit(verified, via);
  }

  async function introspectSession(cache: IntrospectionCache, cookie: string): Promise<Principal> {
    if (closed) throw new LatchkeyError('store_unavailable', 'The verifier is closed', { retryAfter: 1 });
    // Without a live feed, a cached answer could miss a revocation: ask every time.
    const session = await cache.lookup(cookie, { useCache: revocation !== false && !isStale(clock()) });
    if (session === null) throw new LatchkeyError('unauthenticated');
    const claims: VerifiedAccessTokenClaims = Object.freeze({
      iss: issuer,
      aud: audience,
      sub: session.sub,
      sid: session.sid,
      iat: session.iat,
      exp: session.exp,
      jti: '',
      token_type: 'session',
    });
    return {
      sub: session.sub,
      sid: session.sid,
      scope: [],
      roles: [],
      clientId: null,
      via: 'cookie',
      claims,
    };
  }

  /**
   * A cookie-borne credential: the session cookie through introspection (always a promise), or
   * the hybrid access cookie, answered synchronously when the token can be (keys at hand).
   */
  function authenticateWithCookies(request: AuthenticateRequest): Principal | Promise<Principal> {
    const cookies = parseCookies(readHeader(request.headers, 'cookie'));
    const sessionCookie = introspection === null ? undefined : cookies.get(SESSION_COOKIE);
    if (sessionCookie !== undefined && introspection !== null) {
      return introspectSession(introspection, sessionCookie).then((principal) =>
        checkCookieRequest(request, principal),
      );
    }
    const cookie = cookies.get(cookieName);
    if (cookie === undefined) throw new LatchkeyError('unauthenticated');
    const outcome = verifyToken(cookie, 'cookie');
    return outcome instanceof Promise
      ? outcome.then((principal) => checkCookieRequest(request, principal))
      : checkCookieRequest(request, outcome);
  }

  /** What a request that authenticated with a cookie must also pass: CSRF on unsafe methods. */
  function checkCookieRequest(request: AuthenticateRequest, principal: Principal): Principal {
    if (isUnsafeMethod(request.method)) {
      if (readHeader(request.headers, 'sec-fetch-site')?.toLowerCase() === 'cross-site') {
        throw new LatchkeyError('cross_site_request', 'Cross-site requests with a cookie are refused');
      }
      if (csrfKey === null) {
        throw new LatchkeyError(
          'csrf_failed',
          'This service cannot check X-CSRF-Token; send the access token as a Bearer token',
        );
      }
      const csrf = readHeader(request.headers, CSRF_HEADER);
      if (principal.sid === null || !verifyCSRFToken(csrfKey, principal.sid, csrf)) {
        throw new LatchkeyError(
          'csrf_failed',
          csrf === undefined ? 'X-CSRF-Token is missing' : 'X-CSRF-Token is invalid',
        );
      }
    }
    return principal;
  }

  /** `authenticate`, answering synchronously when it can (a Bearer token, keys at hand). */
  function authenticateNow(request: AuthenticateRequest): Principal | Promise<Principal> {
    const authorization = readHeader(request.headers, 'authorization');
    if (authorization === undefined) return authenticateWithCookies(request);
    const token = bearerCandidate(authorization);
    if (token === null) throw notBearer();
    return verifyToken(token, 'bearer', authorization);
  }

  const verifier: Verifier = {
    verify(token) {
      try {
        return Promise.resolve(verifyToken(token, 'bearer'));
      } catch (error) {
        // What `async` would do with the throw, without its extra microtasks on success.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        return Promise.reject(error);
      }
    },
    authenticate(request) {
      try {
        return Promise.resolve(authenticateNow(request));
      } catch (error) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        return Promise.reject(error);
      }
    },
    async ready(readyOptions = {}) {
      const timeoutMs = readyOptions.timeoutMs ?? 10_000;
      const deadline = Date.now() + timeoutMs;
      let timer: NodeJS.Timeout | undefined;
      let wake: (() => void) | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(new LatchkeyError('store_unavailable', 'The verifier is not ready', { retryAfter: 1 }));
        }, timeoutMs);
      });
      try {
        const live =
          revocation === false || status === 'live'
            ? Promise.resolve()
            : new Promise<void>((resolve) => {
                wake = resolve;
                liveWaiters.add(resolve);
              });
        const keys = remote === null ? Promise.resolve() : loadKeys(remote, deadline);
        await Promise.race([Promise.all([live, keys]), timeout]);
      } finally {
        clearTimeout(timer);
        if (wake !== undefined) liveWaiters.delete(wake);
      }
    },
    health() {
      const now = clock();
      const jwks = remote?.health();
      return {
        jwks: {
          source: remote === null ? 'static' : 'remote',
          lastFetch: jwks?.lastFetch ?? null,
          keys: jwks?.keys ?? staticKeyCount,
          lastError: jwks?.lastError ?? null,
        },
        revocation: {
          enabled: revocation !== false,
          connected: status === 'live',
          status,
          lastEventAt,
          lag: lastContactAt === null ? null : now - lastContactAt,
          stale: isStale(now),
          lastSeq: list.lastSeq,
          entries: list.size,
          lastError: lastFeedError,
        },
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      remote?.close();
      liveWaiters.clear();
      strict.clearCache();
      introspection?.clear();
      if (revocation !== false) await revocation.close();
    },
  };
  immediateAuthenticators.set(verifier, authenticateNow);
  return verifier;
}

/** The synchronous-when-possible `authenticate` of each verifier `createVerifier` made. */
const immediateAuthenticators = new WeakMap<
  Verifier,
  (request: AuthenticateRequest) => Principal | Promise<Principal>
>();

/**
 * For the framework adapters: `verifier.authenticate`, except that it returns the principal
 * itself (or throws) when it can answer at once, as it does for a Bearer token once the keys are
 * loaded, and a promise only when it must wait (keys, introspection). Saves the promise and
 * the microtask hops of every request. Any other `Verifier` gets its own `authenticate`.
 *
 * @internal Not exported by `latchkey/verify`.
 */
export function immediateAuthenticator(
  verifier: Verifier,
): (request: AuthenticateRequest) => Principal | Promise<Principal> {
  return (
    immediateAuthenticators.get(verifier) ?? ((request) => Promise.resolve(verifier.authenticate(request)))
  );
}

const REVOKED: Record<RevocationMatch, string> = {
  session: 'The session has been revoked',
  user: "The user's sessions have been revoked",
  token: 'The token has been revoked',
};

/** Loads keys, retrying once a second (wall clock) until `deadline` while the JWKS cannot be fetched. */
async function loadKeys(remote: RemoteJWKS, deadline: number): Promise<void> {
  // Bounded by the deadline: one attempt per second at most.
  while (Date.now() < deadline) {
    try {
      await remote.ensureFresh();
      if (remote.health().lastFetch !== null) return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 1000).unref());
    }
  }
}

function isUnknownKid(error: unknown): boolean {
  return error instanceof LatchkeyError && error.code === 'invalid_token' && error.message === 'unknown kid';
}

/** The syntax of the header: RFC 6750 §2.1 `b64token`, with spaces around it tolerated. */
const BEARER = /^Bearer +[A-Za-z0-9\-._~+/]+=* *$/i;

function notBearer(): LatchkeyError {
  return new LatchkeyError('invalid_token', 'The Authorization header is not a Bearer token');
}

function checkBearerSyntax(header: string): void {
  if (!BEARER.test(header)) throw notBearer();
}

/**
 * What `BEARER` would capture as the token: after `Bearer` (in any case) and its spaces, up to
 * the trailing spaces; null when there is no such token. The characters are not checked here
 * (see `verifyToken`), so that a cache hit does not scan the token.
 */
function bearerCandidate(header: string): string | null {
  if (
    header.length < 8 ||
    (header.charCodeAt(0) | 0x20) !== 0x62 /* b */ ||
    (header.charCodeAt(1) | 0x20) !== 0x65 /* e */ ||
    (header.charCodeAt(2) | 0x20) !== 0x61 /* a */ ||
    (header.charCodeAt(3) | 0x20) !== 0x72 /* r */ ||
    (header.charCodeAt(4) | 0x20) !== 0x65 /* e */ ||
    (header.charCodeAt(5) | 0x20) !== 0x72 /* r */ ||
    header.charCodeAt(6) !== 0x20
  ) {
    return null;
  }
  let start = 7;
  let end = header.length;
  while (start < end && header.charCodeAt(start) === 0x20) start++;
  while (end > start && header.charCodeAt(end - 1) === 0x20) end--;
  return end > start ? header.slice(start, end) : null;
}

function readHeader(headers: AuthenticateRequest['headers'], name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Readonly<Record<string, string | readonly string[] | undefined>>)[name];
  if (typeof value === 'string') return value;
  return value?.[0];
}

function importStaticKeys(keys: unknown): Map<string, VerificationKey> {
  if (!Array.isArray(keys) || keys.length === 0)
    throw new TypeError('"keys" must be a non-empty array of JWKs');
  const map = new Map<string, VerificationKey>();
  keys.forEach((jwk: unknown, index) => {
    let key: VerificationKey;
    try {
      key = importPublicJWK(jwk);
    } catch (cause) {
      throw new TypeError(`"keys[${index}]": ${cause instanceof Error ? cause.message : 'invalid JWK'}`, {
        cause,
      });
    }
    if (map.has(key.kid)) throw new TypeError(`"keys[${index}]": duplicate kid`);
    map.set(key.kid, key);
  });
  return map;
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
