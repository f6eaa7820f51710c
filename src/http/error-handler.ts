import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LatchkeyError } from '../errors.js';
import { toLatchkeyError } from '../problem.js';

/**
 * A Fastify error handler that maps any error to a LatchkeyError, logs the 5xx ones (the only
 * place a request failure is logged), and answers with `send` (problem+json on the API, the RFC 6749
 * error shape on the OAuth endpoints).
 */
export function errorHandler(
  send: (reply: FastifyReply, error: LatchkeyError) => FastifyReply,
): (error: unknown, request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  return (error, request, reply) => {
    const latchkeyError = toLatchkeyError(error);
    if (latchkeyError.status >= 500) {
      request.log.error({ err: error, code: latchkeyError.code }, 'request failed');
    }
    return send(reply, latchkeyError);
  };
}
