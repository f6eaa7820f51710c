/**
 * The admin API's users, their sessions and the audit trail (`/v1/admin/users`,
 * `/v1/admin/events`). Each route authorizes the admin first (`../admin-auth.ts`), calls one
 * use case (the CLI's: `use-cases/admin.ts`, `use-cases/account.ts`) and records the call with
 * its actor (`admin.*`).
 */

import type { FastifyInstance } from 'fastify';
import type { Latchkey } from '../../app/latchkey.js';
import { authorizeAdmin } from '../admin-auth.js';
import { adminAuditEvent, adminSession, adminUserOverview } from '../admin-documents.js';
import type { CookieNames } from '../auth-cookies.js';
import { publicUser } from '../documents.js';
import { ADMIN, ADMIN_READ, empty, json, problems, ref } from '../openapi/route-schema.js';

const TAG = ['Admin'];
const ID = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } as const;
const userParams = { type: 'object', required: ['id'], properties: { id: ID } } as const;
const LIMIT = { type: 'string', pattern: '^(?:[1-9]\\d?|1\\d\\d|200)$', description: '1 to 200.' } as const;
const CURSOR = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,400}$' } as const;
const SEARCH = { type: 'string', minLength: 1, maxLength: 254, pattern: '^[^\\u0000-\\u001f]*$' } as const;

const userAnswer = json(
  { type: 'object', additionalProperties: false, required: ['user'], properties: { user: ref('User') } },
  'The user, as changed.',
);

function action(summary: string, description: string, extra: object = {}): object {
  return {
    tags: TAG,
    summary,
    description,
    security: ADMIN,
    params: userParams,
    response: { 200: userAnswer, ...problems(401, 403, 404, 429) },
    ...extra,
  };
}

const LIST_USERS = {
  tags: TAG,
  summary: 'List users',
  description:
    'In email order; pass `next_cursor` back as `cursor`. `email_prefix` and `email_contains` filter (case-insensitive); a search by substring reads at most 2000 users a page, so a page may be short while `next_cursor` is not null.',
  security: ADMIN_READ,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { limit: LIMIT, cursor: CURSOR, email_prefix: SEARCH, email_contains: SEARCH },
  },
  response: {
    200: json(
      {
        type: 'object',
        additionalProperties: false,
        required: ['users', 'next_cursor'],
        properties: {
          users: { type: 'array', items: ref('User') },
          next_cursor: { type: ['string', 'null'] },
        },
      },
      'A page of users.',
    ),
    ...problems(400, 401, 403, 429),
  },
};

const SHOW_USER = {
  tags: TAG,
  summary: 'Show a user',
  security: ADMIN_READ,
  params: userParams,
  response: { 200: json(ref('AdminUserOverview'), 'The user.'), ...problems(401, 403, 404, 429) },
};

const LIST_SESSIONS = {
  tags: TAG,
  summary: 'List a user’s sessions',
  security: ADMIN_READ,
  params: userParams,
  response: {
    200: json(
      {
        type: 'object',
        additionalProperties: false,
        required: ['sessions'],
        properties: { sessions: { type: 'array', items: ref('AdminSession') } },
      },
      'The live sessions, newest first.',
    ),
    ...problems(401, 403, 404, 429),
  },
};

const REVOKE_SESSIONS = {
  tags: TAG,
  summary: 'Revoke all of a user’s sessions',
  description: 'Every session, and every access token issued until now.',
  security: ADMIN,
  params: userParams,
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
    ...problems(401, 403, 404, 429),
  },
};

const REVOKE_SESSION = {
  tags: TAG,
  summary: 'Revoke one of a user’s sessions',
  security: ADMIN,
  params: { type: 'object', required: ['id', 'sid'], properties: { id: ID, sid: ID } },
  response: { 204: empty('Revoked.'), ...problems(401, 403, 404, 429) },
};

const LIST_EVENTS = {
  tags: TAG,
  summary: 'List the audit trail',
  description:
    'Everyone’s security events (or one user’s, with `user_id`), newest first; pass `next_cursor` back as `cursor`.',
  security: ADMIN_READ,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { limit: LIMIT, cursor: CURSOR, user_id: ID },
  },
  response: {
    200: json(
      {
        type: 'object',
        additionalProperties: false,
        required: ['events', 'next_cursor'],
        properties: {
          events: { type: 'array', items: ref('AdminAuditEvent') },
          next_cursor: { type: ['string', 'null'] },
        },
      },
      'A page of events.',
    ),
    ...problems(400, 401, 403, 429),
  },
};

const ROLES_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['roles'],
  properties: { roles: { type: 'array', maxItems: 50, items: { type: 'string', maxLength: 64 } } },
} as const;

