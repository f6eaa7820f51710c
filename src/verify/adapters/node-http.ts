/**
 * `node:http` adapter: one function per request that returns the caller, or answers the
 * failure itself and returns null.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticationFailure, checkRealm, type AuthenticationFailureOptions } from '../failure.js';
import type { AuthRequirement } from '../step-up.js';
import { immediateAuthenticator, type Principal, type Verifier } from '../verifier.js';

/**
 * Wraps `verifier.authenticate` for `node:http`. On failure it writes the problem+json
 * response (401 with a Bearer challenge, 403 CSRF, 503 stale) and resolves null.
 *
 * @example
 * const authenticate = latchkeyNodeHTTP(verifier, { realm: 'orders' });
 * createServer(async (req, res) => {
 *   const principal = await authenticate(req, res);
 *   if (principal === null) return;
 *   res.end(JSON.stringify({ hello: principal.sub }));
 * });
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function latchkeyNodeHTTP(
  verifier: Verifier,
  options: AuthenticationFailureOptions & AuthRequirement = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<Principal | null> {
  const realm = checkRealm(options.realm ?? 'latchkey');
  const authenticateNow = immediateAuthenticator(verifier, options);
  const fail = (error: unknown, res: ServerResponse): null => {
    const failure = authenticationFailure(error, { realm });
    if (!res.headersSent) res.writeHead(failure.status, failure.headers);
    res.end(JSON.stringify(failure.body));
    return null;
  };
  return (req, res) => {
    let outcome: Principal | Promise<Principal>;
    try {
      outcome = authenticateNow({ method: req.method ?? 'GET', headers: req.headers });
    } catch (error) {
      return Promise.resolve(error).then((reason) => fail(reason, res));
    }
    return outcome instanceof Promise
      ? outcome.catch((error: unknown) => fail(error, res))
      : Promise.resolve(outcome);
  };
}
