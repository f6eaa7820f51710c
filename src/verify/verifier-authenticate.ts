/**
 * The per-request path of the resource-service verifier: from a request (or a token) to a
 * principal. Verifies with the same strict verifier the server uses, checks the revocation
 * list, and answers synchronously whenever it can (keys at hand): no promise, no microtask.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4 Validating JWT access tokens
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1 Bearer tokens in the Authorization header
 */

import { parseCookies } from '../cookies/cookies.js';
import { LatchkeyError } from '../errors.js';
import {
  createAccessTokenVerifier,
  type AccessTokenVerifier,
  type VerifiedAccessToken,
} from '../token/jwt.js';
import type { IntrospectionCache } from './introspection.js';
import { isUnknownKid, type KeySource } from './verifier-keys.js';
import type { VerifierSettings } from './verifier-options.js';
import { createPrincipalCache, sessionPrincipal } from './verifier-principal.js';
import {
  bearerCandidate,
  checkBearerSyntax,
  checkCookieRequest,
  notBearer,
  readHeader,
  SESSION_COOKIE,
} from './verifier-request.js';
import { createRevocationTracker, type RevocationTracker } from './verifier-revocation.js';
import type { AuthenticateRequest, Principal, VerifierOptions } from './verifier-types.js';

/**
 * The request path of one verifier, as `createVerifier` wires it into the `Verifier`.
 *
 * @example
 * const { authenticateNow } = createAuthentication(settings, keys, options);
 * const principal = await authenticateNow({ method: 'GET', headers: { authorization } });
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export interface Authentication {
  /**
   * Verifies a token and checks it against the revocation list; the principal itself when the
   * keys are at hand, else a promise. `authorization` is the header a Bearer token was cut from.
   */
  readonly verifyToken: (
    token: string,
    via: 'bearer' | 'cookie',
    authorization?: string,
  ) => Principal | Promise<Principal>;
  /** `authenticate`, answering synchronously when it can (a Bearer token, keys at hand). */
  readonly authenticateNow: (request: AuthenticateRequest) => Principal | Promise<Principal>;
  /** The strict verifier (its cache is emptied on close). */
  readonly strict: AccessTokenVerifier;
  /** The revocation state, its feed started. */
  readonly revocations: RevocationTracker;
  /** From now on every verification fails with 503. */
  close(): void;
}

/**
 * Creates the strict verifier, then the revocation state (which starts the feed, so only once
 * the strict verifier's options passed), and the request path over them.
 *
 * @example
 * const settings = readVerifierOptions(options);
 * const authentication = createAuthentication(settings, createKeySource(options, settings.clock), options);
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
export function createAuthentication(
  settings: VerifierSettings,
  keys: KeySource,
  options: VerifierOptions,
): Authentication {
  const { issuer, audience, algorithms, revocation, clock, introspection } = settings;
  const { remote } = keys;
  const resolveKey = keys.resolve;
  let closed = false;

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

  const revocations = createRevocationTracker({
    revocation,
    clock,
    maxStaleness: settings.maxStaleness,
    onStale: settings.onStale,
    introspection,
  });
  const toPrincipal = createPrincipalCache();

  /** The principal of a verified token, unless the revocation list refuses it (or is stale). */
  function admit(verified: VerifiedAccessToken, via: 'bearer' | 'cookie'): Principal {
    if (revocation !== false) {
      revocations.check(verified.claims, Number.isNaN(clockRead) ? clock() : clockRead);
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

  const authenticateWithCookies = createCookieAuthentication(settings, {
    revocations,
    verifyToken,
    isClosed: () => closed,
  });

  /** `authenticate`, answering synchronously when it can (a Bearer token, keys at hand). */
  function authenticateNow(request: AuthenticateRequest): Principal | Promise<Principal> {
    const authorization = readHeader(request.headers, 'authorization');
    if (authorization === undefined) return authenticateWithCookies(request);
    const token = bearerCandidate(authorization);
    if (token === null) throw notBearer();
    return verifyToken(token, 'bearer', authorization);
  }

  return {
    verifyToken,
    authenticateNow,
    strict,
    revocations,
    close(): void {
      closed = true;
    },
  };
}

/**
 * A cookie-borne credential: the session cookie through introspection (always a promise), or
 * the hybrid access cookie, answered synchronously when the token can be (keys at hand). Either
 * way an unsafe method needs the CSRF token (`checkCookieRequest`).
 */
function createCookieAuthentication(
  settings: VerifierSettings,
  path: {
    revocations: RevocationTracker;
    verifyToken: Authentication['verifyToken'];
    isClosed: () => boolean;
  },
): (request: AuthenticateRequest) => Principal | Promise<Principal> {
  const { issuer, audience, revocation, clock, cookieName, csrfKey, introspection } = settings;
  const { revocations, verifyToken, isClosed } = path;

  async function introspectSession(cache: IntrospectionCache, cookie: string): Promise<Principal> {
    if (isClosed()) throw new LatchkeyError('store_unavailable', 'The verifier is closed', { retryAfter: 1 });
    // Without a live feed, a cached answer could miss a revocation: ask every time.
    const session = await cache.lookup(cookie, {
      useCache: revocation !== false && !revocations.isStale(clock()),
    });
    if (session === null) throw new LatchkeyError('unauthenticated');
    return sessionPrincipal(session, issuer, audience);
  }

  return function authenticateWithCookies(request) {
    const cookies = parseCookies(readHeader(request.headers, 'cookie'));
    const sessionCookie = introspection === null ? undefined : cookies.get(SESSION_COOKIE);
    if (sessionCookie !== undefined && introspection !== null) {
      return introspectSession(introspection, sessionCookie).then((principal) =>
        checkCookieRequest(request, principal, csrfKey),
      );
    }
    const cookie = cookies.get(cookieName);
    if (cookie === undefined) throw new LatchkeyError('unauthenticated');
    const outcome = verifyToken(cookie, 'cookie');
    return outcome instanceof Promise
      ? outcome.then((principal) => checkCookieRequest(request, principal, csrfKey))
      : checkCookieRequest(request, outcome, csrfKey);
  };
}
