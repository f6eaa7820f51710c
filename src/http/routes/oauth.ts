/**
 * The OAuth 2.0 endpoints for machine clients and resource services:
 *
 * - `POST /oauth/token`: the client credentials grant (and the refresh token grant of
 *   token-mode sessions, the same as `POST /v1/refresh`);
 * - `POST /v1/introspect`: token introspection for authenticated clients;
 * - `GET /.well-known/oauth-authorization-server`: the server's metadata.
 *
 * Bodies are `application/x-www-form-urlencoded` (the OAuth standard; parsed only here, 16 KiB
 * at most) or JSON. Errors use the OAuth JSON shape `{error, error_description}` rather than
 * problem+json, because OAuth client libraries expect it: 400 for request errors, 401 with
 * `WWW-Authenticate: Basic realm="latchkey"` for `invalid_client`, 429 with `Retry-After` when a
 * client id is throttled.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 * @see https://www.rfc-editor.org/rfc/rfc7662
 * @see https://www.rfc-editor.org/rfc/rfc8414
 */

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Latchkey } from '../../app/latchkey.js';
import type { ClientCredentials, ClientService } from '../../clients/clients.js';
import { LatchkeyError } from '../../errors.js';
import type { ClientRecord } from '../../records.js';
import { tokenResponse } from '../documents.js';
import { errorHandler } from '../error-handler.js';
import { OAUTH_METADATA_SCHEMA, OAUTH_TOKEN_SCHEMA, INTROSPECT_SCHEMA } from './oauth-schemas.js';

const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
const FORM_BODY_LIMIT = 16 * 1024;
/** Longest parameter value accepted (tokens are at most 8 KiB). */
const MAX_PARAMETER_LENGTH = 8_192;

/** The OAuth error codes this server answers with. */
const OAUTH_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
]);

/**
 * Reads the client credentials of HTTP Basic authentication: `base64(urlencode(id) ":"
 * urlencode(secret))`. Returns null when there is no `Authorization` header; throws
 * `invalid_client` when it is not well-formed Basic.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
 */
export function parseBasicCredentials(header: string | undefined): ClientCredentials | null {
  if (header === undefined) return null;
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!match?.[1]) throw new LatchkeyError('invalid_client', 'The Authorization header is not Basic');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new LatchkeyError('invalid_client', 'The Basic credentials are malformed');
  try {
    const formDecode = (value: string): string => decodeURIComponent(value.replace(/\+/g, ' '));
    return {
      clientId: formDecode(decoded.slice(0, colon)),
      clientSecret: formDecode(decoded.slice(colon + 1)),
    };
  } catch {
    throw new LatchkeyError('invalid_client', 'The Basic credentials are malformed');
  }
}

/**
 * Authenticates the client of a request by HTTP Basic only (for the revocation feed).
 * Throws `invalid_client` or `too_many_requests`.
 */
export async function authenticateClientBasic(
  request: FastifyRequest,
  clients: ClientService,
): Promise<ClientRecord> {
  const credentials = parseBasicCredentials(request.headers.authorization);
  if (credentials === null) throw new LatchkeyError('invalid_client', 'Client authentication is required');
  return clients.authenticate(credentials);
}

/** The parameters of a form or JSON body; every value must be a string. */
function readParameters(body: unknown): Record<string, string> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new LatchkeyError('invalid_request', 'The body must be an object of parameters');
  }
  const parameters: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    if (typeof value !== 'string' || value.length > MAX_PARAMETER_LENGTH || value.includes('\u0000')) {
      throw new LatchkeyError('invalid_request', `The parameter "${name}" is invalid`);
    }
    parameters[name] = value;
  }
  return parameters;
}

/** Client authentication by Basic or by body parameters, never both (RFC 6749 §2.3). */
async function authenticateClient(
  request: FastifyRequest,
  parameters: Record<string, string>,
  clients: ClientService,
): Promise<ClientRecord> {
  const basic = parseBasicCredentials(request.headers.authorization);
  const { client_id: bodyId, client_secret: bodySecret } = parameters;
  if (basic !== null) {
    if (bodySecret !== undefined) {
      throw new LatchkeyError('invalid_request', 'Use one client authentication method, not two');
    }
    if (bodyId !== undefined && bodyId !== basic.clientId) {
      throw new LatchkeyError('invalid_request', 'client_id does not match the Basic credentials');
    }
    return clients.authenticate(basic);
  }
  if (bodyId === undefined || bodySecret === undefined) {
    throw new LatchkeyError('invalid_client', 'Client authentication is required');
  }
  return clients.authenticate({ clientId: bodyId, clientSecret: bodySecret });
}

