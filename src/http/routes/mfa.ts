/**
 * The routes of second factors: listing, setting up and removing a TOTP factor, and replacing the
 * recovery codes (`POST /v1/mfa/recovery-codes`: the password and a code), from a signed-in
 * session (cookie + CSRF, bearer or hybrid, like every account route), and finishing a login
 * that answered `mfa_required` (`POST /v1/mfa/verify`: the challenge is the credential, so no
 * session is needed), and raising a signed-in session's assurance (`POST /v1/mfa/step-up`). Each
 * makes one call to the use cases.
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
import { PUBLIC, SIGNED_IN, SIGNED_IN_READ, json, problems, ref, signedIn } from '../openapi/route-schema.js';

const noNul = '^[^\\u0000]*$';
const code = { type: 'string', minLength: 1, maxLength: 16, pattern: noNul } as const;
const recoveryCode = { type: 'string', minLength: 1, maxLength: 40, pattern: noNul } as const;
const factorId = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' } as const;

const TAG = ['Second factors'];
const recoveryCodes = {
  type: 'array',
  items: { type: 'string' },
  description: 'Shown once: each signs in once in place of a code.',
};

const listSchema = {
  tags: TAG,
  summary: 'List my second factors',
  security: SIGNED_IN_READ,
  response: {
    200: json(
      {
        type: 'object',
        additionalProperties: false,
        required: ['factors', 'recovery_codes_left'],
        properties: {
          factors: { type: 'array', items: ref('Factor') },
          recovery_codes_left: {
            type: 'integer',
            minimum: 0,
            description: 'Recovery codes not yet used (0 without a second factor).',
          },
        },
      },
      'The factors, confirmed or not, and the recovery codes left.',
    ),
    ...problems(401, 403, 429),
  },
};

const enrolSchema = {
  tags: TAG,
  summary: 'Start setting up TOTP',
  description: 'The factor is not used until it is confirmed with a first code.',
  security: SIGNED_IN,
  response: {
    201: json(
      {
        type: 'object',
        additionalProperties: false,
        required: ['factor', 'secret', 'otpauth_uri'],
        properties: {
          factor: ref('Factor'),
          secret: { type: 'string', description: 'The shared secret, base32 (for typing it in).' },
          otpauth_uri: { type: 'string', examples: ['otpauth://totp/Latchkey:ada%40example.com?secret=…'] },
        },
      },
      'The unconfirmed factor and its secret.',
    ),
    ...problems(401, 403, 409, 429),
  },
  body: {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: { label: { type: 'string', maxLength: 100, pattern: noNul } },
  },
} as const;

const confirmSchema = {
  tags: TAG,
  summary: 'Confirm TOTP with a first code',
  description: 'Answers the recovery codes (once) and renews the session.',
  security: SIGNED_IN,
  response: {
    200: signedIn('Confirmed; the renewed session and the recovery codes.', {
      properties: { recovery_codes: recoveryCodes },
      required: ['recovery_codes'],
    }),
    ...problems(400, 401, 403, 404, 429),
  },
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['factor_id', 'code'],
    properties: { factor_id: factorId, code },
  },
} as const;

const removeSchema = {
  tags: TAG,
  summary: 'Remove a second factor',
  description: 'Needs the password and a code (or a recovery code); renews the session.',
  security: SIGNED_IN,
  response: { 200: signedIn('Removed; the renewed session.'), ...problems(400, 401, 403, 404, 429) },
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
  tags: TAG,
  summary: 'Replace my recovery codes',
  description:
    'Needs the password and a current code (or a recovery code); the old codes stop working. `not_found` without a confirmed TOTP factor.',
  security: SIGNED_IN,
  response: {
    200: json(
      {
        type: 'object',
        additionalProperties: false,
        required: ['recovery_codes'],
        properties: { recovery_codes: recoveryCodes },
      },
      'The new recovery codes.',
    ),
    ...problems(401, 403, 404, 429),
  },
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
  tags: TAG,
  summary: 'Finish a sign-in with a second factor',
  description:
    'The `challenge` of the 401 `mfa_required` answer, with a TOTP code, a recovery code or a passkey.',
  security: PUBLIC,
  response: { 200: signedIn('Signed in.'), ...problems(401, 403, 429) },
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

const stepUpSchema = {
  tags: TAG,
  summary: 'Step up my session with a second factor',
  description:
    'RFC 9470: after a resource answered `insufficient_user_authentication`, prove a second factor again (a TOTP code, a recovery code or a passkey); the session is renewed with `acr` `mfa`, `amr` gaining the method and `auth_time` now. `no_factor` for an account without that kind of factor.',
  security: SIGNED_IN,
  response: {
    200: signedIn('Stepped up; the renewed session at its raised assurance.'),
    ...problems(401, 403, 409, 429),
  },
  body: {
    type: 'object',
    additionalProperties: false,
    properties: { code, recovery_code: recoveryCode, passkey: assertionSchema },
    oneOf: [{ required: ['code'] }, { required: ['recovery_code'] }, { required: ['passkey'] }],
  },
} as const;

type StepUpBody = Omit<VerifyBody, 'challenge'>;

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

  app.get('/v1/mfa', { schema: listSchema }, async (request, reply) => {
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

  // Step-up (RFC 9470): a signed-in session proves a second factor again; answered like a login.
  app.post<{ Body: StepUpBody }>('/v1/mfa/step-up', { schema: stepUpSchema }, async (request, reply) => {
    const principal = await authenticateRequest(request, latchkey, names);
    const renewed = await auth.stepUp(principal, {
      code: request.body.code,
      recoveryCode: request.body.recovery_code,
      passkey: request.body.passkey,
      client: clientInfo(request),
    });
    return sendSignedIn(reply, renewed);
  });

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
