import type { FastifyInstance } from 'fastify';
import type { Logger } from '../log.js';

/**
 * The access log: one line per request, at `debug`, written when the response is done (method,
 * path without its query string, status, milliseconds). Below `debug` (the default `info`) no
 * hook is registered at all, so a request costs nothing here; security events (`event: ...`:
 * logins, failures, logouts, revocations, refusals) are logged where they happen, at `info` and
 * above, whatever this does. The query string is left out because it may carry a one-time token
 * (email verification, password reset).
 */
export function registerRequestLog(app: FastifyInstance, logger: Logger): void {
  if (!logger.isLevelEnabled('debug')) return;
  app.addHook('onResponse', (request, reply, done) => {
    const url = request.url;
    const query = url.indexOf('?');
    request.log.debug(
      {
        event: 'request',
        method: request.method,
        path: query === -1 ? url : url.slice(0, query),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request',
    );
    done();
  });
}
