/**
 * The routes of second factors: listing, setting up and removing a TOTP factor, and replacing the
 * recovery codes (`POST /v1/mfa/recovery-codes`: the password and a code), from a signed-in
 * session (cookie + CSRF, bearer or hybrid, like every account route), and finishing a login
 * that answered `mfa_required` (`POST /v1/mfa/verify`: the challenge is the credential, so no
 * session is needed). Each makes one call to the use cases.
 */

import type { FastifyInstance } from 'fastify';
import type { Latchkey } from '../../app/latchkey.js';
import type { FactorRecord } from '../../records.js';
import { authenticateRequest } from '../authenticate.js';
import type { CookieNames } from '../auth-cookies.js';
import { clientInfo } from '../client-info.js';
import { signedInSender } from '../signed-in.js';
import type { AuthenticationResponseJSON } from '../../factors/webauthn.js';
import { assertionSchema } from './passkeys.js';

const noNul = '^[^\\u0000]*$';
const code = { type: 'string', minLength: 1, maxLength: 16, pattern: noNul } as const;
const recoveryCode = { type: 'string', minLength: 1, maxLength: 40, pattern: noNul } as const;
const factorId = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' } as const;

const enrolSchema = {
  body: {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: { label: { type: 'string', maxLength: 100, pattern: noNul } },
  },
} as const;

const confirmSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['factor_id', 'code'],
    properties: { factor_id: factorId, code },
  },
} as const;

const removeSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['factor_id', 'password'],
    properties: {
      factor_id: factorId,
      password: { type: 'string', minLength: 1, maxLength: 4096 },
      code,
      recovery_code: recoveryCode,
    },
  },
} as const;

/** The password and a proof of the second factor: a current code or a recovery code. */
const regenerateSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['password'],
    properties: {
      password: { type: 'string', minLength: 1, maxLength: 4096 },
      code,
      recovery_code: recoveryCode,
    },
    oneOf: [{ required: ['code'] }, { required: ['recovery_code'] }],
  },
} as const;

const verifySchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['challenge'],
    properties: {
      challenge: { type: 'string', minLength: 1, maxLength: 200, pattern: noNul },
      code,
      recovery_code: recoveryCode,
      passkey: assertionSchema,
    },
    oneOf: [{ required: ['code'] }, { required: ['recovery_code'] }, { required: ['passkey'] }],
  },
} as const;

type VerifyBody = {
  challenge: string;
  code?: string;
  recovery_code?: string;
  passkey?: AuthenticationResponseJSON;
};

/** A factor as the owner sees it: never its secret. */
function factorDocument(factor: FactorRecord): Record<string, unknown> {
  return {
    id: factor.id,
    kind: factor.kind,
    label: factor.label,
    confirmed: factor.confirmedAt !== null,
    created_at: new Date(factor.createdAt).toISOString(),
    last_used_at: factor.lastUsedAt === null ? null : new Date(factor.lastUsedAt).toISOString(),
  };
}

export function registerMFARoutes(app: FastifyInstance, latchkey: Latchkey, names: CookieNames): void {
  const { auth } = latchkey;
  const sendSignedIn = signedInSender(latchkey, names);

  app.get('/v1/mfa', async (request, reply) => {
    const principal = await authenticateRequest(request, latchkey, names);
    const [factors, left] = await Promise.all([
      auth.listFactors(principal),
      auth.recoveryCodesLeft(principal),
    ]);
    return reply.send({ factors: factors.map(factorDocument), recovery_codes_left: left });
  });

  app.post<{ Body: { label?: string } | null }>(
    '/v1/mfa/totp',
    { schema: enrolSchema },
    async (request, reply) => {
      const principal = await authenticateRequest(request, latchkey, names);
      const enrolment = await auth.enrolTotp(principal, { label: request.body?.label });
      return reply.code(201).send({
        factor: factorDocument(enrolment.factor),
        secret: enrolment.secret,
        otpauth_uri: enrolment.uri,
      });
    },
  );

  app.post<{ Body: { factor_id: string; code: string } }>(
    '/v1/mfa/totp/confirm',
    { schema: confirmSchema },
    async (request, reply) => {
      const principal = await authenticateRequest(request, latchkey, names);
      const { signedIn, recoveryCodes } = await auth.confirmTotp(principal, {
        factorId: request.body.factor_id,
        code: request.body.code,
        client: clientInfo(request),
      });
      return sendSignedIn(reply, signedIn, { body: { recovery_codes: recoveryCodes } });
    },
  );

  app.post<{ Body: { factor_id: string; password: string; code?: string; recovery_code?: string } }>(
    '/v1/mfa/remove',
    { schema: removeSchema },
    async (request, reply) => {
      const principal = await authenticateRequest(request, latchkey, names);
      const renewed = await auth.removeFactor(principal, {
        factorId: request.body.factor_id,
        password: request.body.password,
        code: request.body.code,
        recoveryCode: request.body.recovery_code,
        client: clientInfo(request),
      });
      return sendSignedIn(reply, renewed);
    },
  );

  app.post<{ Body: { password: string; code?: string; recovery_code?: string } }>(
    '/v1/mfa/recovery-codes',
    { schema: regenerateSchema },
    async (request, reply) => {
      const principal = await authenticateRequest(request, latchkey, names);
      const codes = await auth.regenerateRecoveryCodes(principal, {
        password: request.body.password,
        code: request.body.code,
        recoveryCode: request.body.recovery_code,
        client: clientInfo(request),
      });
      return reply.send({ recovery_codes: codes });
    },
  );

  app.post<{ Body: VerifyBody }>('/v1/mfa/verify', { schema: verifySchema }, async (request, reply) => {
    const signedIn = await auth.verifySecondFactor({
      challenge: request.body.challenge,
      code: request.body.code,
      recoveryCode: request.body.recovery_code,
      passkey: request.body.passkey,
      client: clientInfo(request),
    });
    return sendSignedIn(reply, signedIn);
  });
}
