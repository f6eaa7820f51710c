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
import { signedInSender } from '../signed-in.js';
import { attestationSchema, name } from './passkeys.js';

export function registerPasskeySignupRoutes(
  app: FastifyInstance,
  latchkey: Latchkey,
  names: CookieNames,
): void {
  const { auth } = latchkey;
  const sendSignedIn = signedInSender(latchkey, names);

  app.post<{ Body: { email: string } }>(
    '/v1/passkeys/signup/options',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['email'],
          properties: { email: { type: 'string', minLength: 1, maxLength: 320, pattern: '^[^\\u0000]*$' } },
        },
      },
    },
    async (request, reply) =>
      reply.send(await auth.passkeySignupOptions({ email: request.body.email, ip: request.ip })),
  );

  app.post<{
    Body: { response: RegistrationResponseJSON; name?: string; mode?: SessionMode; remember?: boolean };
  }>(
    '/v1/passkeys/signup',
    {
      schema: {
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
      },
    },
    async (request, reply) => {
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
    },
  );
}
