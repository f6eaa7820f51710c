/**
 * The routes of a sign-up with a passkey and no password (`use-cases/passkey-signup.ts`): the
 * options for an address, then the new passkey. No session is needed; the sign-up limits apply.
 */

import type { FastifyInstance } from 'fastify';
import type { Latchkey } from '../../app/latchkey.js';
import type { RegistrationResponseJSON } from '../../factors/webauthn.js';
import type { SessionMode } from '../../records.js';
import type { CookieNames } from '../auth-cookies.js';
import { clientInfo } from '../client-info.js';
import { PUBLIC, json, problems, signedIn } from '../openapi/route-schema.js';
import { signedInSender } from '../signed-in.js';
import { attestationSchema, name, webauthnOptions } from './passkeys.js';

const TAG = ['Passkeys'];

const optionsSchema = {
  tags: TAG,
  summary: 'Options to sign up with a passkey',
  description:
    'Creation options for a new account at `email` (checked as an address, not looked up); no password is ever set.',
  security: PUBLIC,
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['email'],
    properties: { email: { type: 'string', minLength: 1, maxLength: 320, pattern: '^[^\\u0000]*$' } },
  },
  response: {
    200: webauthnOptions('PublicKeyCredentialCreationOptionsJSON'),
    ...problems(400, 429),
  },
} as const;

const signupSchema = {
  tags: TAG,
  summary: 'Sign up with a passkey',
  description:
    'The credential `navigator.credentials.create()` made from the sign-up options: makes the account and its passkey, and signs in (a user-verified passkey: `acr` `mfa`). With `LATCHKEY_EMAIL_VERIFICATION=required` the answer is 202 whether or not the address had an account.',
  security: PUBLIC,
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['response'],
    properties: {
      response: attestationSchema,
      name,
      mode: { type: 'string', enum: ['cookie', 'token', 'hybrid'] },
      remember: { type: 'boolean' },
    },
  },
  response: {
    201: signedIn('Signed up and in: the cookies in `Set-Cookie`, or the tokens in the body (token mode).'),
    202: json(
      {
        type: 'object',
        additionalProperties: false,
        required: ['status'],
        properties: { status: { type: 'string', enum: ['verification_sent'] } },
      },
      'A verification mail may have been sent.',
    ),
    ...problems(400, 401, 403, 409, 429),
  },
} as const;

export function registerPasskeySignupRoutes(
  app: FastifyInstance,
  latchkey: Latchkey,
  names: CookieNames,
): void {
  const { auth } = latchkey;
  const sendSignedIn = signedInSender(latchkey, names);

  app.post<{ Body: { email: string } }>(
    '/v1/passkeys/signup/options',
    { schema: optionsSchema },
    async (request, reply) =>
      reply.send(await auth.passkeySignupOptions({ email: request.body.email, ip: request.ip })),
  );

  app.post<{
    Body: { response: RegistrationResponseJSON; name?: string; mode?: SessionMode; remember?: boolean };
  }>('/v1/passkeys/signup', { schema: signupSchema }, async (request, reply) => {
    const signedIn = await auth.signUpWithPasskey({
      response: request.body.response,
      name: request.body.name,
      mode: request.body.mode ?? 'cookie',
      remember: request.body.remember === true,
      client: clientInfo(request),
    });
    // Under LATCHKEY_EMAIL_VERIFICATION=required: the same answer whether or not the address had an account.
    if (signedIn === null) return reply.code(202).send({ status: 'verification_sent' });
    void reply.code(201);
    return sendSignedIn(reply, signedIn);
  });
}
