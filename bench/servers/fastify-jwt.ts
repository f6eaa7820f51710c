/**
 * Today's Fastify choice: @fastify/jwt (fast-jwt underneath), HS256. Env: BENCH_SECRET.
 * `GET /me` verifies the token; `GET /open` (the same-server ceiling) does not.
 */
import fastifyJwt from '@fastify/jwt';
import Fastify from 'fastify';
import { announce, requireEnv } from './listen.js';

const app = Fastify({ logger: false });
await app.register(fastifyJwt, { secret: requireEnv('BENCH_SECRET'), verify: { algorithms: ['HS256'] } });
app.get('/me', async (request, reply) => {
  try {
    const payload = await request.jwtVerify<{ sub: string }>();
    return { user: payload.sub };
  } catch {
    return reply.code(401).send({ error: 'invalid_token' });
  }
});
// Async like `/me`, so both routes take the same path through Fastify.
// eslint-disable-next-line @typescript-eslint/require-await
app.get('/open', async () => ({ user: 'user-123' }));
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
announce(typeof address === 'object' && address !== null ? address.port : 0, () => app.close());
