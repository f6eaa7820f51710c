/**
 * The routes of the mail flows: password reset, email verification and sign-in links. Each
 * makes one call to the use cases; the answers that must not tell whether an account exists
 * (forgot, a new verification link by address, a sign-in link) are always `202` with the same
 * body.
 */

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Latchkey } from '../../app/latchkey.js';
import { serializeCookie } from '../../cookies/cookies.js';
import { randomSecret, sha256 } from '../../lib/secrets.js';
import type { SessionMode } from '../../records.js';
import { authenticateRequest } from '../authenticate.js';
import { baseCookie, type CookieNames } from '../auth-cookies.js';
import { publicUser } from '../documents.js';
import { signedInSender } from '../signed-in.js';
import { PUBLIC, SIGNED_IN, empty, json, problems, ref, signedIn } from '../openapi/route-schema.js';

const noNul = '^[^\\u0000]*$';
const email = { type: 'string', minLength: 1, maxLength: 320, pattern: noNul } as const;
const password = { type: 'string', minLength: 1, maxLength: 4096 } as const;
const token = { type: 'string', minLength: 1, maxLength: 256, pattern: noNul } as const;
const mode = { type: 'string', enum: ['cookie', 'token', 'hybrid'] } as const;

function body<P extends Record<string, unknown>>(properties: P, required: (keyof P & string)[]) {
  return { body: { type: 'object', additionalProperties: false, required, properties } } as const;
}

/** What every "we may have sent you a mail" answer says, whatever happened. */
const ACCEPTED = { status: 'accepted' } as const;

const TAG = ['Mail flows'];
const accepted = json(ref('Accepted'), 'Accepted: a mail may have been sent (the answer says no more).');
const userAnswer = json(
  { type: 'object', additionalProperties: false, required: ['user'], properties: { user: ref('User') } },
  'The updated user.',
);

/** The documentation of a public mail-flow route. */
function doc(summary: string, response: Record<string, object>, more: Record<string, unknown> = {}) {
  return { tags: TAG, summary, security: PUBLIC, response, ...more };
}

function clientInfo(request: FastifyRequest): { userAgent: string | null; ip: string } {
  const agent = request.headers['user-agent'];
  return { userAgent: typeof agent === 'string' ? agent.slice(0, 256) : null, ip: request.ip };
}

/** The cookie that binds a sign-in link to the browser that asked for it. */
export function bindingCookieName(names: CookieNames): string {
  return names.secure ? '__Host-latchkey_link' : 'latchkey_link';
}

const PASSWORD_FORGOT_SCHEMA = {
  ...body({ email }, ['email']),
  ...doc('Ask for a password reset link', { 202: accepted, ...problems(429) }),
};

const PASSWORD_RESET_SCHEMA = {
  ...body({ token, password }, ['token', 'password']),
  ...doc('Set a new password with a reset token', {
    204: empty('The password is changed; every session of the user is revoked.'),
    ...problems(400, 429),
  }),
};

const EMAIL_VERIFY_SCHEMA = {
  ...body({ token }, ['token']),
  ...doc('Verify the email address with the token of the mail', {
    200: userAnswer,
    ...problems(400, 429),
  }),
};

const EMAIL_VERIFY_REQUEST_SCHEMA = {
  body: { type: ['object', 'null'], additionalProperties: false, properties: { email } },
  ...doc(
    'Ask for a new verification link',
    { 202: accepted, ...problems(401, 403, 429) },
    {
      description: 'By address (public), or with no body for the signed-in user.',
      security: [{}, ...SIGNED_IN],
    },
  ),
};

const EMAIL_CHANGE_SCHEMA = {
  ...body({ email, password }, ['email', 'password']),
  ...doc(
    'Ask to change the email address',
    { 202: accepted, ...problems(400, 401, 403, 409, 429) },
    {
      description: 'Needs the current password; the new address gets a confirmation link.',
      security: SIGNED_IN,
    },
  ),
};

const EMAIL_CHANGE_CONFIRM_SCHEMA = {
  ...body({ token }, ['token']),
  ...doc('Confirm the new email address', { 200: userAnswer, ...problems(400, 409, 429) }),
};

const LOGIN_LINK_SCHEMA = {
  ...body({ email }, ['email']),
  ...doc(
    'Ask for a sign-in link and code',
    { 202: accepted, ...problems(429) },
    {
      description: 'Sets a cookie that binds the link to this browser.',
    },
  ),
};

