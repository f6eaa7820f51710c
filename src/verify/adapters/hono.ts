/**
 * Hono adapter: a middleware that sets `c.get('principal')`, or answers the failure.
 */

import type { MiddlewareHandler } from 'hono';
import { authenticationFailure, checkRealm, type AuthenticationFailureOptions } from '../failure.js';
import type { AuthRequirement } from '../step-up.js';
import { immediateAuthenticator, type Principal, type Verifier } from '../verifier.js';

/** The Hono environment the middleware provides: `c.get('principal')`. */
export interface LatchkeyHonoEnv {
  Variables: { principal: Principal };
}

/**
 * Hono middleware over `verifier.authenticate`. On failure it returns the problem+json
 * response (401 with a Bearer challenge, 403 CSRF, 503 stale) without calling `next()`.
 *
 * @example
 * const app = new Hono<LatchkeyHonoEnv>();
 * app.use('/orders/*', latchkeyHono(verifier, { realm: 'orders' }));
 * app.get('/orders', (c) => c.json({ user: c.get('principal').sub }));
 * @see https://hono.dev/docs/guides/middleware
 */
export function latchkeyHono(
  verifier: Verifier,
  options: AuthenticationFailureOptions & AuthRequirement = {},
): MiddlewareHandler<LatchkeyHonoEnv> {
  const realm = checkRealm(options.realm ?? 'latchkey');
  const authenticateNow = immediateAuthenticator(verifier, options);
  return async (c, next) => {
    let principal: Principal;
    try {
      const outcome = authenticateNow({ method: c.req.method, headers: c.req.raw.headers });
      principal = outcome instanceof Promise ? await outcome : outcome;
    } catch (error) {
      const failure = authenticationFailure(error, { realm });
      if (failure.status === 500) throw error;
      return new Response(JSON.stringify(failure.body), { status: failure.status, headers: failure.headers });
    }
    c.set('principal', principal);
    await next();
    return undefined;
  };
}
