/**
 * One error class for the whole library, with a stable `code` from a fixed catalogue.
 *
 * The catalogue is the only place that knows the HTTP status and the public title of each
 * code; the core throws codes, and the HTTP boundary maps them to `application/problem+json`.
 * Messages never contain a token, a secret or a password: they name the rule that failed.
 */

export const ERROR_CATALOGUE = {
  bad_request: { status: 400, title: 'The request is malformed' },
  invalid_json: { status: 400, title: 'The request body is not valid JSON' },
  validation_failed: { status: 400, title: 'The request body does not match the schema' },
  weak_password: { status: 400, title: 'The password does not meet the password policy' },
  invalid_grant: { status: 400, title: 'The grant or refresh token is invalid' },
  unsupported_grant_type: { status: 400, title: 'The grant type is not supported' },
  invalid_request: { status: 400, title: 'The OAuth request is malformed' },
  invalid_scope: { status: 400, title: 'The requested scope is invalid or not allowed' },
  invalid_target: { status: 400, title: 'The requested audience or resource is not allowed' },
  invalid_client: { status: 401, title: 'Client authentication failed' },
  invalid_credentials: { status: 401, title: 'The email or password is incorrect' },
  invalid_link: { status: 400, title: 'The link or code is invalid, expired or already used' },
  confirmation_required: { status: 400, title: 'Confirm the sign-in on this device' },
  unauthenticated: { status: 401, title: 'Authentication is required' },
  invalid_token: { status: 401, title: 'The access token is invalid' },
  session_expired: { status: 401, title: 'The session has expired' },
  session_revoked: { status: 401, title: 'The session has been revoked' },
  mfa_required: { status: 401, title: 'A second factor is required to finish signing in' },
  invalid_code: { status: 401, title: 'The code is incorrect' },
  challenge_invalid: { status: 401, title: 'The sign-in challenge is invalid or has expired; sign in again' },
  passkey_invalid: { status: 401, title: 'The passkey could not be verified' },
  insufficient_user_authentication: {
    status: 401,
    title: 'A stronger or more recent authentication is required',
  },
  csrf_failed: { status: 403, title: 'The request failed the CSRF check' },
  cross_site_request: { status: 403, title: 'Cross-site requests are refused' },
  forbidden: { status: 403, title: 'The request is not allowed' },
  account_disabled: { status: 403, title: 'The account is disabled' },
  email_unverified: { status: 403, title: 'The email address is not verified yet' },
  not_found: { status: 404, title: 'The resource does not exist' },
  method_not_allowed: { status: 405, title: 'The method is not allowed' },
  email_taken: { status: 409, title: 'An account with this email already exists' },
  factor_exists: { status: 409, title: 'This kind of second factor is already set up' },
  no_factor: { status: 409, title: 'The account has no second factor to step up with' },
  passkey_exists: { status: 409, title: 'This passkey is already registered' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'The content type is not supported' },
  too_many_requests: { status: 429, title: 'Too many attempts; retry later' },
  internal_error: { status: 500, title: 'Internal server error' },
  store_unavailable: { status: 503, title: 'The store is unavailable; retry later' },
  config_invalid: { status: 500, title: 'The configuration is invalid' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface LatchkeyErrorOptions {
  /** Seconds after which the client may retry (429, 503). */
  retryAfter?: number;
  /** Safe, non-secret details for the problem document (e.g. the name of the failing claim). */
  detail?: string;
  /** Underlying error; logged, never sent to clients. */
  cause?: unknown;
  /** Extra members for the problem document; must never hold a secret. */
  extensions?: Record<string, unknown>;
}

/**
 * The mark every LatchkeyError carries, in the global symbol registry: the server (`latchkey`)
 * and the SDK (`@latchkey/verify`) are built from these same sources into two packages, so an
 * application that installs both holds two copies of this class. `instanceof LatchkeyError`
 * checks the mark, so an error thrown by either copy is an instance of both.
 */
const LATCHKEY_ERROR = Symbol.for('latchkey.error');

export class LatchkeyError extends Error {
  /** `instanceof` across copies of this module (see {@link LATCHKEY_ERROR}); subclasses keep the usual check. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== LatchkeyError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && LATCHKEY_ERROR in value;
  }

  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfter: number | undefined;
  readonly extensions: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, options: LatchkeyErrorOptions = {}) {
    super(message ?? options.detail ?? ERROR_CATALOGUE[code].title, { cause: options.cause });
    this.name = 'LatchkeyError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.retryAfter = options.retryAfter;
    this.extensions = options.extensions;
    Object.defineProperty(this, LATCHKEY_ERROR, { value: true });
  }
}

/** True when `error` is a LatchkeyError, optionally of one of the given codes. */
export function isLatchkeyError(error: unknown, ...codes: ErrorCode[]): error is LatchkeyError {
  return error instanceof LatchkeyError && (codes.length === 0 || codes.includes(error.code));
}

/** Wraps a store driver failure so that the boundary answers 503 and nothing leaks. */
export function storeUnavailable(cause: unknown): LatchkeyError {
  if (cause instanceof LatchkeyError) return cause;
  return new LatchkeyError('store_unavailable', undefined, { cause, retryAfter: 1 });
}
