/**
 * The resource-service verifier: checks a caller without asking the auth server.
 *
 * Signatures and claims go through the same strict verifier the server uses
 * (`createAccessTokenVerifier`), with keys from a remote JWKS or a static list; revocations
 * are pushed by a `RevocationFeed` into an in-memory `RevocationList`, so a revoked session is
 * refused within milliseconds, with no call per request. When the feed has been down for
 * longer than `maxStaleness`, verification fails closed (503) unless told otherwise.
 *
 * This module makes the `Verifier` and holds its lifecycle (`ready`, `health`, `close`); the
 * work is done in one module per concept:
 * - `verifier-types.ts`: the options, the principal, the health report, the interface;
 * - `verifier-options.ts`: the options' validation;
 * - `verifier-keys.ts`: the remote JWK Set or the static keys;
 * - `verifier-revocation.ts`: the revocation list, the feed's state and staleness;
 * - `verifier-authenticate.ts`: the per-request path, from a request to a principal;
 * - `verifier-request.ts`: headers, Bearer syntax, cookies and CSRF;
 * - `verifier-principal.ts`: the principal of a token or of a session.
 */

import type { Clock } from '../clock.js';
import { LatchkeyError } from '../errors.js';
import { requireAuth, type AuthRequirement } from './step-up.js';
import { createAuthentication } from './verifier-authenticate.js';
import { createKeySource, loadKeys } from './verifier-keys.js';
import { readVerifierOptions } from './verifier-options.js';
import type { AuthenticateRequest, Principal, Verifier, VerifierOptions } from './verifier-types.js';

export { ACCESS_COOKIE, SESSION_COOKIE } from './verifier-request.js';
export type {
  AuthenticateRequest,
  Principal,
  Verifier,
  VerifierHealth,
  VerifierOptions,
} from './verifier-types.js';

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
  const settings = readVerifierOptions(options);
  const { revocation, clock, introspection } = settings;
  const keySource = createKeySource(options, clock);
  const { remote, staticKeyCount } = keySource;
  const authentication = createAuthentication(settings, keySource, options);
  const { verifyToken, authenticateNow, strict, revocations } = authentication;
  let closed = false;

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
        const live = revocations.isLive()
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              wake = resolve;
              revocations.liveWaiters.add(resolve);
            });
        const keys = remote === null ? Promise.resolve() : loadKeys(remote, deadline);
        await Promise.race([Promise.all([live, keys]), timeout]);
      } finally {
        clearTimeout(timer);
        if (wake !== undefined) revocations.liveWaiters.delete(wake);
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
        revocation: revocations.health(now),
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      authentication.close();
      remote?.close();
      revocations.close();
      strict.clearCache();
      introspection?.clear();
      if (revocation !== false) await revocation.close();
    },
  };
  immediateAuthenticators.set(verifier, authenticateNow);
  verifierClocks.set(verifier, clock);
  return verifier;
}

/** The clock of each verifier `createVerifier` made, for the adapters' step-up checks. */
const verifierClocks = new WeakMap<Verifier, Clock>();

/** The synchronous-when-possible `authenticate` of each verifier `createVerifier` made. */
const immediateAuthenticators = new WeakMap<
  Verifier,
  (request: AuthenticateRequest) => Principal | Promise<Principal>
>();

/**
 * For the framework adapters: `verifier.authenticate`, except that it returns the principal
 * itself (or throws) when it can answer at once, as it does for a Bearer token once the keys are
 * loaded, and a promise only when it must wait (keys, introspection). Saves the promise and
 * the microtask hops of every request. Any other `Verifier` gets its own `authenticate`. With a
 * `requirement` (`acr`, `maxAge`), the principal must also pass `requireAuth` (step-up).
 *
 * @internal Not exported by `latchkey/verify`.
 */
export function immediateAuthenticator(
  verifier: Verifier,
  requirement: AuthRequirement = {},
): (request: AuthenticateRequest) => Principal | Promise<Principal> {
  const authenticate =
    immediateAuthenticators.get(verifier) ?? ((request) => Promise.resolve(verifier.authenticate(request)));
  if (requirement.acr === undefined && requirement.maxAge === undefined) return authenticate;
  // A step-up route (RFC 9470): the caller, then what the route demands of their authentication.
  const check = requireAuth(requirement, { clock: verifierClocks.get(verifier) ?? Date.now });
  return (request) => {
    const outcome = authenticate(request);
    return outcome instanceof Promise ? outcome.then(check) : check(outcome);
  };
}
