/**
 * Fastify adapter: a plugin that decorates `request.principal` and the instance with an
 * `authenticate` hook, to use per route (`onRequest: app.authenticate`) or, with
 * `{ global: true }`, on every route.
 */

import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { authenticationFailure, checkRealm, type AuthenticationFailureOptions } from '../failure.js';
import type { Principal, Verifier } from '../verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, once `authenticate` ran; null before (or on routes without it). */
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** Authenticates the request into `request.principal`, or answers the failure. */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;
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
  async function authenticate(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply | undefined> {
    try {
      request.principal = await verifier.authenticate(request);
      return undefined;
    } catch (error) {
      const failure = authenticationFailure(error, { realm });
      if (failure.status === 500) throw error;
      return reply.code(failure.status).headers(failure.headers).send(failure.body);
    }
  }
  app.decorateRequest('principal', null);
  app.decorate('authenticate', authenticate);
  if (options.global === true) app.addHook('onRequest', authenticate);
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
