import type { FastifyInstance } from 'fastify';

/**
 * CORS with an explicit allow-list: only listed origins are echoed, with credentials; `null`
 * and unlisted origins get no CORS headers at all (the browser then blocks the response).
 * @see https://fetch.spec.whatwg.org/#http-cors-protocol
 */
export function registerCORS(app: FastifyInstance, options: { allowedOrigins: readonly string[] }): void {
  const allowed = new Set(options.allowedOrigins);
  const allowHeaders = 'authorization, content-type, x-csrf-token';
  const allowMethods = 'GET, POST, PUT, PATCH, DELETE';

  app.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    void reply.header('vary', 'Origin');
    if (origin === undefined || !allowed.has(origin)) {
      if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
        // A preflight from an origin we do not serve: answer without CORS headers.
        void reply.code(204).send();
        return;
      }
      done();
      return;
    }
    void reply.header('access-control-allow-origin', origin);
    void reply.header('access-control-allow-credentials', 'true');
    void reply.header('access-control-expose-headers', 'retry-after, www-authenticate');
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      void reply.header('access-control-allow-methods', allowMethods);
      void reply.header('access-control-allow-headers', allowHeaders);
      void reply.header('access-control-max-age', '600');
      void reply.code(204).send();
      return;
    }
    done();
  });
}
