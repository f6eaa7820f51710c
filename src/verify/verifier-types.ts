/**
 * The public contract of the resource-service verifier (`latchkey/verify`): its options, the
 * principal it returns, the request it reads, its health report and its interface.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4 Validating JWT access tokens
 */

import type { Clock } from '../clock.js';
import type { KeyAlgorithm } from '../records.js';
import type { VerifiedAccessTokenClaims } from '../token/jwt.js';
import type { RevocationFeed, RevocationFeedState } from './feed.js';
import type { IntrospectionOptions } from './introspection.js';

/**
 * The options of `createVerifier`. Misconfiguration throws a `TypeError` naming the option.
 *
 * @example
 * const options: VerifierOptions = {
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://auth.example.com',
 *   algorithms: ['EdDSA'],
 *   jwksUri: 'https://auth.example.com/.well-known/jwks.json',
 *   revocation: createSSERevocationFeed({ url: 'https://auth.example.com/v1/revocations' }),
 * };
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
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
  /** How the user authenticated (RFC 8176 `amr`: `pwd`, `otp`, `hwk`, `swk`, `email`, `mfa`). */
  readonly amr: readonly string[];
  /** The assurance level (`1` or `mfa`); null when the token has none (a machine client). */
  readonly acr: string | null;
  /** When the user authenticated, seconds since the epoch; null when unknown. */
  readonly authTime: number | null;
  /** Every verified claim. */
  readonly claims: VerifiedAccessTokenClaims;
}

/** The parts of an HTTP request `authenticate` reads: node's, Express's, Fastify's or fetch's. */
export interface AuthenticateRequest {
  readonly method: string;
  readonly headers: Headers | Readonly<Record<string, string | readonly string[] | undefined>>;
}

/**
 * What `verifier.health()` reports: where the keys come from and how the revocation feed is.
 *
 * @example
 * const { revocation } = verifier.health();
 * if (revocation.stale) log.warn({ lag: revocation.lag }, 'revocation feed is stale');
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5 JWK Set
 */
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

/**
 * A resource service's verifier, made by `createVerifier`.
 *
 * @example
 * await verifier.ready();
 * const principal = await verifier.authenticate({ method: req.method, headers: req.headers });
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1 Bearer tokens in the Authorization header
 */
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
