/**
 * What a resource service answers when `authenticate` fails: one function, so that every
 * framework adapter answers the same status, headers and problem document.
 */

import type { ErrorCode } from '../errors.js';
import { PROBLEM_CONTENT_TYPE, toLatchkeyError, toProblem, type Problem } from '../problem.js';
import { stepUpChallenge } from './step-up.js';

export interface AuthenticationFailure {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Problem;
}

export interface AuthenticationFailureOptions {
  /** The `realm` of the `WWW-Authenticate` challenge. Default `latchkey`. */
  realm?: string;
}

/** Codes that mean "the token you sent is no good" (RFC 6750 `invalid_token`). */
const TOKEN_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'invalid_token',
  'session_revoked',
  'session_expired',
]);

/**
 * The response for an error thrown by `verifier.authenticate`: `application/problem+json`
 * with `Cache-Control: no-store`; on 401 a Bearer challenge (with `error="invalid_token"`
 * when a token was sent and refused, without an error code when none was sent); on 429/503 a
 * `Retry-After`; a step-up refusal (`requireAuth`) gets the RFC 9470 challenge
 * (`error="insufficient_user_authentication"`, `acr_values`, `max_age`). Errors that are not a
 * `LatchkeyError` become a 500 that reveals nothing.
 *
 * @example
 * const failure = authenticationFailure(error, { realm: 'orders' });
 * res.writeHead(failure.status, failure.headers).end(JSON.stringify(failure.body));
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9457
 * @see https://www.rfc-editor.org/rfc/rfc9470#section-3
 */
export function authenticationFailure(
  error: unknown,
  options: AuthenticationFailureOptions = {},
): AuthenticationFailure {
  const realm = checkRealm(options.realm ?? 'latchkey');
  const latchkeyError = toLatchkeyError(error);
  const headers: Record<string, string> = {
    'content-type': PROBLEM_CONTENT_TYPE,
    'cache-control': 'no-store',
  };
  if (latchkeyError.code === 'insufficient_user_authentication') {
    headers['www-authenticate'] =
      `Bearer realm="${realm}", error="insufficient_user_authentication"${stepUpChallenge(latchkeyError)}`;
  } else if (latchkeyError.status === 401) {
    const code = TOKEN_ERRORS.has(latchkeyError.code) ? ', error="invalid_token"' : '';
    headers['www-authenticate'] = `Bearer realm="${realm}"${code}`;
  }
  if (latchkeyError.retryAfter !== undefined) headers['retry-after'] = String(latchkeyError.retryAfter);
  return { status: latchkeyError.status, headers, body: toProblem(latchkeyError) };
}

/**
 * Checks a realm: it is printed inside a quoted string, so printable ASCII without `"` or `\`.
 * Returns it, or throws a `TypeError` naming `realm`.
 *
 * @example
 * checkRealm('orders'); // 'orders'
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-11.5
 */
export function checkRealm(realm: string): string {
  if (typeof realm !== 'string' || !/^[\x20\x21\x23-\x5b\x5d-\x7e]{1,100}$/.test(realm)) {
    throw new TypeError('"realm" must be 1 to 100 printable ASCII characters without " or \\');
  }
  return realm;
}
