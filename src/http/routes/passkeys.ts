/**
 * The routes of passkeys (WebAuthn). Registering, listing, renaming and removing need a signed-in
 * session (cookie + CSRF, bearer or hybrid, like every account route); signing in needs none
 * (the assertion is the credential). Each makes one call to the use cases; the WebAuthn JSON
 * (`PublicKeyCredential.toJSON()`) is checked by schema here and verified in the core.
 *
 * | route | |
 * | --- | --- |
 * | `POST /v1/passkeys/register/options` | creation options for the signed-in user |
 * | `POST /v1/passkeys/register` | `{ response, name? }`: stores it, renews the session |
 * | `POST /v1/passkeys/login/options` | request options (a sign-in, a second step, a proof) |
 * | `POST /v1/passkeys/login` | `{ response, mode?, remember? }`: signs in |
 * | `GET /v1/passkeys` | the user's passkeys |
 * | `PATCH /v1/passkeys/:id`, `POST /v1/passkeys/:id/rename` | `{ name }` |
 * | `POST /v1/passkeys/:id/remove` | `{ password }` or `{ assertion }`: renews the session |
 * | `POST /v1/passkeys/signup/options` | `{ email }`: creation options for a new account |
 * | `POST /v1/passkeys/signup` | `{ response, name?, mode?, remember? }`: 201 signed in, or 202 under `required` |
 */

import type { FastifyInstance } from 'fastify';
import type { Latchkey } from '../../app/latchkey.js';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '../../factors/webauthn.js';
import type { PasskeyRecord, SessionMode } from '../../records.js';
import { authenticateRequest } from '../authenticate.js';
import type { CookieNames } from '../auth-cookies.js';
import { clientInfo } from '../client-info.js';
import { signedInSender } from '../signed-in.js';
import { PUBLIC, SIGNED_IN, SIGNED_IN_READ, json, problems, ref, signedIn } from '../openapi/route-schema.js';

const b64url = (maxLength: number) =>
  ({ type: 'string', minLength: 1, maxLength, pattern: '^[A-Za-z0-9_-]+$' }) as const;
const credentialId = b64url(1400);
export const name = { type: 'string', maxLength: 100, pattern: '^[^\\u0000]*$' } as const;
const extensions = { type: 'object', maxProperties: 16 } as const;
const attachment = { type: ['string', 'null'], enum: ['platform', 'cross-platform', null] } as const;

/** A `PublicKeyCredential` from `navigator.credentials.get()`, as JSON. */
export const assertionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'rawId', 'type', 'response'],
  properties: {
    id: credentialId,
    rawId: credentialId,
    type: { const: 'public-key' },
    authenticatorAttachment: attachment,
    clientExtensionResults: extensions,
    response: {
      type: 'object',
      additionalProperties: false,
      required: ['clientDataJSON', 'authenticatorData', 'signature'],
      properties: {
        clientDataJSON: b64url(4096),
        authenticatorData: b64url(4096),
        signature: b64url(1024),
        userHandle: { anyOf: [b64url(128), { type: 'null' }] },
      },
    },
  },
} as const;

/** A `PublicKeyCredential` from `navigator.credentials.create()`, as JSON. */
export const attestationSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'rawId', 'type', 'response'],
  properties: {
    id: credentialId,
    rawId: credentialId,
    type: { const: 'public-key' },
    authenticatorAttachment: attachment,
    clientExtensionResults: extensions,
    response: {
      type: 'object',
      additionalProperties: false,
      required: ['clientDataJSON', 'attestationObject'],
      properties: {
        clientDataJSON: b64url(4096),
        attestationObject: b64url(8192),
        authenticatorData: b64url(4096),
        publicKey: b64url(2048),
        publicKeyAlgorithm: { type: 'integer' },
        transports: { type: 'array', maxItems: 8, items: { type: 'string', maxLength: 20 } },
      },
    },
  },
} as const;