/** Sends an RFC 6749 §5.2 error. Messages are written to be public; 5xx say nothing more. */
function sendOAuthError(reply: FastifyReply, error: LatchkeyError): FastifyReply {
  if (error.retryAfter !== undefined) void reply.header('retry-after', String(error.retryAfter));
  let status = error.status;
  let code: string;
  if (OAUTH_ERRORS.has(error.code)) code = error.code;
  else if (error.code === 'too_many_requests') code = 'too_many_requests';
  else if (error.code === 'store_unavailable') code = 'temporarily_unavailable';
  else if (status >= 500) code = 'server_error';
  else {
    code = 'invalid_request';
    if (status === 401) status = 400;
  }
  if (code === 'invalid_client') {
    status = 401;
    void reply.header('www-authenticate', 'Basic realm="latchkey"');
  }
  const description = status >= 500 ? undefined : error.message;
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(description === undefined ? { error: code } : { error: code, error_description: description });
}

/**
 * Registers the OAuth endpoints in their own encapsulated context (their own form parser and
 * error handler; the rest of the server is untouched).
 *
 * @example
 * registerOAuthRoutes(app, latchkey, createClientService(latchkey));
 * // curl -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials localhost:8080/oauth/token
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
 */
export function registerOAuthRoutes(app: FastifyInstance, latchkey: Latchkey, clients: ClientService): void {
  const { config } = latchkey;
  const issuer = config.issuer;

  app.get(
    '/.well-known/oauth-authorization-server',
    { schema: OAUTH_METADATA_SCHEMA },
    async (_request, reply) => {
      void reply.header('cache-control', 'public, max-age=300');
      return reply.send({
        issuer,
        token_endpoint: `${issuer}/oauth/token`,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        introspection_endpoint: `${issuer}/v1/introspect`,
        grant_types_supported: ['client_credentials', 'refresh_token'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        response_types_supported: [],
        latchkey_revocation_feed: `${issuer}/v1/revocations`,
      });
    },
  );

  void app.register((scope, _options, done) => {
    scope.addContentTypeParser(
      FORM_CONTENT_TYPE,
      { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
      (_request, body, parsed) => {
        const parameters: Record<string, string> = {};
        for (const [name, value] of new URLSearchParams(body as string)) {
          if (Object.hasOwn(parameters, name)) {
            parsed(new LatchkeyError('invalid_request', `The parameter "${name}" is repeated`), undefined);
            return;
          }
          parameters[name] = value;
        }
        parsed(null, parameters);
      },
    );

    scope.setErrorHandler(errorHandler(sendOAuthError));

    scope.post('/oauth/token', { schema: OAUTH_TOKEN_SCHEMA }, async (request, reply) => {
      const parameters = readParameters(request.body);
      const grantType = parameters.grant_type;
      if (grantType === 'refresh_token') {
        const refreshToken = parameters.refresh_token;
        if (refreshToken === undefined)
          throw new LatchkeyError('invalid_request', 'refresh_token is required');
        const result = await latchkey.auth.refresh({ token: refreshToken, channel: 'body', ip: request.ip });
        return reply.send(tokenResponse(result));
      }
      if (grantType === undefined) throw new LatchkeyError('invalid_request', 'grant_type is required');
      if (grantType !== 'client_credentials') throw new LatchkeyError('unsupported_grant_type');
      const client = await authenticateClient(request, parameters, clients);
      const audience = parameters.audience ?? parameters.resource;
      if (
        parameters.audience !== undefined &&
        parameters.resource !== undefined &&
        parameters.audience !== parameters.resource
      ) {
        throw new LatchkeyError('invalid_target', 'audience and resource differ');
      }
      const response = clients.issueToken(client, {
        ...(parameters.scope === undefined ? {} : { scope: parameters.scope }),
        ...(audience === undefined ? {} : { audience }),
      });
      request.log.info({ event: 'client.token', clientId: client.id }, 'client token issued');
      return reply.send(response);
    });

    scope.post('/v1/introspect', { schema: INTROSPECT_SCHEMA }, async (request, reply) => {
      const parameters = readParameters(request.body);
      const caller = await authenticateClient(request, parameters, clients);
      const token = parameters.token;
      if (token === undefined || token === '')
        throw new LatchkeyError('invalid_request', 'token is required');
      return reply.send(await clients.introspect(caller, token, parameters.token_type_hint));
    });

    done();
  });
}
