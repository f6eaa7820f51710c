/**
 * A resource service on Fastify that checks callers with `latchkey/verify` and its Fastify adapter.
 *
 * Env:
 * - BENCH_ISSUER, BENCH_AUDIENCE: the expected `iss` and `aud`;
 * - BENCH_ALG: the one allowed algorithm;
 * - either BENCH_KEYS (a JSON array of public JWKs, no revocation feed), or BENCH_JWKS_URI and
 *   BENCH_FEED_URL (the auth server's JWKS and SSE revocation feed: the production shape), with
 *   BENCH_FEED_AUTHORIZATION (a machine client's Basic credentials for the feed);
 * - for HS256 (which the SDK does not take: a shared secret is never published), BENCH_HS256_KEY
 *   (base64url) and BENCH_KID: the route then uses the core `createAccessTokenVerifier` directly.
 *
 * - BENCH_VERIFY_CACHE=0 (HS256 only): the core verifier without its cache of verified tokens.
 *
 * `GET /me` authenticates the caller and answers `{"user": sub}`; `GET /open`, on the same
 * instance (after the adapter plugin is registered), answers `{"user": "user-123"}` without any
 * authentication: the benchmark's same-server ceiling.
 */
import { createSecretKey } from 'node:crypto';
import Fastify from 'fastify';
import { createAccessTokenVerifier } from '../../src/token/jwt.js';
import type { KeyAlgorithm } from '../../src/records.js';
import { latchkeyFastify } from '../../src/verify/adapters/fastify.js';
import { createSSERevocationFeed, createVerifier } from '../../src/verify/index.js';
import { announce, requireEnv } from './listen.js';

const issuer = requireEnv('BENCH_ISSUER');
const audience = requireEnv('BENCH_AUDIENCE');
const alg = requireEnv('BENCH_ALG') as KeyAlgorithm;
const app = Fastify({ logger: false });

if (alg === 'HS256') {
  const kid = requireEnv('BENCH_KID');
  const key = createSecretKey(Buffer.from(requireEnv('BENCH_HS256_KEY'), 'base64url'));
  const verifier = createAccessTokenVerifier({
    issuer,
    audience,
    algorithms: ['HS256'],
    keys: (id) => (id === kid ? { kid, alg, key } : undefined),
    ...(process.env.BENCH_VERIFY_CACHE === '0' ? { cache: false as const } : {}),
  });
  app.get('/me', async (request, reply) => {
    const header = request.headers.authorization ?? '';
    try {
      if (!header.startsWith('Bearer ')) throw new Error('no token');
      const { claims } = verifier.verify(header.slice(7));
      return { user: claims.sub };
    } catch {
      return reply.code(401).send({ error: 'invalid_token' });
    }
  });
} else {
  const jwksUri = process.env.BENCH_JWKS_URI;
  const feedUrl = process.env.BENCH_FEED_URL;
  const verifier =
    jwksUri !== undefined && feedUrl !== undefined
      ? createVerifier({
          issuer,
          audience,
          algorithms: [alg],
          jwksUri,
          revocation: createSSERevocationFeed({
            url: feedUrl,
            headers: { authorization: process.env.BENCH_FEED_AUTHORIZATION ?? '' },
          }),
        })
      : createVerifier({
          issuer,
          audience,
          algorithms: [alg],
          keys: JSON.parse(requireEnv('BENCH_KEYS')) as object[],
          revocation: false,
        });
  await verifier.ready();
  await app.register(latchkeyFastify, { verifier, realm: 'bench' });
  app.get('/me', { onRequest: app.authenticate }, (request, reply) =>
    reply.send({ user: request.principal?.sub }),
  );
}
app.get('/open', (_request, reply) => reply.send({ user: 'user-123' }));

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
announce(typeof address === 'object' && address !== null ? address.port : 0, () => app.close());
