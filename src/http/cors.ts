import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * CORS with an explicit allow-list: only listed origins are echoed, with credentials; `null`
 * and unlisted origins get no CORS headers at all (the browser then blocks the response).
 * Returns the per-request step: it sets the headers, and answers a preflight itself (true).
 * @see https://fetch.spec.whatwg.org/#http-cors-protocol
 */
export function createCORS(options: {
  allowedOrigins: readonly string[];
}): (request: FastifyRequest, reply: FastifyReply) => boolean {
  const allowed = new Set(options.allowedOrigins);
  const allowHeaders = 'authorization, content-type, x-csrf-token';
  const allowMethods = 'GET, POST, PUT, PATCH, DELETE';

  return (request, reply) => {
    const origin = request.headers.origin;
    void reply.header('vary', 'Origin');
    const preflight =
      request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
    if (origin === undefined || !allowed.has(origin)) {
      // A preflight from an origin we do not serve: answer without CORS headers.
      if (preflight) void reply.code(204).send();
      return preflight;
    }
    void reply.header('access-control-allow-origin', origin);
    void reply.header('access-control-allow-credentials', 'true');
    void reply.header('access-control-expose-headers', 'retry-after, www-authenticate');
    if (preflight) {
      void reply.header('access-control-allow-methods', allowMethods);
      void reply.header('access-control-allow-headers', allowHeaders);
      void reply.header('access-control-max-age', '600');
      void reply.code(204).send();
    }
    return preflight;
  };
}

/** {@link createCORS} as an `onRequest` hook of its own. */
export function registerCORS(app: FastifyInstance, options: { allowedOrigins: readonly string[] }): void {
  const cors = createCORS(options);
  app.addHook('onRequest', (request, reply, done) => {
    if (!cors(request, reply)) done();
  });
}
