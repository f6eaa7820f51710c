/**
 * The admin API's machine clients and webhook endpoints (`/v1/admin/clients`,
 * `/v1/admin/webhooks`): the services `latchkey clients` and `latchkey webhooks` call, behind
 * the admin check (`../admin-auth.ts`), each call recorded with its actor (`admin.*`). A secret
 * is in the answer that creates it, and never again.
 */

import type { FastifyInstance } from 'fastify';
import type { Latchkey } from '../../app/latchkey.js';
import { LatchkeyError } from '../../errors.js';
import { authorizeAdmin } from '../admin-auth.js';
import { machineClient, webhookDelivery, webhookEndpoint } from '../admin-documents.js';
import type { CookieNames } from '../auth-cookies.js';
import { ADMIN, ADMIN_READ, empty, json, problems, ref } from '../openapi/route-schema.js';

const TAG = ['Admin'];
const ID = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' } as const;
const idParams = { type: 'object', required: ['id'], properties: { id: ID } } as const;
const WORD = { type: 'string', minLength: 1, maxLength: 512, pattern: '^[^\\s\\u0000]+$' } as const;

function list(name: string, item: string, summary: string, extra: object = {}): object {
  return {
    tags: TAG,
    summary,
    security: ADMIN_READ,
    response: {
      200: json(
        {
          type: 'object',
          additionalProperties: false,
          required: [name],
          properties: { [name]: { type: 'array', items: ref(item) } },
        },
        `The ${name}.`,
      ),
      ...problems(401, 403, 404, 429),
    },
    ...extra,
  };
}

function created(name: string, item: string, secret: string, description: string): object {
  return json(
    {
      type: 'object',
      additionalProperties: false,
      required: [name, secret],
      properties: { [name]: ref(item), [secret]: { type: 'string', description } },
    },
    'Created; the secret is shown only now.',
  );
}

const CREATE_CLIENT = {
  tags: TAG,
  summary: 'Create a machine client',
  description:
    'Audiences default to this server’s. The secret is in this answer only: only its hash is kept.',
  security: ADMIN,
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'scopes'],
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 200 },
      scopes: { type: 'array', maxItems: 50, items: { type: 'string', maxLength: 128 } },
      audiences: { type: 'array', minItems: 1, maxItems: 20, items: WORD },
    },
  },
  response: {
    201: created('client', 'MachineClient', 'client_secret', 'The client’s secret (HTTP Basic).'),
    ...problems(400, 401, 403, 429),
  },
};

const DISABLE_CLIENT = {
  tags: TAG,
  summary: 'Disable a machine client',
  description: 'It can no longer authenticate; its access tokens are no longer accepted here.',
  security: ADMIN,
  params: idParams,
  response: { 204: empty('Disabled.'), ...problems(401, 403, 404, 429) },
};

const ADD_WEBHOOK = {
  tags: TAG,
  summary: 'Add a webhook endpoint',
  description: 'For these audited events (`*` for all). The signing secret is in this answer only.',
  security: ADMIN,
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['url', 'events'],
    properties: {
      url: { type: 'string', minLength: 1, maxLength: 2048 },
      events: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'string', maxLength: 100 } },
    },
  },
  response: {
    201: created(
      'webhook',
      'WebhookEndpoint',
      'secret',
      'The signing secret (`whsec_...`) for the receiver.',
    ),
    ...problems(400, 401, 403, 429),
  },
};

const REMOVE_WEBHOOK = {
  tags: TAG,
  summary: 'Remove a webhook endpoint',
  description: 'With its queued and logged deliveries.',
  security: ADMIN,
  params: idParams,
  response: { 204: empty('Removed.'), ...problems(401, 403, 404, 429) },
};

/**
 * @example
 * registerAdminOperationRoutes(app, latchkey, names);
 */
export function registerAdminOperationRoutes(
  app: FastifyInstance,
  latchkey: Latchkey,
  names: CookieNames,
): void {
  const { auth, clients, webhooks } = latchkey;
  const admin = (request: Parameters<typeof authorizeAdmin>[0]) => authorizeAdmin(request, latchkey, names);

  app.get<{ Querystring: { limit?: string } }>(
    '/v1/admin/clients',
    { schema: list('clients', 'MachineClient', 'List machine clients') },
    async (request, reply) => {
      const actor = await admin(request);
      const found = await clients.list({ limit: 1000 });
      auth.recordAdminAction(actor, 'client_list');
      return reply.send({ clients: found.map(machineClient) });
    },
  );

  app.post<{ Body: { name: string; scopes: string[]; audiences?: string[] } }>(
    '/v1/admin/clients',
    { schema: CREATE_CLIENT },
    async (request, reply) => {
      const actor = await admin(request);
      const { name, scopes, audiences } = request.body;
      const { client, secret } = await clients.create({
        name,
        scopes,
        audiences: audiences ?? [latchkey.config.audience],
      });
      auth.recordAdminAction(actor, 'client_create', client.id);
      return reply.code(201).send({ client: machineClient(client), client_secret: secret });
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/admin/clients/:id/disable',
    { schema: DISABLE_CLIENT },
    async (request, reply) => {
      const actor = await admin(request);
      if (!(await clients.disable(request.params.id))) throw new LatchkeyError('not_found', 'No such client');
      auth.recordAdminAction(actor, 'client_disable', request.params.id);
      return reply.code(204).send();
    },
  );

  app.get(
    '/v1/admin/webhooks',
    { schema: list('webhooks', 'WebhookEndpoint', 'List webhook endpoints') },
    async (request, reply) => {
      const actor = await admin(request);
      const endpoints = await webhooks.list();
      auth.recordAdminAction(actor, 'webhook_list');
      return reply.send({ webhooks: endpoints.map(webhookEndpoint) });
    },
  );

  app.post<{ Body: { url: string; events: string[] } }>(
    '/v1/admin/webhooks',
    { schema: ADD_WEBHOOK },
    async (request, reply) => {
      const actor = await admin(request);
      const { endpoint, secret } = await webhooks.add(request.body);
      auth.recordAdminAction(actor, 'webhook_add', endpoint.id);
      return reply.code(201).send({ webhook: webhookEndpoint(endpoint), secret });
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/admin/webhooks/:id',
    { schema: REMOVE_WEBHOOK },
    async (request, reply) => {
      const actor = await admin(request);
      if (!(await webhooks.remove(request.params.id)))
        throw new LatchkeyError('not_found', 'No such webhook endpoint');
      auth.recordAdminAction(actor, 'webhook_remove', request.params.id);
      return reply.code(204).send();
    },
  );

  const deliveries = list('deliveries', 'WebhookDelivery', 'List an endpoint’s deliveries', {
    description: 'Newest first (at most `limit`, default 50).',
    params: idParams,
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: { limit: { type: 'string', pattern: '^(?:[1-9]\\d?|1\\d\\d|200)$' } },
    },
  });
  app.get<{ Params: { id: string }; Querystring: { limit?: string } }>(
    '/v1/admin/webhooks/:id/deliveries',
    { schema: deliveries },
    async (request, reply) => {
      const actor = await admin(request);
      const { id } = request.params;
      if (!(await webhooks.list()).some((endpoint) => endpoint.id === id)) {
        throw new LatchkeyError('not_found', 'No such webhook endpoint');
      }
      const found = await webhooks.deliveries(id, Number(request.query.limit ?? 50));
      auth.recordAdminAction(actor, 'webhook_deliveries', id);
      return reply.send({ deliveries: found.map(webhookDelivery) });
    },
  );
}
