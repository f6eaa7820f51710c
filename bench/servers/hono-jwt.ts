/**
 * Today's Hono choice: hono/jwt middleware on @hono/node-server, HS256. Env: BENCH_SECRET.
 * The middleware guards `GET /me`; `GET /open` (the same-server ceiling) goes without it.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { jwt } from 'hono/jwt';
import type { AddressInfo } from 'node:net';
import { announce, requireEnv } from './listen.js';

const app = new Hono();
app.use('/me', jwt({ secret: requireEnv('BENCH_SECRET'), alg: 'HS256' }));
app.get('/me', (c) => c.json({ user: (c.get('jwtPayload') as { sub: string }).sub }));
app.get('/open', (c) => c.json({ user: 'user-123' }));
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
  announce(info.port, () => new Promise<void>((resolve) => server.close(() => resolve())));
});
