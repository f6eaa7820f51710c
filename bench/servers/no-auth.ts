/** The ceiling: a bare Fastify route with no authentication. Env: none. */
import Fastify from 'fastify';
import { announce } from './listen.js';

const app = Fastify({ logger: false });
app.get('/me', (_request, reply) => reply.send({ user: 'user-123' }));
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
announce(typeof address === 'object' && address !== null ? address.port : 0, () => app.close());
