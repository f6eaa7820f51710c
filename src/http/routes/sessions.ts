import type { FastifyInstance } from 'fastify';
import type { Latchkey } from '../../app/latchkey.js';
import { authenticateRequest } from '../authenticate.js';
import { clearAuthCookies, type CookieNames } from '../auth-cookies.js';
import { publicAuditEvent, publicSession } from '../documents.js';
import { SIGNED_IN, SIGNED_IN_READ, empty, json, problems, ref } from '../openapi/route-schema.js';

const TAG = ['Account'];

const idParams = {
  tags: TAG,
  summary: 'Revoke one of my sessions',
  description: 'Revoking the current session also clears its cookies.',
  security: SIGNED_IN,
  response: { 204: empty('Revoked.'), ...problems(401, 403, 404, 429) },
  params: {
    type: 'object',
    required: ['id'],
    properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
  },
} as const;

const revokeAllQuery = {
  tags: TAG,
  summary: 'Revoke all my sessions',
  description: 'With `keep_current=true`, every session but this one ("sign out everywhere else").',
  security: SIGNED_IN,
  response: {
    200: json(
      {
        type: 'object',
        additionalProperties: false,
        required: ['revoked'],
        properties: { revoked: { type: 'integer', description: 'How many sessions were revoked.' } },
      },
      'The sessions are revoked.',
    ),
    ...problems(401, 403, 429),
  },
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { keep_current: { type: 'string', enum: ['true', 'false', '1', '0'] } },
  },
} as const;

const listSchema = {
  tags: TAG,
  summary: 'List my sessions',
  security: SIGNED_IN_READ,
  response: {
    200: json(
      {
        type: 'object',
        additionalProperties: false,
        required: ['sessions'],
        properties: { sessions: { type: 'array', items: ref('Session') } },
      },
      'The live sessions of the user.',
    ),
    ...problems(401, 403, 429),
  },
};

const eventsQuery = {
  tags: TAG,
  summary: 'List my security events',
  description:
    'The caller\'s own audit trail, newest first ("why was I signed out?"); pass `next_cursor` back as `cursor` for the next page.',
  security: SIGNED_IN_READ,
  response: {
    200: json(
      {
        type: 'object',
        additionalProperties: false,
        required: ['events', 'next_cursor'],
        properties: {
          events: { type: 'array', items: ref('AuditEvent') },
          next_cursor: { type: ['string', 'null'] },
        },
      },
      'A page of events.',
    ),
    ...problems(400, 401, 403, 429),
  },
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      // Query values are strings (no type coercion on this server): 1 to 200.
      limit: { type: 'string', pattern: '^(?:[1-9]\\d?|1\\d\\d|200)$' },
      cursor: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,400}$' },
    },
  },
} as const;

export function registerSessionRoutes(app: FastifyInstance, latchkey: Latchkey, names: CookieNames): void {
  const { auth } = latchkey;

  app.get('/v1/sessions', { schema: listSchema }, async (request, reply) => {
    const principal = await authenticateRequest(request, latchkey, names);
    const sessions = await auth.listSessions(principal);
    return reply.send({ sessions: sessions.map((session) => publicSession(session, principal.session.id)) });
  });

  // The caller's own security events, newest first ("why was I signed out?").
  app.get<{ Querystring: { limit?: string; cursor?: string } }>(
    '/v1/me/events',
    { schema: eventsQuery },
    async (request, reply) => {
      const principal = await authenticateRequest(request, latchkey, names);
      const { limit, cursor } = request.query;
      const page = await auth.listOwnEvents(principal, {
        limit: limit === undefined ? undefined : Number(limit),
        cursor,
      });
      return reply.send({ events: page.events.map(publicAuditEvent), next_cursor: page.next });
    },
  );

  app.delete<{ Params: { id: string } }>('/v1/sessions/:id', { schema: idParams }, async (request, reply) => {
    const principal = await authenticateRequest(request, latchkey, names);
    await auth.revokeSession(principal, request.params.id);
    if (request.params.id === principal.session.id) clearAuthCookies(reply, names);
    return reply.code(204).send();
  });

  app.delete<{ Querystring: { keep_current?: string } }>(
    '/v1/sessions',
    { schema: revokeAllQuery },
    async (request, reply) => {
      const principal = await authenticateRequest(request, latchkey, names);
      const keepCurrent = request.query.keep_current === 'true' || request.query.keep_current === '1';
      const revoked = await auth.revokeAllSessions(principal, { keepCurrent });
      if (!keepCurrent) clearAuthCookies(reply, names);
      return reply.send({ revoked });
    },
  );
}
