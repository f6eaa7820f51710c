/**
 * The shared schemas of the admin API's answers (`../admin-documents.ts` builds them); added
 * with the others of `./components.ts`.
 */

const time = { type: 'string', format: 'date-time', examples: ['2026-01-01T12:00:00.000Z'] } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;
const nullableText = { type: ['string', 'null'] } as const;
const strings = { type: 'array', items: { type: 'string' } } as const;

const AdminUserOverview = {
  $id: 'AdminUserOverview',
  description: 'A user as an admin sees it: the account, its live sessions and its factors (counts).',
  type: 'object',
  additionalProperties: false,
  required: ['user', 'sessions', 'factors'],
  properties: {
    user: { $ref: 'User#' },
    sessions: { type: 'integer', minimum: 0, description: 'Live sessions.' },
    factors: {
      type: 'object',
      additionalProperties: false,
      required: ['totp', 'passkeys'],
      properties: {
        totp: { type: 'integer', minimum: 0, description: 'Confirmed TOTP factors.' },
        passkeys: { type: 'integer', minimum: 0 },
      },
    },
  },
} as const;

const AdminSession = {
  $id: 'AdminSession',
  description: 'A live session of a user, as an admin sees it.',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'mode', 'user_agent', 'ip', 'created_at', 'last_seen_at', 'expires_at', 'acr'],
  properties: {
    id: { type: 'string', examples: ['ses_CTDc41'] },
    mode: { type: 'string', enum: ['cookie', 'token', 'hybrid'] },
    user_agent: nullableText,
    ip: nullableText,
    created_at: time,
    last_seen_at: time,
    expires_at: time,
    acr: { type: 'string', examples: ['1', 'mfa'] },
  },
} as const;

const AdminAuditEvent = {
  $id: 'AdminAuditEvent',
  description:
    'One event of the audit trail with its user. For an `admin.*` event, the admin who acted is `user_id` (or `client_id`), and `details.target` what they acted on.',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'event', 'at', 'user_id', 'session_id', 'client_id', 'ip', 'user_agent', 'details'],
  properties: {
    id: { type: 'string' },
    event: { type: 'string', examples: ['admin.user_disable'] },
    at: time,
    user_id: nullableText,
    session_id: nullableText,
    client_id: nullableText,
    ip: nullableText,
    user_agent: nullableText,
    details: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
  },
} as const;

const MachineClient = {
  $id: 'MachineClient',
  description: 'A machine client (never its secret, nor its hash).',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'status', 'scopes', 'audiences', 'created_at', 'disabled_at'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string', examples: ['orders'] },
    status: { type: 'string', enum: ['active', 'disabled'] },
    scopes: strings,
    audiences: strings,
    created_at: time,
    disabled_at: nullableTime,
  },
} as const;

const WebhookEndpoint = {
  $id: 'WebhookEndpoint',
  description: 'A webhook endpoint (never its signing secret).',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'url', 'events', 'created_at'],
  properties: {
    id: { type: 'string', examples: ['ep_2xq8'] },
    url: { type: 'string', examples: ['https://hooks.example/latchkey'] },
    events: { ...strings, description: 'Event names, or `*` for every audited event.' },
    created_at: time,
  },
} as const;

const WebhookDelivery = {
  $id: 'WebhookDelivery',
  description: 'One delivery of an event to an endpoint, and how it went.',
  type: 'object',
  additionalProperties: false,
  required: [
    'id',
    'event',
    'status',
    'attempts',
    'response_status',
    'last_error',
    'created_at',
    'next_attempt_at',
    'settled_at',
  ],
  properties: {
    id: { type: 'string', examples: ['msg_9Jk2'] },
    event: { type: 'string' },
    status: { type: 'string', enum: ['queued', 'delivered', 'failed'] },
    attempts: { type: 'integer', minimum: 0 },
    response_status: { type: ['integer', 'null'] },
    last_error: nullableText,
    created_at: time,
    next_attempt_at: nullableTime,
    settled_at: nullableTime,
  },
} as const;

/** The admin API's shared schemas. */
export const ADMIN_COMPONENT_SCHEMAS = [
  AdminUserOverview,
  AdminSession,
  AdminAuditEvent,
  MachineClient,
  WebhookEndpoint,
  WebhookDelivery,
] as const;
