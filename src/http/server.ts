import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Latchkey } from '../app/latchkey.js';
import { parseCookies } from '../cookies/cookies.js';
import { checkRequestOrigin, isUnsafeMethod } from '../csrf/csrf.js';
import { LatchkeyError } from '../errors.js';
import { PROBLEM_CONTENT_TYPE, toLatchkeyError, toProblem } from '../problem.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerRecoveryRoutes } from './routes/recovery.js';
import { registerSessionRoutes } from './routes/sessions.js';
import { registerWellKnownRoutes } from './routes/well-known.js';
import { registerRevocationRoutes, type RevocationRoutesOptions } from './routes/revocations.js';
import { authenticateClientBasic, registerOAuthRoutes } from './routes/oauth.js';
import { cookieNames } from './auth-cookies.js';
import { BearerError } from './authenticate.js';
import { registerCORS } from './cors.js';
import { errorHandler } from './error-handler.js';
import { parseJSONBody } from './json-body.js';

export const BODY_LIMIT = 16 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    cookies: Map<string, string>;
    /** The parsed Cookie header, once `cookies` was read (internal). */
    parsedCookies: Map<string, string> | null;
  }
}

/**
 * A refusal sets no cookie: of the `Set-Cookie` headers a 4xx or 5xx would carry, only those
 * that clear a cookie the refusal invalidated (`Max-Age=0`) are kept.
 */
function keepOnlyClearingCookies(reply: FastifyReply): void {
  const header = reply.getHeader('set-cookie');
  if (header === undefined) return;
  const cookies = (Array.isArray(header) ? header : [String(header)]).filter((cookie) =>
    /;\s*Max-Age=0(;|$)/i.test(cookie),
  );
  // Fastify appends to `set-cookie` rather than replacing it: remove, then set what is kept.
  void reply.removeHeader('set-cookie');
  if (cookies.length > 0) void reply.header('set-cookie', cookies);
}

/** Sends a problem+json response for any error; the single place where errors meet HTTP. */
export function sendProblem(
  reply: FastifyReply,
  error: LatchkeyError,
  options: { bearer?: boolean } = {},
): FastifyReply {
  const problem = toProblem(error);
  if (error.retryAfter !== undefined) void reply.header('retry-after', String(error.retryAfter));
  if (error.status === 401) {
    const bearer = error.code === 'invalid_token' || options.bearer === true || error instanceof BearerError;
    const bearerError = bearer ? ', error="invalid_token"' : '';
    void reply.header('www-authenticate', `Bearer realm="latchkey"${bearerError}`);
  }
  return reply.code(error.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

export interface HTTPServerOptions {
  /**
   * Options of the revocation feed (`GET /v1/revocations`). By default the feed and its
   * snapshot require an enabled machine client (HTTP Basic, any scope); pass `authorize` to
   * decide otherwise (`() => true` opens the feed).
   */
  revocationFeed?: RevocationRoutesOptions;
}

/** Builds the Fastify server of a Latchkey instance. Nothing listens until `listen()`. */
export function createHTTPServer(latchkey: Latchkey, options: HTTPServerOptions = {}): FastifyInstance {
  const { config, logger } = latchkey;
  const names = cookieNames(config.insecureCookies);
  const app = Fastify({
    // pino's Logger is wider than FastifyBaseLogger; without the cast the instance type leaks it.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    routerOptions: { maxParamLength: 200 },
  });

  // Parsed once per request, on first use (a request may look up several cookies). The slot is
  // declared up front so that every request object keeps one shape.
  app.decorateRequest('parsedCookies', null);
  app.decorateRequest('cookies', {
    getter(this: FastifyRequest) {
      return (this.parsedCookies ??= parseCookies(this.headers.cookie));
    },
  } as never);

  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT },
    (_request, body, done) => {
      try {
        done(null, parseJSONBody(body as string));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );

  app.setErrorHandler(errorHandler(sendProblem));
  app.setNotFoundHandler((_request, reply) => sendProblem(reply, new LatchkeyError('not_found')));

  app.addHook('onSend', (request, reply, payload, done) => {
    if (reply.statusCode >= 400) keepOnlyClearingCookies(reply);
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'no-referrer');
    void reply.header('x-frame-options', 'DENY');
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    if (request.url.startsWith('/v1') || request.url.startsWith('/oauth')) {
      void reply.header('cache-control', 'no-store');
      void reply.header('pragma', 'no-cache');
    }
    done(null, payload);
  });

  registerCORS(app, { allowedOrigins: config.allowedOrigins });

  // Refuse cross-site unsafe requests before any work is done (CSRF defence in depth, login CSRF).
  const ownOrigin = new URL(config.issuer).origin;
  app.addHook('onRequest', (request, reply, done) => {
    if (isUnsafeMethod(request.method)) {
      const verdict = checkRequestOrigin(
        {
          origin: request.headers.origin,
          secFetchSite: request.headers['sec-fetch-site'],
          referer: request.headers.referer,
        },
        { ownOrigin, allowedOrigins: config.allowedOrigins },
      );
      if (!verdict.allowed) {
        request.log.warn(
          { event: 'csrf.cross_site', reason: verdict.reason, ip: request.ip, method: request.method },
          'cross-site request refused',
        );
        void sendProblem(reply, new LatchkeyError('cross_site_request', verdict.reason));
        return;
      }
    }
    done();
  });

  app.get('/healthz', async (_request, reply) => {
    try {
      await latchkey.store.ping();
      return await reply.send({ status: 'ok', store: latchkey.store.kind });
    } catch (error) {
      return sendProblem(reply, toLatchkeyError(error));
    }
  });

  registerAuthRoutes(app, latchkey, names);
  registerRecoveryRoutes(app, latchkey, names);
  registerSessionRoutes(app, latchkey, names);
  registerWellKnownRoutes(app, latchkey);
  const { clients } = latchkey;
  registerOAuthRoutes(app, latchkey, clients);
  registerRevocationRoutes(app, latchkey, {
    authorize: async (request) => {
      try {
        await authenticateClientBasic(request, clients);
        return true;
      } catch (error) {
        if (error instanceof LatchkeyError && error.code === 'invalid_client') return false;
        throw error;
      }
    },
    ...options.revocationFeed,
  });
  return app;
}