const LOGIN_LINK_REDEEM_SCHEMA = {
  ...body({ token, mode, confirm: { type: 'boolean' } }, ['token']),
  ...doc(
    'Sign in with the link of the mail',
    {
      200: signedIn('Signed in.'),
      ...problems(400, 401, 403, 429),
    },
    {
      description:
        'Opened in another browser than the one that asked, the answer is 400 `confirmation_required` ' +
        'until `confirm: true` is sent.',
    },
  ),
};

const LOGIN_CODE_SCHEMA = {
  ...body({ email, code: { type: 'string', minLength: 1, maxLength: 16 }, mode }, ['email', 'code']),
  ...doc('Sign in with the code of the mail', {
    200: signedIn('Signed in.'),
    ...problems(400, 401, 403, 429),
  }),
};

export function registerRecoveryRoutes(app: FastifyInstance, latchkey: Latchkey, names: CookieNames): void {
  const sendSignedIn = signedInSender(latchkey, names);
  const { auth, config } = latchkey;
  const binding = bindingCookieName(names);

  app.post<{ Body: { email: string } }>(
    '/v1/password/forgot',
    { schema: PASSWORD_FORGOT_SCHEMA },
    async (request, reply) => {
      await auth.forgotPassword({ email: request.body.email, ip: request.ip });
      return reply.code(202).send(ACCEPTED);
    },
  );

  app.post<{ Body: { token: string; password: string } }>(
    '/v1/password/reset',
    { schema: PASSWORD_RESET_SCHEMA },
    async (request, reply) => {
      await auth.resetPassword({ ...request.body, ip: request.ip });
      return reply.code(204).send();
    },
  );

  app.post<{ Body: { token: string } }>(
    '/v1/email/verify',
    { schema: EMAIL_VERIFY_SCHEMA },
    async (request, reply) => {
      const user = await auth.verifyEmail(request.body.token);
      return reply.send({ user: publicUser(user) });
    },
  );

  app.post<{ Body: { email?: string } | null }>(
    '/v1/email/verify/request',
    { schema: EMAIL_VERIFY_REQUEST_SCHEMA },
    async (request, reply) => {
      const address = request.body?.email;
      if (address !== undefined) {
        await auth.requestVerification({ email: address, ip: request.ip });
      } else {
        const principal = await authenticateRequest(request, latchkey, names);
        await auth.requestVerification({ user: principal.user, ip: request.ip });
      }
      return reply.code(202).send(ACCEPTED);
    },
  );

  app.post<{ Body: { email: string; password: string } }>(
    '/v1/email/change',
    { schema: EMAIL_CHANGE_SCHEMA },
    async (request, reply) => {
      // Signed in; a cookie session must send its CSRF token (checked with the session).
      const principal = await authenticateRequest(request, latchkey, names);
      await auth.requestEmailChange(principal, { ...request.body, ip: request.ip });
      return reply.code(202).send(ACCEPTED);
    },
  );

  app.post<{ Body: { token: string } }>(
    '/v1/email/change/confirm',
    { schema: EMAIL_CHANGE_CONFIRM_SCHEMA },
    async (request, reply) => {
      const user = await auth.confirmEmailChange(request.body.token);
      return reply.send({ user: publicUser(user) });
    },
  );

  app.post<{ Body: { email: string } }>(
    '/v1/login/link',
    { schema: LOGIN_LINK_SCHEMA },
    async (request, reply) => {
      // Every answer sets a fresh binding cookie, known address or not.
      const value = randomSecret(32);
      await auth.requestSignInLink({ email: request.body.email, ip: request.ip, binding: sha256(value) });
      void reply.header(
        'set-cookie',
        serializeCookie(binding, value, {
          ...baseCookie(names),
          maxAge: Math.floor(config.mail.signInLinkTTL / 1000),
        }),
      );
      return reply.code(202).send(ACCEPTED);
    },
  );

  app.post<{ Body: { token: string; mode?: SessionMode; confirm?: boolean } }>(
    '/v1/login/link/redeem',
    { schema: LOGIN_LINK_REDEEM_SCHEMA },
    async (request, reply) => {
      const result = await auth.redeemSignInLink({
        token: request.body.token,
        mode: request.body.mode ?? 'cookie',
        client: clientInfo(request),
        binding: request.cookies.get(binding),
        confirm: request.body.confirm === true,
      });
      return sendSignedIn(reply, result);
    },
  );

  app.post<{ Body: { email: string; code: string; mode?: SessionMode } }>(
    '/v1/login/code',
    { schema: LOGIN_CODE_SCHEMA },
    async (request, reply) => {
      const result = await auth.redeemSignInCode({
        email: request.body.email,
        code: request.body.code,
        mode: request.body.mode ?? 'cookie',
        client: clientInfo(request),
      });
      return sendSignedIn(reply, result);
    },
  );
}
