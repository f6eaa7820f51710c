import type { FastifyInstance } from 'fastify';
import type { Latchkey } from '../../app/latchkey.js';

export function registerWellKnownRoutes(app: FastifyInstance, latchkey: Latchkey): void {
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    // Short enough that a rotation reaches verifiers well within the publish-before-sign lead.
    void reply.header('cache-control', 'public, max-age=300, stale-while-revalidate=60');
    return reply.type('application/jwk-set+json').send(latchkey.keyring.jwks());
  });
}
