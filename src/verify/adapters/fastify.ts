/**
 * Fastify adapter: a plugin that decorates `request.principal` and the instance with an
 * `authenticate` hook, to use per route (`onRequest: app.authenticate`) or, with
 * `{ global: true }`, on every route.
 */

import type {
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import { authenticationFailure, checkRealm, type AuthenticationFailureOptions } from '../failure.js';
import type { AuthRequirement } from '../step-up.js';
import { immediateAuthenticator, type Principal, type Verifier } from '../verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, once `authenticate` ran; null before (or on routes without it). */
    principal: Principal | null;
  }
  interface FastifyInstance {
    /**
     * Authenticates the request into `request.principal`, or answers the failure. As a hook
     * (`onRequest: app.authenticate`) Fastify passes `done`, and a request whose answer is known
     * at once (a Bearer token, keys loaded) goes on synchronously; called with two arguments,
     * it returns a promise.
     */
    authenticate: {
      (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void;
      (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
    };
    /**
     * A hook for a step-up route (RFC 9470): authenticates like `authenticate`, then refuses a
     * caller whose authentication does not meet `requirement` (`acr`, `maxAge`) with 401
     * `insufficient_user_authentication` and its challenge.
     *
     * @example
     * app.post('/payments', { onRequest: app.requireAuth({ acr: 'mfa', maxAge: '10m' }) }, pay);
     */
    requireAuth(
      requirement: AuthRequirement,
    ): (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;
  }
}

export interface LatchkeyFastifyOptions extends AuthenticationFailureOptions {
  verifier: Verifier;
  /** Authenticate every route of the instance (an `onRequest` hook). Default false. */
  global?: boolean;
}

function plugin(app: FastifyInstance, options: LatchkeyFastifyOptions, done: (error?: Error) => void): void {
  const { verifier } = options;
  if (typeof verifier !== 'object' || verifier === null || typeof verifier.authenticate !== 'function') {
    done(new TypeError('"verifier" must be a Verifier (createVerifier)'));
    return;
  }
  const realm = checkRealm(options.realm ?? 'latchkey');
  const authenticateNow = immediateAuthenticator(verifier);

  /** Answers a failure; rethrows what is not an authentication failure (a bug: a 500). */
  function answer(error: unknown, reply: FastifyReply): FastifyReply {
    const failure = authenticationFailure(error, { realm });
    if (failure.status === 500) throw error;
    return reply.code(failure.status).headers(failure.headers).send(failure.body);
  }

  async function authenticateAsync(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply | undefined> {
    try {
      request.principal = await authenticateNow(request);
      return undefined;
    } catch (error) {
      return answer(error, reply);
    }
  }

  // A hook in callback style: no promise, and no microtask, for a request answered at once.
  function fail(error: unknown, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    try {
      answer(error, reply);
    } catch (unexpected) {
      done(unexpected as Error);
    }
  }

  /** The `onRequest` hook over one way to authenticate (with or without a step-up requirement). */
  const hookOf =
    (authenticateWith: typeof authenticateNow) =>
    (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
      let outcome: Principal | Promise<Principal>;
      try {
        outcome = authenticateWith(request);
      } catch (error) {
        fail(error, reply, done);
        return;
      }
      if (outcome instanceof Promise) {
        outcome.then(
          (principal) => {
            request.principal = principal;
            done();
          },
          (error: unknown) => fail(error, reply, done),
        );
        return;
      }
      request.principal = outcome;
      done();
    };
  const hook = hookOf(authenticateNow);

  function authenticate(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void;
  function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
  function authenticate(
    request: FastifyRequest,
    reply: FastifyReply,
    done?: HookHandlerDoneFunction,
  ): Promise<FastifyReply | undefined> | undefined {
    if (done === undefined) return authenticateAsync(request, reply);
    hook(request, reply, done);
    return undefined;
  }

  app.decorateRequest('principal', null);
  app.decorate('authenticate', authenticate);
  app.decorate('requireAuth', (requirement: AuthRequirement) =>
    hookOf(immediateAuthenticator(verifier, requirement)),
  );
  if (options.global === true) app.addHook('onRequest', hook);
  done();
}

/**
 * The Fastify plugin. It is not encapsulated (like `fastify-plugin`), so the decorators are
 * visible to the routes of the instance that registers it.
 *
 * @example
 * await app.register(latchkeyFastify, { verifier, realm: 'orders' });
 * app.get('/orders', { onRequest: app.authenticate }, async (request) => ({ user: request.principal?.sub }));
 * @see https://fastify.dev/docs/latest/Reference/Plugins/#handle-the-scope
 */
export const latchkeyFastify: FastifyPluginCallback<LatchkeyFastifyOptions> = Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'latchkey-verify',
});
