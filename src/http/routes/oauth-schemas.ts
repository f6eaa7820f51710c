/**
 * The documentation of the OAuth endpoints (`./oauth.ts`). Their bodies are parsed by hand (form
 * or JSON, every value a string), not by a Fastify schema, so the request body is given as
 * `documentedBody`: `/openapi.json` shows it, Fastify does not validate with it.
 */

import { CLIENT_BASIC, PUBLIC, json, oauthErrors, problemResponse, ref } from '../openapi/route-schema.js';

const FORM = 'application/x-www-form-urlencoded';
const TAG = ['OAuth'];
const parameter = (description: string) => ({ type: 'string', maxLength: 8192, description });

/** The errors of the OAuth scope: the RFC 6749 shape, except the cross-site refusal (problem+json). */
const errors = {
  ...oauthErrors(400, 401, 429),
  403: problemResponse(403, 'A problem: `cross_site_request` (refused before the OAuth endpoint).'),
  413: json(ref('OAuthError'), '`invalid_request`: the body is over 16 KiB.'),
  415: json(ref('OAuthError'), '`invalid_request`: neither a form nor JSON.'),
  '5XX': json(ref('OAuthError'), '`server_error`, or `temporarily_unavailable` with `Retry-After`.'),
};

const clientToken = {
  title: 'Client credentials',
  type: 'object',
  additionalProperties: false,
  required: ['access_token', 'token_type', 'expires_in', 'scope'],
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string', enum: ['Bearer'] },
    expires_in: { type: 'integer', examples: [900] },
    scope: { type: 'string', examples: ['orders:read'] },
  },
};

export const OAUTH_TOKEN_SCHEMA = {
  tags: TAG,
  summary: 'Token endpoint',
  description:
    'The client credentials grant (client authentication by HTTP Basic or `client_id`/`client_secret` ' +
    'in the body, never both), and the refresh token grant of token-mode sessions.',
  security: [...CLIENT_BASIC, {}],
  documentedBody: {
    consumes: [FORM, 'application/json'],
    schema: {
      type: 'object',
      required: ['grant_type'],
      properties: {
        grant_type: { type: 'string', enum: ['client_credentials', 'refresh_token'] },
        scope: parameter('Space-separated; at most the client’s scopes (default: all of them).'),
        audience: parameter('One of the client’s audiences (default: its first).'),
        resource: parameter('RFC 8707: the same as `audience`.'),
        refresh_token: parameter('The refresh token (`grant_type=refresh_token`).'),
        client_id: parameter('`client_secret_post` authentication.'),
        client_secret: parameter('`client_secret_post` authentication.'),
      },
      examples: [{ grant_type: 'client_credentials', scope: 'orders:read' }],
    },
  },
  response: {
    200: json({ oneOf: [clientToken, ref('TokenResponse')] }, 'The token response (RFC 6749 §5.1).'),
    ...errors,
  },
};

export const INTROSPECT_SCHEMA = {
  tags: TAG,
  summary: 'Token introspection (RFC 7662)',
  description:
    'For an authenticated client. Tokens are checked strictly for the server’s audience or one of the ' +
    'caller’s; an unknown, expired or revoked token is `{ "active": false }` and nothing else.',
  security: [...CLIENT_BASIC, {}],
  documentedBody: {
    consumes: [FORM, 'application/json'],
    schema: {
      type: 'object',
      required: ['token'],
      properties: {
        token: parameter('An access token or a session token.'),
        token_type_hint: parameter('`access_token` or `session`.'),
        client_id: parameter('`client_secret_post` authentication.'),
        client_secret: parameter('`client_secret_post` authentication.'),
      },
    },
  },
  response: {
    200: json(
      {
        oneOf: [
          {
            title: 'Inactive',
            type: 'object',
            additionalProperties: false,
            required: ['active'],
            properties: { active: { const: false } },
          },
          {
            title: 'Active',
            type: 'object',
            additionalProperties: false,
            required: ['active', 'sub', 'exp', 'iat', 'token_type'],
            properties: {
              active: { const: true },
              sub: { type: 'string' },
              sid: { type: 'string' },
              scope: { type: 'string' },
              client_id: { type: 'string' },
              exp: { type: 'integer' },
              iat: { type: 'integer' },
              token_type: { type: 'string', enum: ['session', 'access_token'] },
            },
          },
        ],
      },
      'The introspection response.',
    ),
    ...errors,
  },
};

export const OAUTH_METADATA_SCHEMA = {
  tags: ['Discovery'],
  summary: 'Authorization server metadata (RFC 8414)',
  security: PUBLIC,
  response: {
    200: json(
      {
        type: 'object',
        additionalProperties: false,
        required: [
          'issuer',
          'token_endpoint',
          'jwks_uri',
          'introspection_endpoint',
          'grant_types_supported',
          'token_endpoint_auth_methods_supported',
          'introspection_endpoint_auth_methods_supported',
          'response_types_supported',
          'latchkey_revocation_feed',
        ],
        properties: {
          issuer: { type: 'string', format: 'uri' },
          token_endpoint: { type: 'string', format: 'uri' },
          jwks_uri: { type: 'string', format: 'uri' },
          introspection_endpoint: { type: 'string', format: 'uri' },
          grant_types_supported: { type: 'array', items: { type: 'string' } },
          token_endpoint_auth_methods_supported: { type: 'array', items: { type: 'string' } },
          introspection_endpoint_auth_methods_supported: { type: 'array', items: { type: 'string' } },
          response_types_supported: { type: 'array', items: { type: 'string' }, maxItems: 0 },
          latchkey_revocation_feed: { type: 'string', format: 'uri' },
        },
      },
      'The metadata.',
    ),
  },
};
