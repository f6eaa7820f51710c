/**
 * Express adapter: a middleware that authenticates every request it sees and sets
 * `req.principal`, or answers the failure.
 */

import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { authenticationFailure, checkRealm, type AuthenticationFailureOptions } from '../failure.js';
import type { AuthRequirement } from '../step-up.js';
import { immediateAuthenticator, type Principal, type Verifier } from '../verifier.js';

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
  options: AuthenticationFailureOptions & AuthRequirement = {},
): RequestHandler {
  const realm = checkRealm(options.realm ?? 'latchkey');
  const authenticateNow = immediateAuthenticator(verifier, options);
  const fail = (error: unknown, res: Response, next: NextFunction): void => {
    const failure = authenticationFailure(error, { realm });
    if (failure.status === 500) {
      next(error);
      return;
    }
    res.status(failure.status).set(failure.headers).send(JSON.stringify(failure.body));
  };
  const succeed = (principal: Principal, req: Request, res: Response, next: NextFunction): void => {
    req.principal = principal;
    res.locals.principal = principal;
    next();
  };
  return (req, res, next) => {
    let outcome: Principal | Promise<Principal>;
    try {
      outcome = authenticateNow({ method: req.method, headers: req.headers });
    } catch (error) {
      fail(error, res, next);
      return;
    }
    // Answered at once (a Bearer token, keys loaded): go on without a promise.
    if (!(outcome instanceof Promise)) {
      succeed(outcome, req, res, next);
      return;
    }
    outcome.then(
      (principal) => succeed(principal, req, res, next),
      (error: unknown) => fail(error, res, next),
    );
  };
}
