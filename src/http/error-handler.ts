import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LatchkeyError } from '../errors.js';
import { toLatchkeyError } from '../problem.js';

/**
 * How much of a body over the limit is read (and thrown away) before the 413 is sent: a client
 * that sends its whole body before it reads gets to read the answer, instead of a reset
 * connection; past this, the connection is closed anyway.
 */
export const MAX_DRAINED_BYTES = 1024 * 1024;
/** How long a slow client may take to send that much. */
const DRAIN_TIMEOUT_MS = 5_000;

/**
 * A Fastify error handler that maps any error to a LatchkeyError, logs the 5xx ones (the only
 * place a request failure is logged), and answers with `send` (problem+json on the API, the RFC 6749
 * error shape on the OAuth endpoints). A body over the limit is drained (bounded) first.
 */
export function errorHandler(
  send: (reply: FastifyReply, error: LatchkeyError) => FastifyReply,
): (error: unknown, request: FastifyRequest, reply: FastifyReply) => FastifyReply | Promise<FastifyReply> {
  return (error, request, reply) => {
    const latchkeyError = toLatchkeyError(error);
    if (latchkeyError.status >= 500) {
      request.log.error({ err: error, code: latchkeyError.code }, 'request failed');
    }
    if (latchkeyError.code === 'payload_too_large') {
      void reply.header('connection', 'close');
      return drain(request.raw, MAX_DRAINED_BYTES, DRAIN_TIMEOUT_MS).then(() => send(reply, latchkeyError));
    }
    return send(reply, latchkeyError);
  };
}

/** Reads and discards what is left of a request body, up to `maxBytes` or `timeoutMs`. */
function drain(raw: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<void> {
  if (raw.readableEnded || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (): void => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', finish);
      raw.off('error', finish);
      raw.off('close', finish);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > maxBytes) {
        raw.pause();
        finish();
      }
    };
    const timer = setTimeout(finish, timeoutMs);
    raw.on('data', onData);
    raw.on('end', finish);
    raw.on('error', finish);
    raw.on('close', finish);
    raw.resume();
  });
}
