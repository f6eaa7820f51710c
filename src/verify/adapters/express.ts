/**
 * Express adapter: a middleware that authenticates every request it sees and sets
 * `req.principal`, or answers the failure.
 */

import type { RequestHandler } from 'express';
import { authenticationFailure, checkRealm, type AuthenticationFailureOptions } from '../failure.js';
import type { Principal, Verifier } from '../verifier.js';

declare global {
  // Express declares its request type in this global namespace; augmenting it is the documented way.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by the Latchkey middleware for every request it let through. */
      principal?: Principal;
    }
  }
}

/**
 * Express middleware over `verifier.authenticate`. On success it sets `req.principal` (and
 * `res.locals.principal`) and calls `next()`; on failure it answers problem+json (401 with a
 * Bearer challenge, 403 CSRF, 503 stale) and does not call `next()`. Errors that are not
 * authentication failures (a bug) go to `next(error)`.
 *
 * @example
 * const app = express();
 * app.use('/orders', latchkeyExpress(verifier, { realm: 'orders' }));
 * app.get('/orders', (req, res) => res.json({ user: req.principal?.sub }));
 * @see https://expressjs.com/en/guide/writing-middleware.html
 */
export function latchkeyExpress(
  verifier: Verifier,
  options: AuthenticationFailureOptions = {},
): RequestHandler {
  const realm = checkRealm(options.realm ?? 'latchkey');
  return (req, res, next) => {
    verifier.authenticate({ method: req.method, headers: req.headers }).then(
      (principal) => {
        req.principal = principal;
        res.locals.principal = principal;
        next();
      },
      (error: unknown) => {
        const failure = authenticationFailure(error, { realm });
        if (failure.status === 500) {
          next(error);
          return;
        }
        res.status(failure.status).set(failure.headers).send(JSON.stringify(failure.body));
      },
    );
  };
}
