/**
 * The routes of signing up, logging in, refreshing, `/v1/me`, logging out and changing the
 * password. Each makes one call to the use cases (`latchkey.auth`) and shapes its answer with
 * `../documents.ts` and `../auth-cookies.ts`.
 */

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Latchkey } from '../../app/latchkey.js';
import { createCSRFToken, CSRF_HEADER } from '../../csrf/csrf.js';
import { isLatchkeyError, LatchkeyError } from '../../errors.js';
import type { SessionMode } from '../../records.js';
import {
  authenticateRequest,
  authenticateRequestFromCache,
  authenticateRequestInFull,
} from '../authenticate.js';
import { clearAuthCookies, deviceCookie, setHybridCookies, type CookieNames } from '../auth-cookies.js';
import { clientInfo } from '../client-info.js';
import { signedInSender } from '../signed-in.js';
import { meDocument, meJSONOfShared, publicUser, tokenResponse } from '../documents.js';
import {
  PUBLIC,
  REFRESH_CREDENTIALS,
  SIGNED_IN,
  SIGNED_IN_READ,
  empty,
  json,
  problems,
  ref,
  signedIn,
} from '../openapi/route-schema.js';

const noNul = '^[^\\u0000]*$';
const email = { type: 'string', minLength: 1, maxLength: 320, pattern: noNul } as const;
// Up to 1024 characters after normalization; the byte bound leaves room for 4-byte characters.
const password = { type: 'string', minLength: 1, maxLength: 4096 } as const;

const TAG = ['Sign-up and sign-in'];
/** What Fastify names a JSON answer it serializes; set by a route that sends JSON text itself. */
const JSON_TYPE = 'application/json; charset=utf-8';
const user = {
  type: 'object',
  additionalProperties: false,
  required: ['user'],
  properties: { user: ref('User') },
};

const signupSchema = {
  tags: TAG,
  summary: 'Create an account',
  description:
    'With `LATCHKEY_EMAIL_VERIFICATION=required` the answer is 202 whether or not the address has an account.',
  security: PUBLIC,
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['email', 'password'],
    properties: { email, password },
    examples: [{ email: 'ada@example.com', password: 'correct horse battery staple' }],
  },
  response: {
    201: json(user, 'The account is created (no session: sign in next).'),
    202: json(
      {
        type: 'object',
        additionalProperties: false,
        required: ['status'],
        properties: { status: { type: 'string', enum: ['verification_sent'] } },
      },
      'A verification mail may have been sent.',
    ),
    ...problems(400, 409, 429),
  },
} as const;

const loginSchema = {
  tags: TAG,
  summary: 'Sign in with a password',
  description:
    'Opens a session in the mode asked for (`cookie` by default). A 401 `mfa_required` carries the ' +
    '`challenge` for `POST /v1/mfa/verify`.',
  security: PUBLIC,
  response: {
    200: signedIn('Signed in: the cookies in `Set-Cookie`, or the tokens in the body (token mode).'),
    ...problems(401, 403, 429),
  },
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['email', 'password'],
    properties: {
      email,
      password,
      mode: { type: 'string', enum: ['cookie', 'token', 'hybrid'] },
      remember: { type: 'boolean' },
    },
    examples: [{ email: 'ada@example.com', password: 'correct horse battery staple', mode: 'hybrid' }],
  },
} as const;

const refreshSchema = {
  tags: ['Session'],
  summary: 'Refresh the access token',
  description:
    'A token-mode session sends its `refresh_token` in the body; a hybrid session sends nothing ' +
    '(its refresh cookie rides along) and the `X-CSRF-Token` header. The refresh token rotates.',
  security: REFRESH_CREDENTIALS,
  response: {
    200: json(
      {
        oneOf: [
          {
            title: 'Token session',
            type: 'object',
            additionalProperties: false,
            required: ['access_token', 'token_type', 'expires_in', 'refresh_token', 'user'],
            properties: {
              access_token: { type: 'string' },
              token_type: { type: 'string', enum: ['Bearer'] },
              expires_in: { type: 'integer' },
              refresh_token: { type: 'string' },
              user: ref('User'),
            },
          },
          {
            title: 'Hybrid session',
            type: 'object',
            additionalProperties: false,
            required: ['user', 'csrf_token', 'expires_in'],
            properties: {
              user: ref('User'),
              csrf_token: { type: 'string' },
              expires_in: { type: 'integer' },
            },
          },
        ],
      },
      'New tokens: in the body (token mode) or in `Set-Cookie` (hybrid).',
    ),
    ...problems(400, 401, 403, 429),
  },
  body: {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: { refresh_token: { type: 'string', minLength: 1, maxLength: 512, pattern: noNul } },
  },
} as const;

const passwordSchema = {
  tags: ['Account'],
  summary: 'Change the password',
  description: 'Every other session of the user is revoked; this one is renewed (new credentials).',
  security: SIGNED_IN,
  response: { 200: signedIn('The renewed session.'), ...problems(400, 401, 403, 429) },
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['current_password', 'new_password'],
    properties: { current_password: password, new_password: password },
  },
} as const;

