/**
 * The pieces a route's schema is made of, so that every route documents itself the same way:
 *
 * ```ts
 * app.get('/v1/things', {
 *   schema: {
 *     tags: ['Account'], summary: 'List my things', security: SIGNED_IN_READ,
 *     response: { 200: json({ type: 'object', ... }, 'The things'), ...problems(401) },
 *   },
 * }, handler);
 * ```
 *
 * `body`, `querystring` and `params` stay as they were (Fastify validates them); `response`
 * documents every status the route answers. The server serializes with `JSON.stringify`
 * (`./document.ts`), so a response schema never drops or coerces a member: it is a contract that
 * `test/http/openapi-conformance.test.ts` holds the answers to. The statuses every route of a
 * kind may answer (403 cross-site for unsafe methods; 400, 413, 415 with a body; 5XX) are added
 * by `./document.ts`, not repeated here.
 */

import { ERROR_CATALOGUE } from '../../errors.js';

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** The groups of `/openapi.json` and of `/docs/api`, in the order they are shown. */
export const TAGS = [
  { name: 'Sign-up and sign-in', description: 'Creating an account and opening a session, in any mode.' },
  { name: 'Session', description: 'The signed-in session: who am I, refresh, sign out.' },
  { name: 'Account', description: 'The signed-in user’s password, address and sessions.' },
  { name: 'Mail flows', description: 'Password reset, email verification and sign-in links or codes.' },
  { name: 'Second factors', description: 'TOTP set-up and the second step of a sign-in.' },
  { name: 'Passkeys', description: 'WebAuthn passkeys: registration, sign-in and management.' },
  { name: 'OAuth', description: 'Machine clients and resource services (RFC 6749, 7662, 8414).' },
  { name: 'Revocations', description: 'The revocation feed that resource services follow.' },
  {
    name: 'Admin',
    description: 'Users, sessions, machine clients, webhooks and the audit trail, for admins.',
  },
  { name: 'Discovery', description: 'Keys, metadata, this document, health and the browser SDK.' },
] as const;

export type TagName = (typeof TAGS)[number]['name'];

/**
 * The credentials of a signed-in route for a safe method: the session cookie, the hybrid access
 * cookie or a bearer access token.
 */
export const SIGNED_IN_READ = [{ sessionCookie: [] }, { accessCookie: [] }, { bearer: [] }];

/** The same for an unsafe method: a cookie goes with its CSRF token (`X-CSRF-Token`). */
export const SIGNED_IN = [
  { sessionCookie: [], csrfHeader: [] },
  { accessCookie: [], csrfHeader: [] },
  { bearer: [] },
];

/** `POST /v1/refresh`: a refresh token in the body, or the hybrid refresh cookie with its CSRF token. */
export const REFRESH_CREDENTIALS = [{}, { refreshCookie: [], csrfHeader: [] }];

/** No credential: `security: []` overrides nothing, it says so. */
export const PUBLIC: never[] = [];

/** A machine client by HTTP Basic (or, on the OAuth endpoints, `client_id`/`client_secret` in the body). */
export const CLIENT_BASIC = [{ clientBasic: [] }];

/**
 * The admin API, safe methods: a machine client with the `admin` scope (Basic, or its bearer
 * token), or a user with the `admin` role (a cookie or a bearer token).
 */
export const ADMIN_READ = [{ clientBasic: [] }, ...SIGNED_IN_READ];

/** The admin API, unsafe methods: the same, a cookie with its CSRF token. */
export const ADMIN = [{ clientBasic: [] }, ...SIGNED_IN];

/** `$ref` to a shared schema of `./components.ts`. */
export function ref(name: string): { $ref: string } {
  return { $ref: `${name}#` };
}

/** A JSON response: its schema and what it means. */
export function json(schema: object, description: string, mediaType = 'application/json'): object {
  return { description, content: { [mediaType]: { schema } } };
}

/** An empty response (204, 304). */
export function empty(description: string): object {
  return { description, type: 'null' };
}

/** The problem+json responses of the given statuses, each described by the codes it may carry. */
export function problems(...statuses: number[]): Record<string, object> {
  const responses: Record<string, object> = {};
  for (const status of statuses) responses[String(status)] = problemResponse(status);
  return responses;
}

/** A problem+json response; `description` defaults to the catalogue's codes of that status. */
export function problemResponse(status: number | string, description?: string): object {
  const codes = Object.entries(ERROR_CATALOGUE)
    .filter(([, entry]) => String(entry.status) === String(status))
    .map(([code]) => `\`${code}\``);
  return json(
    ref('Problem'),
    description ?? (codes.length > 0 ? `A problem: ${codes.join(', ')}.` : 'A problem document.'),
    PROBLEM_MEDIA_TYPE,
  );
}

/** The OAuth error responses (RFC 6749 §5.2) of the given statuses. */
export function oauthErrors(...statuses: number[]): Record<string, object> {
  const described: Record<number, string> = {
    400: 'The request is refused: `invalid_request`, `invalid_grant`, `unsupported_grant_type`, `invalid_scope`, `invalid_target`.',
    401: '`invalid_client`, with `WWW-Authenticate: Basic realm="latchkey"`.',
    429: '`too_many_requests`, with `Retry-After`: this client id is throttled.',
  };
  const responses: Record<string, object> = {};
  for (const status of statuses) {
    responses[String(status)] = json(ref('OAuthError'), described[status] ?? 'An OAuth error.');
  }
  return responses;
}

interface Members {
  properties?: Record<string, object>;
  required?: string[];
}

/**
 * The answer of a sign-in in its session's mode (cookie, hybrid or token; the cookies go in
 * `Set-Cookie`), with `extra` members (recovery codes, a new passkey) in every mode.
 */
export function signedInSchema(extra: Members = {}): object {
  const base = { user: ref('User'), session: ref('SessionSummary'), ...extra.properties };
  const required = ['user', 'session', ...(extra.required ?? [])];
  const csrf = { type: 'string', description: 'The `X-CSRF-Token` of this session’s unsafe requests.' };
  const branch = (title: string, properties: Record<string, object>, more: string[]): object => ({
    title,
    type: 'object',
    additionalProperties: false,
    required: [...required, ...more],
    properties: { ...base, ...properties },
  });
  const expiresIn = { type: 'integer', description: 'Seconds the access token is valid.' };
  return {
    oneOf: [
      branch('Cookie session', { csrf_token: csrf }, ['csrf_token']),
      branch('Hybrid session', { csrf_token: csrf, expires_in: expiresIn }, ['csrf_token', 'expires_in']),
      branch(
        'Token session',
        {
          access_token: { type: 'string' },
          token_type: { type: 'string', enum: ['Bearer'] },
          expires_in: expiresIn,
          refresh_token: { type: 'string' },
        },
        ['access_token', 'token_type', 'expires_in', 'refresh_token'],
      ),
    ],
  };
}

/** The response of a route that signs in (or renews the session). */
export function signedIn(description: string, extra?: Members): object {
  return json(signedInSchema(extra), description);
}
