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

function clientInfo(request: FastifyRequest): { userAgent: string | null; ip: string } {
  const agent = request.headers['user-agent'];
  return { userAgent: typeof agent === 'string' ? agent.slice(0, 256) : null, ip: request.ip };
}

/** The cookie that binds a sign-in link to the browser that asked for it. */
export function bindingCookieName(names: CookieNames): string {
  return names.secure ? '__Host-latchkey_link' : 'latchkey_link';
}

export function registerRecoveryRoutes(app: FastifyInstance, latchkey: Latchkey, names: CookieNames): void {
  const sendSignedIn = signedInSender(latchkey, names);
  const { auth, config } = latchkey;
  const binding = bindingCookieName(names);

  app.post<{ Body: { email: string } }>(
    '/v1/password/forgot',
    { schema: body({ email }, ['email']) },
    async (request, reply) => {
      await auth.forgotPassword({ email: request.body.email, ip: request.ip });
      return reply.code(202).send(ACCEPTED);
    },
  );

  app.post<{ Body: { token: string; password: string } }>(
    '/v1/password/reset',
    { schema: body({ token, password }, ['token', 'password']) },
    async (request, reply) => {
      await auth.resetPassword({ ...request.body, ip: request.ip });
      return reply.code(204).send();
    },
  );

  app.post<{ Body: { token: string } }>(
    '/v1/email/verify',
    { schema: body({ token }, ['token']) },
    async (request, reply) => {
      const user = await auth.verifyEmail(request.body.token);
      return reply.send({ user: publicUser(user) });
    },
  );

  app.post<{ Body: { email?: string } | null }>(
    '/v1/email/verify/request',
    { schema: { body: { type: ['object', 'null'], additionalProperties: false, properties: { email } } } },
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
    { schema: body({ email, password }, ['email', 'password']) },
    async (request, reply) => {
      // Signed in; a cookie session must send its CSRF token (checked with the session).
      const principal = await authenticateRequest(request, latchkey, names);
      await auth.requestEmailChange(principal, { ...request.body, ip: request.ip });
      return reply.code(202).send(ACCEPTED);
    },
  );

  app.post<{ Body: { token: string } }>(
    '/v1/email/change/confirm',
    { schema: body({ token }, ['token']) },
    async (request, reply) => {
      const user = await auth.confirmEmailChange(request.body.token);
      return reply.send({ user: publicUser(user) });
    },
  );

  app.post<{ Body: { email: string } }>(
    '/v1/login/link',
    { schema: body({ email }, ['email']) },
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
    { schema: body({ token, mode, confirm: { type: 'boolean' } }, ['token']) },
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
    {
      schema: body({ email, code: { type: 'string', minLength: 1, maxLength: 16 }, mode }, ['email', 'code']),
    },
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