interface UserParams {
  Params: { id: string };
}
const pageLimit = (limit: string | undefined): number | undefined =>
  limit === undefined ? undefined : Number(limit);

/**
 * @example
 * registerAdminUserRoutes(app, latchkey, names);
 * // curl -u "$ADMIN_CLIENT:$SECRET" localhost:8080/v1/admin/users?email_prefix=ada
 */
export function registerAdminUserRoutes(app: FastifyInstance, latchkey: Latchkey, names: CookieNames): void {
  const { auth } = latchkey;
  const admin = (request: Parameters<typeof authorizeAdmin>[0]) => authorizeAdmin(request, latchkey, names);

  app.get<{
    Querystring: { limit?: string; cursor?: string; email_prefix?: string; email_contains?: string };
  }>('/v1/admin/users', { schema: LIST_USERS }, async (request, reply) => {
    const actor = await admin(request);
    const { limit, cursor, email_prefix: emailPrefix, email_contains: emailContains } = request.query;
    const page = await auth.adminListUsers({ limit: pageLimit(limit), cursor, emailPrefix, emailContains });
    auth.recordAdminAction(actor, 'user_list');
    return reply.send({ users: page.users.map(publicUser), next_cursor: page.next });
  });

  app.get<UserParams>('/v1/admin/users/:id', { schema: SHOW_USER }, async (request, reply) => {
    const actor = await admin(request);
    const overview = await auth.adminDescribeUser({ id: request.params.id });
    auth.recordAdminAction(actor, 'user_show', overview.user.id);
    return reply.send(adminUserOverview(overview));
  });

  for (const status of ['disable', 'enable'] as const) {
    const schema = action(
      status === 'disable' ? 'Disable a user' : 'Enable a user',
      status === 'disable'
        ? 'The user can no longer sign in; every session and token is revoked.'
        : 'A disabled user may sign in again.',
    );
    app.post<UserParams>(`/v1/admin/users/:id/${status}`, { schema }, async (request, reply) => {
      const actor = await admin(request);
      const user = await auth.setUserStatus(
        { id: request.params.id },
        status === 'disable' ? 'disabled' : 'active',
      );
      auth.recordAdminAction(actor, `user_${status}`, user.id);
      return reply.send({ user: publicUser(user) });
    });
  }

  const rolesSchema = action(
    'Set a user’s roles',
    'Replaces the roles; access tokens carry them, so every token issued before is revoked.',
    { body: ROLES_BODY },
  );
  app.post<UserParams & { Body: { roles: string[] } }>(
    '/v1/admin/users/:id/roles',
    { schema: rolesSchema },
    async (request, reply) => {
      const actor = await admin(request);
      const user = await auth.setUserRoles({ id: request.params.id }, request.body.roles);
      auth.recordAdminAction(actor, 'user_roles', user.id);
      return reply.send({ user: publicUser(user) });
    },
  );

  app.get<UserParams>('/v1/admin/users/:id/sessions', { schema: LIST_SESSIONS }, async (request, reply) => {
    const actor = await admin(request);
    const { user, sessions } = await auth.adminListSessions({ id: request.params.id });
    auth.recordAdminAction(actor, 'session_list', user.id);
    return reply.send({ sessions: sessions.map(adminSession) });
  });

  app.delete<UserParams>(
    '/v1/admin/users/:id/sessions',
    { schema: REVOKE_SESSIONS },
    async (request, reply) => {
      const actor = await admin(request);
      const { user, revoked } = await auth.adminRevokeSessions({ id: request.params.id });
      auth.recordAdminAction(actor, 'session_revoke_all', user.id);
      return reply.send({ revoked });
    },
  );

  app.delete<{ Params: { id: string; sid: string } }>(
    '/v1/admin/users/:id/sessions/:sid',
    { schema: REVOKE_SESSION },
    async (request, reply) => {
      const actor = await admin(request);
      await auth.adminRevokeSession({ id: request.params.id }, request.params.sid);
      auth.recordAdminAction(actor, 'session_revoke', request.params.sid);
      return reply.code(204).send();
    },
  );

  app.get<{ Querystring: { limit?: string; cursor?: string; user_id?: string } }>(
    '/v1/admin/events',
    { schema: LIST_EVENTS },
    async (request, reply) => {
      const actor = await admin(request);
      const { limit, cursor, user_id: userId } = request.query;
      const page = await auth.adminListEvents({ limit: pageLimit(limit), cursor, userId });
      auth.recordAdminAction(actor, 'event_list', userId);
      return reply.send({ events: page.events.map(adminAuditEvent), next_cursor: page.next });
    },
  );
}
