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
 * authentication: the benchmark's same-server ceiling. `GET /raw` is the bound of a new token
 * each request, measured under the very load `/me` gets (the same tokens, rotated by the same
 * load generator, which on a small machine takes its share of the CPU too): a bare node:crypto
 * check of the signature and a JSON.parse of the payload, for the one known key, and nothing
 * else: no header, algorithm, time, issuer or audience check, no revocation: the least a verifier
 * does (not a strict bound: in a noisy run a verifier may come out above it, as EdDSA and ES256 did). Only with BENCH_HS256_KEY or BENCH_KEYS (a key given, not a JWKS).
 */
import {
  createHmac,
  createPublicKey,
  createSecretKey,
  timingSafeEqual,
  verify as cryptoVerify,
  type JsonWebKey as CryptoJWK,
  type KeyObject,
} from 'node:crypto';
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
// Only where the key is given here (not fetched from a JWKS, as the hybrid scenario's is).
if (alg === 'HS256' || process.env.BENCH_KEYS !== undefined) {
  const rawVerify = rawCheck(alg);
  app.get('/raw', (request, reply) => {
    const token = (request.headers.authorization ?? '').slice(7);
    const payloadStart = token.indexOf('.') + 1;
    const payloadEnd = token.lastIndexOf('.');
    const signature = Buffer.from(token.slice(payloadEnd + 1), 'base64url');
    if (payloadEnd < payloadStart || !rawVerify(token.slice(0, payloadEnd), signature))
      return reply.code(401).send({ error: 'invalid_token' });
    const payload = Buffer.from(token.slice(payloadStart, payloadEnd), 'base64url').toString();
    return reply.send({ user: (JSON.parse(payload) as { sub: string }).sub });
  });
}

/** The signature check of `/raw` (see the module comment), for the one key the server has. */
function rawCheck(algorithm: KeyAlgorithm): (input: string, signature: Buffer) => boolean {
  if (algorithm === 'HS256') {
    const key = createSecretKey(Buffer.from(requireEnv('BENCH_HS256_KEY'), 'base64url'));
    return (input, signature) => {
      const expected = createHmac('sha256', key).update(input).digest();
      return expected.length === signature.length && timingSafeEqual(expected, signature);
    };
  }
  const [jwk] = JSON.parse(requireEnv('BENCH_KEYS')) as CryptoJWK[];
  const key: KeyObject = createPublicKey({ key: jwk ?? {}, format: 'jwk' });
  const hash = algorithm === 'EdDSA' ? null : 'sha256';
  const dsaEncoding = algorithm === 'ES256' ? 'ieee-p1363' : undefined;
  return (input, signature) =>
    cryptoVerify(hash, Buffer.from(input), dsaEncoding === undefined ? key : { key, dsaEncoding }, signature);
}

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
announce(typeof address === 'object' && address !== null ? address.port : 0, () => app.close());