const emptyBody = { type: ['object', 'null'], additionalProperties: false, properties: {} } as const;
const idParams = { type: 'object', required: ['id'], properties: { id: credentialId } } as const;

const TAG = ['Passkeys'];
/** Options for the browser's WebAuthn call, as `@simplewebauthn/server` makes them. */
export const webauthnOptions = (name: string) =>
  json(
    {
      type: 'object',
      required: ['challenge'],
      properties: { challenge: { type: 'string' } },
      description: name,
    },
    `\`${name}\` (WebAuthn Level 3): pass it to \`PublicKeyCredential.parse…OptionsFromJSON\`.`,
  );
const onePasskey = json(
  {
    type: 'object',
    additionalProperties: false,
    required: ['passkey'],
    properties: { passkey: ref('Passkey') },
  },
  'The passkey.',
);

const renameSchema = {
  tags: TAG,
  summary: 'Rename a passkey',
  security: SIGNED_IN,
  response: { 200: onePasskey, ...problems(401, 403, 404, 429) },
  params: idParams,
  body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name } },
} as const;

/** A passkey as its owner sees it (the public key is of no use to them). */
function passkeyDocument(passkey: PasskeyRecord): Record<string, unknown> {
  return {
    id: passkey.id,
    name: passkey.name,
    transports: passkey.transports,
    backup_eligible: passkey.backupEligible,
    backed_up: passkey.backedUp,
    aaguid: passkey.aaguid,
    created_at: new Date(passkey.createdAt).toISOString(),
    last_used_at: passkey.lastUsedAt === null ? null : new Date(passkey.lastUsedAt).toISOString(),
  };
}

const PASSKEYS_REGISTER_SCHEMA = {
  tags: TAG,
  summary: 'Register a passkey',
  description: 'The credential `navigator.credentials.create()` made, as JSON; renews the session.',
  security: SIGNED_IN,
  response: {
    201: signedIn('Registered; the renewed session and the passkey.', {
      properties: { passkey: ref('Passkey') },
      required: ['passkey'],
    }),
    ...problems(400, 401, 403, 409, 429),
  },
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['response'],
    properties: { response: attestationSchema, name },
  },
};

const PASSKEYS_LOGIN_SCHEMA = {
  tags: TAG,
  summary: 'Sign in with a passkey',
  security: PUBLIC,
  response: { 200: signedIn('Signed in.'), ...problems(401, 403, 429) },
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['response'],
    properties: {
      response: assertionSchema,
      mode: { type: 'string', enum: ['cookie', 'token', 'hybrid'] },
      remember: { type: 'boolean' },
    },
  },
};

const PASSKEYS_ID_REMOVE_SCHEMA = {
  tags: TAG,
  summary: 'Remove a passkey',
  description: 'Needs the password or a fresh assertion of another passkey; renews the session.',
  security: SIGNED_IN,
  response: { 200: signedIn('Removed; the renewed session.'), ...problems(400, 401, 403, 404, 429) },
  params: idParams,
  body: {
    type: 'object',
    additionalProperties: false,
    properties: {
      password: { type: 'string', minLength: 1, maxLength: 4096 },
      assertion: assertionSchema,
    },
    oneOf: [{ required: ['password'] }, { required: ['assertion'] }],
  },
};

const registerOptionsSchema = {
  tags: TAG,
  summary: 'Options to create a passkey',
  security: SIGNED_IN,
  body: emptyBody,
  response: {
    200: webauthnOptions('PublicKeyCredentialCreationOptionsJSON'),
    ...problems(401, 403, 429),
  },
};

const loginOptionsSchema = {
  tags: TAG,
  summary: 'Options to sign in with a passkey',
  description: 'For a sign-in, the second step of one, or a proof before removing a passkey.',
  security: PUBLIC,
  body: emptyBody,
  response: { 200: webauthnOptions('PublicKeyCredentialRequestOptionsJSON'), ...problems(429) },
};

