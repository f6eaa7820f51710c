import type { FastifyInstance } from 'fastify';
import type { Latchkey } from '../../app/latchkey.js';
import { authenticateRequest } from '../authenticate.js';
import { clearAuthCookies, type CookieNames } from '../auth-cookies.js';
import { publicAuditEvent, publicSession } from '../documents.js';

const idParams = {
  params: {
    type: 'object',
    required: ['id'],
    properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
  },
} as const;

const revokeAllQuery = {
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { keep_current: { type: 'string', enum: ['true', 'false', '1', '0'] } },
  },
} as const;

const eventsQuery = {
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

  app.get('/v1/sessions', async (request, reply) => {
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
