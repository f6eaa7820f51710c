/**
 * The shared schemas of the API's answers, added to the server with `app.addSchema` and named
 * in route schemas as `{ $ref: 'User#' }`; in `/openapi.json` they are `#/components/schemas/*`.
 * They describe what `../documents.ts` and the routes build: a member added there is a member
 * added here (`test/http/openapi-conformance.test.ts` refuses any undocumented one).
 */

import { ERROR_CATALOGUE } from '../../errors.js';
import { ADMIN_COMPONENT_SCHEMAS } from './admin-components.js';

const noNul = '^[^\\u0000]*$';
const time = { type: 'string', format: 'date-time', examples: ['2026-01-01T12:00:00.000Z'] } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;
const mode = { type: 'string', enum: ['cookie', 'token', 'hybrid'] } as const;
const id = (example: string) => ({ type: 'string', examples: [example] }) as const;

const User = {
  $id: 'User',
  description: 'An account as its owner sees it (never a hash or a secret).',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'email', 'status', 'roles', 'email_verified', 'created_at'],
  properties: {
    id: id('usr_6v2Qy1mZ'),
    email: { type: 'string', examples: ['ada@example.com'] },
    status: { type: 'string', enum: ['active', 'disabled'] },
    roles: { type: 'array', items: { type: 'string' } },
    email_verified: { type: 'boolean' },
    created_at: time,
  },
} as const;

const SessionSummary = {
  $id: 'SessionSummary',
  description:
    'The short form of a session; `expires_at` is when it ends if nothing slides it. `amr`, `auth_time` and `acr` are its assurance, as its access tokens carry it (RFC 9470): raised by `POST /v1/mfa/step-up`.',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'mode', 'expires_at', 'amr', 'auth_time', 'acr'],
  properties: {
    id: id('ses_CTDc41'),
    mode,
    expires_at: time,
    amr: {
      type: 'array',
      items: { type: 'string' },
      description: 'How the user authenticated (RFC 8176): `pwd`, `otp`, `hwk`, `swk`, `email`, `mfa`.',
      examples: [['pwd', 'otp', 'mfa']],
    },
    auth_time: {
      type: 'integer',
      minimum: 0,
      description:
        'When the user last authenticated (the sign-in or the last step-up), in seconds since the epoch.',
      examples: [1767225600],
    },
    acr: {
      type: 'string',
      description:
        'The assurance level: `1` (one factor) or `mfa` (two factors, or a user-verified passkey).',
      examples: ['1', 'mfa'],
    },
  },
} as const;

const Session = {
  $id: 'Session',
  description: 'A row of `GET /v1/sessions`; `current` marks the caller’s own session.',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'mode', 'user_agent', 'ip', 'created_at', 'last_seen_at', 'expires_at', 'current'],
  properties: {
    id: id('ses_CTDc41'),
    mode,
    user_agent: { type: ['string', 'null'] },
    ip: { type: ['string', 'null'] },
    created_at: time,
    last_seen_at: time,
    expires_at: time,
    current: { type: 'boolean' },
  },
} as const;

const Factor = {
  $id: 'Factor',
  description: 'A second factor as its owner sees it (never its secret).',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'kind', 'label', 'confirmed', 'created_at', 'last_used_at'],
  properties: {
    id: id('fac_9f3K'),
    kind: { type: 'string', enum: ['totp'] },
    label: { type: 'string' },
    confirmed: { type: 'boolean' },
    created_at: time,
    last_used_at: nullableTime,
  },
} as const;

const Passkey = {
  $id: 'Passkey',
  description: 'A passkey as its owner sees it (the public key is of no use to them).',
  type: 'object',
  additionalProperties: false,
  required: [
    'id',
    'name',
    'transports',
    'backup_eligible',
    'backed_up',
    'aaguid',
    'created_at',
    'last_used_at',
  ],
  properties: {
    id: { type: 'string', description: 'The credential id, base64url.' },
    name: { type: 'string' },
    transports: { type: 'array', items: { type: 'string' } },
    backup_eligible: { type: 'boolean' },
    backed_up: { type: 'boolean' },
    aaguid: { type: 'string' },
    created_at: time,
    last_used_at: nullableTime,
  },
} as const;