const meSchema = {
  tags: ['Session'],
  summary: 'Who am I',
  security: SIGNED_IN_READ,
  response: {
    200: json(
      {
        type: 'object',
        additionalProperties: false,
        required: ['user', 'session'],
        properties: { user: ref('User'), session: ref('SessionSummary') },
      },
      'The signed-in user and session.',
    ),
    ...problems(401, 403, 429),
  },
};

const logoutSchema = {
  tags: ['Session'],
  summary: 'Sign out',
  description: 'Revokes the session and clears its cookies.',
  security: SIGNED_IN,
  response: { 204: empty('Signed out.'), ...problems(401, 403, 429) },
};

function csrfHeader(request: FastifyRequest): string | undefined {
  const header = request.headers[CSRF_HEADER];
  return typeof header === 'string' ? header : undefined;
}

export function registerAuthRoutes(app: FastifyInstance, latchkey: Latchkey, names: CookieNames): void {
  const { auth, clock, csrfKey } = latchkey;

  app.post<{ Body: { email: string; password: string } }>(
    '/v1/signup',
    { schema: signupSchema },
    async (request, reply) => {
      if (latchkey.config.mail.emailVerification === 'required') {
        // The same answer whether or not the address has an account (see docs/choosing-a-mode.md).
        await auth.signupPrivately({ ...request.body, ip: request.ip });
        return reply.code(202).send({ status: 'verification_sent' });
      }
      const user = await auth.signup({ ...request.body, ip: request.ip });
      return reply.code(201).send({ user: publicUser(user) });
    },
  );

  const sendSignedIn = signedInSender(latchkey, names);

  app.post<{ Body: { email: string; password: string; mode?: SessionMode; remember?: boolean } }>(
    '/v1/login',
    { schema: loginSchema },
    async (request, reply) => {
      const result = await auth.login({
        email: request.body.email,
        password: request.body.password,
        mode: request.body.mode ?? 'cookie',
        remember: request.body.remember === true,
        client: clientInfo(request),
        deviceCookie: request.cookies.get(names.device),
        // A session cookie sent to login is never reused (no fixation): it is revoked.
        previousSessionToken: request.cookies.get(names.session),
      });
      return sendSignedIn(reply, result, { cookies: [deviceCookie(names, result.deviceCookie)] });
    },
  );

  app.post<{ Body: { refresh_token?: string } | null }>(
    '/v1/refresh',
    { schema: refreshSchema },
    async (request, reply) => {
      const fromBody = request.body?.refresh_token;
      if (fromBody !== undefined) {
        const result = await auth.refresh({ token: fromBody, channel: 'body', ip: request.ip });
        return reply.send({ ...tokenResponse(result), user: publicUser(result.user) });
      }
      const fromCookie = request.cookies.get(names.refresh);
      if (fromCookie === undefined) {
        throw new LatchkeyError('invalid_grant', 'No refresh token in the body or the refresh cookie');
      }
      // The refresh cookie rides along on its own, so it needs the CSRF token too.
      const result = await auth
        .refresh({ token: fromCookie, channel: 'cookie', csrfToken: csrfHeader(request), ip: request.ip })
        .catch((error: unknown) => {
          // A refresh cookie refused for good is cleared with the access cookie; a refusal for a
          // missing CSRF token leaves them (the token itself may still be fine).
          if (isLatchkeyError(error, 'invalid_grant')) clearAuthCookies(reply, names);
          throw error;
        });
      setHybridCookies(reply, names, result, clock());
      return reply.send({
        user: publicUser(result.user),
        csrf_token: createCSRFToken(csrfKey, result.session.id),
        expires_in: result.accessToken.expiresIn,
      });
    },
  );

  // Not an async function: a request the near cache answers is served without a promise, its
  // document already serialized (kept with the cached records: `meJSONOfShared`).
  app.get('/v1/me', { schema: meSchema }, (request, reply) => {
    const cached = authenticateRequestFromCache(request, latchkey, names);
    if (cached !== undefined) {
      return reply.header('content-type', JSON_TYPE).send(meJSONOfShared(cached.user, cached.session));
    }
    return authenticateRequestInFull(request, latchkey, names).then((principal) =>
      reply.send(meDocument(principal.user, principal.session)),
    );
  });

  app.post('/v1/logout', { schema: logoutSchema }, async (request, reply) => {
    const principal = await authenticateRequest(request, latchkey, names);
    await auth.logout(principal);
    clearAuthCookies(reply, names);
    return reply.code(204).send();
  });

  app.post<{ Body: { current_password: string; new_password: string } }>(
    '/v1/password',
    { schema: passwordSchema },
    async (request, reply) => {
      const principal = await authenticateRequest(request, latchkey, names);
      const renewed = await auth.changePassword(principal, {
        currentPassword: request.body.current_password,
        newPassword: request.body.new_password,
        client: clientInfo(request),
      });
      return sendSignedIn(reply, renewed);
    },
  );
}
