import type { FastifyInstance } from 'fastify';
import type { Latchkey } from '../../app/latchkey.js';
import { PUBLIC, json } from '../openapi/route-schema.js';

const JWKS_SCHEMA = {
  tags: ['Discovery'],
  summary: 'The public signing keys (JWKS)',
  description: 'Cached 5 minutes: a new key is published here well before it signs.',
  security: PUBLIC,
  response: {
    200: json(
      {
        type: 'object',
        additionalProperties: false,
        required: ['keys'],
        properties: {
          keys: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['kty', 'kid', 'use', 'alg'],
              properties: {
                kty: { type: 'string', enum: ['OKP', 'EC', 'RSA'] },
                crv: { type: 'string' },
                x: { type: 'string' },
                y: { type: 'string' },
                n: { type: 'string' },
                e: { type: 'string' },
                kid: { type: 'string' },
                use: { type: 'string', enum: ['sig'] },
                alg: { type: 'string', examples: ['EdDSA'] },
              },
            },
          },
        },
      },
      'An RFC 7517 JWK Set.',
      'application/jwk-set+json',
    ),
  },
};

export function registerWellKnownRoutes(app: FastifyInstance, latchkey: Latchkey): void {
  app.get('/.well-known/jwks.json', { schema: JWKS_SCHEMA }, async (_request, reply) => {
    // Short enough that a rotation reaches verifiers well within the publish-before-sign lead.
    void reply.header('cache-control', 'public, max-age=300, stale-while-revalidate=60');
    return reply.type('application/jwk-set+json').send(latchkey.keyring.jwks());
  });
}
