/**
 * The benchmark's same-server ceiling on a Latchkey server: `GET /bench/open`, registered last on
 * the instance `latchkey serve` builds, so every hook of the server runs for it. It does no
 * authentication and answers a constant body of the same shape and about the same size as
 * `GET /v1/me` for the bench user of a cookie session (235 bytes of JSON), with the same headers.
 */

import type { FastifyInstance } from 'fastify';

/** What `GET /v1/me` answers for the bench user of a cookie session. */
export const OPEN_BODY = {
  user: {
    id: 'G_p-6fyZurPq1sZP9yuHXw',
    email: 'bench@example.com',
    status: 'active',
    roles: [],
    created_at: '2026-01-15T10:23:41.776Z',
  },
  session: { id: 'XPPaaSNVBh3e_5IL97B93w', mode: 'cookie', expires_at: '2026-01-15T10:53:41.883Z' },
};

/** Registers `GET /bench/open` (for `startServer`'s `extend`). */
export function addOpenRoute(app: FastifyInstance): void {
  // The onSend hook adds `pragma: no-cache` to /v1 and /oauth paths only: set it here so the
  // response carries the same headers as `GET /v1/me`.
  app.get('/bench/open', (_request, reply) => reply.header('pragma', 'no-cache').send(OPEN_BODY));
}
