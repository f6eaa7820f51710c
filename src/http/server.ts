import Fastify, {
  LogController,
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
import { registerMFARoutes } from './routes/mfa.js';
import { registerPasskeyRoutes } from './routes/passkeys.js';
import { registerPasskeySignupRoutes } from './routes/passkey-signup.js';
import { registerWellKnownRoutes } from './routes/well-known.js';
import { registerRevocationRoutes, type RevocationRoutesOptions } from './routes/revocations.js';
import { registerSDKRoutes } from './routes/sdk.js';
import { registerAdminOperationRoutes } from './routes/admin-operations.js';
import { registerAdminUserRoutes } from './routes/admin-users.js';
import { authenticateClientBasic, registerOAuthRoutes } from './routes/oauth.js';
import { cookieNames } from './auth-cookies.js';
import { BearerError, serverTiming } from './authenticate.js';
import { createCORS } from './cors.js';
import { errorHandler } from './error-handler.js';
import { parseJSONBody } from './json-body.js';
import { registerPages } from './pages/index.js';
import { registerRequestLog } from './request-log.js';
import { useLazyRequestLoggers } from './request-logger.js';
import { registerHTTPMetrics } from './metrics.js';
import { registerOpenAPI } from './openapi/document.js';
import { PUBLIC, json, problems } from './openapi/route-schema.js';
import type { HTTPRecorder } from '../metrics/http.js';

export const BODY_LIMIT = 16 * 1024;

const HEALTH_SCHEMA = {
  tags: ['Discovery'],
  summary: 'Health',
  description: 'Answers 200 when the store answers a ping; for load balancers and orchestrators.',
  security: PUBLIC,
  response: {
    200: json(
      {
        type: 'object',
        additionalProperties: false,
        required: ['status', 'store'],
        properties: {
          status: { type: 'string', enum: ['ok'] },
          store: { type: 'string', examples: ['postgres'] },
        },
      },
      'The server and its store are up.',
    ),
    ...problems(503),
  },
};

declare module 'fastify' {
  interface FastifyRequest {
    cookies: Map<string, string>;
    /** The parsed Cookie header, once `cookies` was read (internal). */
    parsedCookies: Map<string, string> | null;
    /** How long `authenticateRequest` took (ms), once it succeeded: the `Server-Timing` header. */
    authDuration: number | null;
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

/** The API and OAuth endpoints: never cached, by any cache (`pragma` for HTTP/1.0 ones). */
function isPrivatePath(url: string): boolean {
  return url.startsWith('/v1') || url.startsWith('/oauth');
}

/** The security headers of every response, and `no-store` (a route may set its own caching). */
function setResponseHeaders(reply: FastifyReply, privatePath: boolean): void {
  void reply.header('x-content-type-options', 'nosniff');
  void reply.header('referrer-policy', 'no-referrer');
  void reply.header('x-frame-options', 'DENY');
  void reply.header('cache-control', 'no-store');
  if (privatePath) void reply.header('pragma', 'no-cache');
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
  /** Records each request (`src/metrics/`); absent when metrics are off. */
  metrics?: HTTPRecorder | undefined;
}

/**
 * The request slots every request object has from the start (one shape for V8): the cookies,
 * parsed once on first use (a request may look up several), and the auth step's duration.
 */
function decorateRequests(app: FastifyInstance): void {
  app.decorateRequest('parsedCookies', null);
  app.decorateRequest('authDuration', null);
  app.decorateRequest('cookies', {
    getter(this: FastifyRequest) {
      return (this.parsedCookies ??= parseCookies(this.headers.cookie));
    },
  } as never);
}

/** JSON bodies only, through the strict parser (`./json-body.ts`); text/plain is refused. */
function parseJSONBodies(app: FastifyInstance): void {
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
}

/** Builds the Fastify server of a Latchkey instance. Nothing listens until `listen()`. */
export function createHTTPServer(latchkey: Latchkey, options: HTTPServerOptions = {}): FastifyInstance {
  const { config, logger } = latchkey;
  const names = cookieNames(config.insecureCookies);
  const app = Fastify({
    // pino's Logger is wider than FastifyBaseLogger; without the cast the instance type leaks it.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: logger as FastifyBaseLogger,
    // Fastify's two lines per request are off: `registerRequestLog` writes one, at `debug`.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    routerOptions: { maxParamLength: 200 },
  });

  useLazyRequestLoggers(app);
  decorateRequests(app);
  parseJSONBodies(app);

  // Before any route: it records every route, and documents those added once it has loaded.
  registerOpenAPI(app, config, names);
  registerRequestLog(app, logger);
  app.setErrorHandler(errorHandler(sendProblem));
  // The sign-in and account pages (LATCHKEY_PAGES); a browser asking for an unknown page gets theirs.
  const pages = config.pages.enabled ? registerPages(app, latchkey, names) : null;
  app.setNotFoundHandler(
    (request, reply) => pages?.notFound(request, reply) ?? sendProblem(reply, new LatchkeyError('not_found')),
  );

  // Every response carries these; a route may replace `cache-control` (the discovery documents
  // do), except under /v1 and /oauth. Set when the request arrives, so that a response costs no
  // `onSend` work unless it is an error.
  const cors = createCORS({ allowedOrigins: config.allowedOrigins });
  const ownOrigin = new URL(config.issuer).origin;
  app.addHook('onRequest', (request, reply, done) => {
    setResponseHeaders(reply, isPrivatePath(request.url));
    if (cors(request, reply)) return; // a preflight, answered
    // Refuse cross-site unsafe requests before any work is done (CSRF defence in depth, login CSRF).
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

  app.addHook('onSend', (request, reply, payload, done) => {
    if (reply.statusCode >= 400) {
      keepOnlyClearingCookies(reply);
      // An error answered before the onRequest hook ran (a malformed URL) gets the headers too.
      if (!reply.hasHeader('x-content-type-options')) setResponseHeaders(reply, isPrivatePath(request.url));
    } else if (request.authDuration !== null) {
      void reply.header('server-timing', serverTiming(request.authDuration));
    }
    done(null, payload);
  });

  // The routes are added when this plugin loads, after `@fastify/swagger` has (so it sees them);
  // `skip-override` keeps them in the root context, as if they were added here.
  const routes = (api: FastifyInstance, _options: unknown, done: () => void): void => {
    registerRoutes(api, latchkey, options);
    done();
  };
  void app.register(Object.assign(routes, { [Symbol.for('skip-override')]: true }));
  return app;
}

/** The JSON API's routes (`./routes/`), `/healthz` and, when metrics are on, their hook and route. */
function registerRoutes(app: FastifyInstance, latchkey: Latchkey, options: HTTPServerOptions): void {
  const { config } = latchkey;
  const names = cookieNames(config.insecureCookies);
  if (options.metrics)
    registerHTTPMetrics(app, options.metrics, {
      clients: latchkey.clients,
      onMainPort: config.metrics.onMainPort,
    });
  app.get('/healthz', { schema: HEALTH_SCHEMA }, async (_request, reply) => {
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
  registerMFARoutes(app, latchkey, names);
  registerPasskeyRoutes(app, latchkey, names);
  registerPasskeySignupRoutes(app, latchkey, names);
  registerAdminUserRoutes(app, latchkey, names);
  registerAdminOperationRoutes(app, latchkey, names);
  registerWellKnownRoutes(app, latchkey);
  registerSDKRoutes(app);
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
}