const TokenResponse = {
  $id: 'TokenResponse',
  description: 'An OAuth 2.0 token response (RFC 6749 §5.1) of a token-mode session.',
  type: 'object',
  additionalProperties: false,
  required: ['access_token', 'token_type', 'expires_in', 'refresh_token'],
  properties: {
    access_token: { type: 'string', description: 'A signed JWT (RFC 9068 profile).' },
    token_type: { type: 'string', enum: ['Bearer'] },
    expires_in: { type: 'integer', examples: [900] },
    refresh_token: { type: 'string' },
  },
} as const;

/** The answers of a "we may have sent you a mail" request: the same whatever happened. */
const Accepted = {
  $id: 'Accepted',
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: { status: { type: 'string', enum: ['accepted'] } },
} as const;

const Problem = {
  $id: 'Problem',
  description:
    'An RFC 9457 problem document (`application/problem+json`). `code` is stable and machine-readable; `detail` is safe to show.',
  type: 'object',
  additionalProperties: false,
  required: ['type', 'title', 'status', 'code'],
  properties: {
    type: {
      type: 'string',
      pattern: '^urn:latchkey:error:[a-z_]+$',
      examples: ['urn:latchkey:error:not_found'],
    },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    code: { type: 'string', enum: Object.keys(ERROR_CATALOGUE) },
    detail: { type: 'string' },
    retry_after: { type: 'integer', description: 'Seconds, as in the `Retry-After` header (429, 503).' },
    errors: {
      type: 'array',
      description: 'The fields that failed (`validation_failed` and a few use cases).',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
    challenge: { type: 'string', description: '`mfa_required`: the challenge for `POST /v1/mfa/verify`.' },
    methods: {
      type: 'array',
      description: '`mfa_required`: the second factors the account can use.',
      items: { type: 'string', enum: ['totp', 'passkey', 'recovery_code'] },
    },
    expires_in: { type: 'integer', description: '`mfa_required`: seconds the challenge is valid.' },
    attempts_left: { type: 'integer', description: '`invalid_code`: codes left on this challenge.' },
    resend: { type: 'string', description: '`email_unverified`: where to ask for a new link.' },
  },
  examples: [
    {
      type: 'urn:latchkey:error:invalid_credentials',
      title: 'The email or password is incorrect',
      status: 401,
      code: 'invalid_credentials',
    },
  ],
} as const;

/** RFC 6749 §5.2: the error shape of the OAuth endpoints, which OAuth client libraries expect. */
const OAuthError = {
  $id: 'OAuthError',
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: {
      type: 'string',
      enum: [
        'invalid_request',
        'invalid_client',
        'invalid_grant',
        'unsupported_grant_type',
        'invalid_scope',
        'invalid_target',
        'too_many_requests',
        'temporarily_unavailable',
        'server_error',
      ],
    },
    error_description: { type: 'string' },
  },
  examples: [{ error: 'invalid_client', error_description: 'Client authentication failed' }],
} as const;

const Revocation = {
  $id: 'Revocation',
  description: 'A revocation record of the feed (times in epoch milliseconds).',
  type: 'object',
  additionalProperties: false,
  required: ['seq', 'kind', 'subject', 'issued_before', 'created_at', 'expires_at'],
  properties: {
    seq: { type: 'integer', minimum: 1 },
    kind: { type: 'string', enum: ['session', 'user', 'token'] },
    subject: { type: 'string', maxLength: 256, pattern: noNul },
    issued_before: { type: ['integer', 'null'] },
    created_at: { type: 'integer' },
    expires_at: { type: 'integer' },
  },
} as const;

const AuditEvent = {
  $id: 'AuditEvent',
  description: 'One security event of the audit trail (who, what, when, from where); never a secret.',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'event', 'at', 'session_id', 'client_id', 'ip', 'user_agent', 'details'],
  properties: {
    id: id('aud_4Jd9sQ'),
    event: { type: 'string', examples: ['login.success'] },
    at: time,
    session_id: { type: ['string', 'null'] },
    client_id: { type: ['string', 'null'] },
    ip: { type: ['string', 'null'], examples: ['203.0.113.7'] },
    user_agent: { type: ['string', 'null'] },
    details: {
      type: 'object',
      description: 'Bounded details: reason, mode, method, counts.',
      additionalProperties: { type: ['string', 'number', 'boolean'] },
    },
  },
} as const;

/** Every shared schema, in the order they are added to the server. */
export const COMPONENT_SCHEMAS = [
  User,
  SessionSummary,
  Session,
  Factor,
  Passkey,
  TokenResponse,
  Accepted,
  Problem,
  OAuthError,
  Revocation,
  AuditEvent,
  ...ADMIN_COMPONENT_SCHEMAS,
] as const;
