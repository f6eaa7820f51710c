/**
 * The floor of a session on Redis: a bare Fastify route that does one ioredis GET of a session
 * record (a JSON document the size of Latchkey's) and JSON.parse, nothing else: no secret check,
 * no user read, no expiry. A Redis session can cost no less than this on this machine.
 * Env: BENCH_REDIS_URL, BENCH_PREFIX (key prefix, deleted by the harness).
 * `GET /me` reads `<prefix>s:<cookie value>` and answers `{"user": id}` (401 when absent);
 * `GET /open` (its ceiling) answers the same body without the read.
 * With BENCH_LATCHKEY_PREFIX (a Latchkey Redis store's key prefix), `GET /me` reads instead the
 * session the cookie names (`<name>=<id>.<secret>`) as Latchkey stores it, and JSON.parse's its
 * immutable part (after the `|` of `src/stores/redis/session-scripts.ts`): the floor at the size
 * of a real store (the million-sessions section), with the same cookies Latchkey is loaded with.
 */
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { announce, requireEnv } from './listen.js';

const prefix = requireEnv('BENCH_PREFIX');
const redis = new Redis(requireEnv('BENCH_REDIS_URL'), { enableAutoPipelining: true });
const id = 'XPPaaSNVBh3e_5IL97B93w';
await redis.set(
  `${prefix}s:${id}`,
  JSON.stringify({
    id,
    userId: 'G_p-6fyZurPq1sZP9yuHXw',
    secretHash: 'q0f3nVZ4kq8a6cR2m0x8y1QJ8pYb3hV0d2sWzQe5N9k',
    mode: 'cookie',
    createdAt: 1767000000000,
    lastSeenAt: 1767000000000,
    expiresAt: 1767001800000,
    absoluteExpiresAt: 1767604800000,
    csrfHash: 'Zb7hP2mQ9xW4kL1vN8cR5tY3uJ6eF0aS2dG4hK7lM9n',
    userAgent: 'wrk',
    ip: '127.0.0.1',
  }),
  'EX',
  3600,
);

const latchkeyPrefix = process.env.BENCH_LATCHKEY_PREFIX;
const app = Fastify({ logger: false });
if (latchkeyPrefix === undefined)
  app.get('/me', async (request, reply) => {
    const cookie = request.headers.cookie ?? '';
    const value = cookie.slice(cookie.indexOf('=') + 1);
    const raw = await redis.get(`${prefix}s:${value}`);
    if (raw === null) return reply.code(401).send({ error: 'no session' });
    const session = JSON.parse(raw) as { userId: string };
    return reply.send({ user: session.userId });
  });
else
  app.get('/me', async (request, reply) => {
    const cookie = request.headers.cookie ?? '';
    const id = cookie.slice(cookie.indexOf('=') + 1, cookie.indexOf('.'));
    const raw = await redis.get(`${latchkeyPrefix}:{s:${id}}:session`);
    if (raw === null) return reply.code(401).send({ error: 'no session' });
    const fields = JSON.parse(raw.slice(raw.indexOf('|') + 1)) as [string];
    return reply.send({ user: fields[0] });
  });
app.get('/open', (_request, reply) => reply.send({ user: 'G_p-6fyZurPq1sZP9yuHXw' }));
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
announce(typeof address === 'object' && address !== null ? address.port : 0, async () => {
  await app.close();
  redis.disconnect();
});