const listSchema = {
  tags: TAG,
  summary: 'List my passkeys',
  security: SIGNED_IN_READ,
  response: {
    200: json(
      {
        type: 'object',
        additionalProperties: false,
        required: ['passkeys'],
        properties: { passkeys: { type: 'array', items: ref('Passkey') } },
      },
      'The passkeys of the user.',
    ),
    ...problems(401, 403, 429),
  },
};

export function registerPasskeyRoutes(app: FastifyInstance, latchkey: Latchkey, names: CookieNames): void {
  const { auth } = latchkey;
  const sendSignedIn = signedInSender(latchkey, names);

  app.post('/v1/passkeys/register/options', { schema: registerOptionsSchema }, async (request, reply) => {
    const principal = await authenticateRequest(request, latchkey, names);
    return reply.send(await auth.passkeyRegistrationOptions(principal));
  });

  app.post<{ Body: { response: RegistrationResponseJSON; name?: string } }>(
    '/v1/passkeys/register',
    { schema: PASSKEYS_REGISTER_SCHEMA },
    async (request, reply) => {
      const principal = await authenticateRequest(request, latchkey, names);
      const { passkey, signedIn } = await auth.registerPasskey(principal, {
        response: request.body.response,
        name: request.body.name,
        client: clientInfo(request),
      });
      void reply.code(201);
      return sendSignedIn(reply, signedIn, { body: { passkey: passkeyDocument(passkey) } });
    },
  );

  app.post('/v1/passkeys/login/options', { schema: loginOptionsSchema }, async (request, reply) => {
    return reply.send(await auth.passkeyLoginOptions({ ip: request.ip }));
  });

  app.post<{ Body: { response: AuthenticationResponseJSON; mode?: SessionMode; remember?: boolean } }>(
    '/v1/passkeys/login',
    { schema: PASSKEYS_LOGIN_SCHEMA },
    async (request, reply) => {
      const signedIn = await auth.loginWithPasskey({
        response: request.body.response,
        mode: request.body.mode ?? 'cookie',
        remember: request.body.remember === true,
        client: clientInfo(request),
      });
      return sendSignedIn(reply, signedIn);
    },
  );

  app.get('/v1/passkeys', { schema: listSchema }, async (request, reply) => {
    const principal = await authenticateRequest(request, latchkey, names);
    const passkeys = await auth.listPasskeys(principal);
    return reply.send({ passkeys: passkeys.map(passkeyDocument) });
  });

  const rename = async (
    request: { params: { id: string }; body: { name: string } } & Parameters<typeof authenticateRequest>[0],
  ): Promise<Record<string, unknown>> => {
    const principal = await authenticateRequest(request, latchkey, names);
    const passkey = await auth.renamePasskey(principal, {
      passkeyId: request.params.id,
      name: request.body.name,
    });
    return { passkey: passkeyDocument(passkey) };
  };
  app.patch<{ Params: { id: string }; Body: { name: string } }>(
    '/v1/passkeys/:id',
    { schema: renameSchema },
    async (request, reply) => reply.send(await rename(request)),
  );
  // The same, for a form or a client that cannot send PATCH.
  app.post<{ Params: { id: string }; Body: { name: string } }>(
    '/v1/passkeys/:id/rename',
    { schema: { ...renameSchema, summary: 'Rename a passkey (POST)' } },
    async (request, reply) => reply.send(await rename(request)),
  );

  app.post<{ Params: { id: string }; Body: { password?: string; assertion?: AuthenticationResponseJSON } }>(
    '/v1/passkeys/:id/remove',
    { schema: PASSKEYS_ID_REMOVE_SCHEMA },
    async (request, reply) => {
      const principal = await authenticateRequest(request, latchkey, names);
      const renewed = await auth.removePasskey(principal, {
        passkeyId: request.params.id,
        password: request.body.password,
        assertion: request.body.assertion,
        client: clientInfo(request),
      });
      return sendSignedIn(reply, renewed);
    },
  );
}
