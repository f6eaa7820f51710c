/**
 * The SDK's one error class. A refusal of the server (an `application/problem+json` answer)
 * keeps its stable `code` and HTTP `status`; a failure to reach the server is `network_error`
 * (status 0). Messages never hold a token or a password.
 */

/** The codes the Latchkey server answers with (`src/errors.ts`; a unit test keeps them equal). */
export const SERVER_ERROR_CODES = [
  'bad_request',
  'invalid_json',
  'validation_failed',
  'weak_password',
  'invalid_grant',
  'unsupported_grant_type',
  'invalid_request',
  'invalid_scope',
  'invalid_target',
  'invalid_client',
  'invalid_credentials',
  'unauthenticated',
  'invalid_token',
  'session_expired',
  'session_revoked',
  'mfa_required',
  'invalid_code',
  'challenge_invalid',
  'passkey_invalid',
  'insufficient_user_authentication',
  'csrf_failed',
  'cross_site_request',
  'forbidden',
  'account_disabled',
  'not_found',
  'method_not_allowed',
  'email_taken',
  'invalid_link',
  'confirmation_required',
  'email_unverified',
  'factor_exists',
  'no_factor',
  'passkey_exists',
  'payload_too_large',
  'unsupported_media_type',
  'too_many_requests',
  'internal_error',
  'store_unavailable',
  'config_invalid',
] as const;

/**
 * A server code, or one of the SDK's own: `network_error` (no answer), `http_error` (an answer
 * that is not a problem document), `not_signed_in` (a call that needs a session, made without).
 */
export type LatchkeyErrorCode =
  (typeof SERVER_ERROR_CODES)[number] | 'network_error' | 'http_error' | 'not_signed_in';

export interface LatchkeyClientErrorOptions {
  detail?: string | undefined;
  retryAfter?: number | undefined;
  cause?: unknown;
}

/**
 * @example
 * try { await client.login({ email, password }); }
 * catch (error) {
 *   if (error instanceof LatchkeyClientError && error.code === 'invalid_credentials') showWrongPassword();
 * }
 */
export class LatchkeyClientError extends Error {
  readonly code: LatchkeyErrorCode;
  /** The HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  /** The problem document's `detail` (e.g. the password policy's reason), when it has one. */
  readonly detail: string | undefined;
  /** Seconds to wait before retrying (429, 503). */
  readonly retryAfter: number | undefined;

  constructor(
    code: LatchkeyErrorCode,
    status: number,
    message: string,
    options: LatchkeyClientErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'LatchkeyClientError';
    this.code = code;
    this.status = status;
    this.detail = options.detail;
    this.retryAfter = options.retryAfter;
  }
}

function isServerCode(value: unknown): value is (typeof SERVER_ERROR_CODES)[number] {
  return typeof value === 'string' && (SERVER_ERROR_CODES as readonly string[]).includes(value);
}

/** The problem document of a refusal, or null when the body is not one (read from a clone). */
export async function readProblem(
  response: Response,
): Promise<{ code: unknown; title: unknown; detail: unknown; retry_after: unknown } | null> {
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('json')) return null;
  try {
    const body: unknown = await response.clone().json();
    if (typeof body !== 'object' || body === null) return null;
    const { code, title, detail, retry_after } = body as Record<string, unknown>;
    return { code, title, detail, retry_after };
  } catch {
    return null;
  }
}

/** The typed error of a non-2xx answer. */
export async function errorFromResponse(response: Response): Promise<LatchkeyClientError> {
  const problem = await readProblem(response);
  const header = Number(response.headers.get('retry-after'));
  const retryAfter =
    typeof problem?.retry_after === 'number'
      ? problem.retry_after
      : Number.isFinite(header) && header > 0
        ? header
        : undefined;
  if (problem !== null && isServerCode(problem.code)) {
    const title = typeof problem.title === 'string' ? problem.title : problem.code;
    const detail = typeof problem.detail === 'string' ? problem.detail : undefined;
    return new LatchkeyClientError(problem.code, response.status, detail ?? title, { detail, retryAfter });
  }
  return new LatchkeyClientError('http_error', response.status, `The server answered ${response.status}`, {
    retryAfter,
  });
}

/** The error of a request that got no answer. */
export function networkError(cause: unknown): LatchkeyClientError {
  return new LatchkeyClientError('network_error', 0, 'The server could not be reached', { cause });
}
