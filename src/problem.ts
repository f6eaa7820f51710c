/**
 * Errors as RFC 9457 problem documents: the one mapping from a `LatchkeyError` to what a client
 * sees. The server's HTTP layer and the resource-service SDK's adapters both answer with it, so
 * it lives beside the error catalogue rather than inside either of them.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9457
 */

import { ERROR_CATALOGUE, LatchkeyError, type ErrorCode } from './errors.js';

/** An RFC 9457 problem document. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** Fastify's own error codes that are the client's fault, mapped to the catalogue. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_VALIDATION: 'validation_failed',
  FST_ERR_NOT_FOUND: 'not_found',
  FST_ERR_BAD_URL: 'bad_request',
  FST_ERR_ASYNC_CONSTRAINT: 'bad_request',
};

/** Turns any thrown value into a LatchkeyError; unknown errors become `internal_error`. */
export function toLatchkeyError(error: unknown): LatchkeyError {
  if (error instanceof LatchkeyError) return error;
  if (typeof error === 'object' && error !== null) {
    const { code, statusCode, validation } = error as {
      code?: string;
      statusCode?: number;
      validation?: unknown;
    };
    if (validation !== undefined) {
      const errors = (
        validation as { instancePath?: string; message?: string; params?: Record<string, unknown> }[]
      )
        .slice(0, 10)
        .map((item) => ({
          field:
            (item.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.') ||
            (typeof item.params?.missingProperty === 'string' ? item.params.missingProperty : '') ||
            (typeof item.params?.additionalProperty === 'string' ? item.params.additionalProperty : '(body)'),
          message: item.message ?? 'is invalid',
        }));
      return new LatchkeyError('validation_failed', 'The request does not match the schema', {
        extensions: { errors },
      });
    }
    if (code !== undefined && code in FASTIFY_CODES) {
      return new LatchkeyError(FASTIFY_CODES[code] ?? 'bad_request');
    }
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      const match = Object.entries(ERROR_CATALOGUE).find(([, entry]) => entry.status === statusCode);
      return new LatchkeyError((match?.[0] as ErrorCode | undefined) ?? 'bad_request');
    }
  }
  return new LatchkeyError('internal_error', undefined, { cause: error });
}

export function toProblem(error: LatchkeyError): Problem {
  const entry = ERROR_CATALOGUE[error.code];
  const problem: Problem = {
    type: `urn:latchkey:error:${error.code}`,
    title: entry.title,
    status: error.status,
    code: error.code,
  };
  // Internal errors never reveal their message; every other message is written to be public.
  if (error.status < 500 || error.code === 'store_unavailable') {
    if (error.message !== entry.title) problem.detail = error.message;
  }
  if (error.retryAfter !== undefined) problem.retry_after = error.retryAfter;
  if (error.extensions) Object.assign(problem, error.extensions);
  return problem;
}
