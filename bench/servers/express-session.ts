/**
 * Today's classic: Express 5 + express-session + connect-redis (node-redis client).
 * Env: BENCH_REDIS_URL, BENCH_PREFIX (key prefix of the sessions, deleted by the harness).
 * `POST /login` starts a session for user-123; `GET /me` answers `{"user": id}` or 401. The
 * session middleware is mounted on those two routes only: `GET /open` (the same-server ceiling)
 * answers `{"user": "user-123"}` on the same app without loading any session.
 */
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { createClient } from 'redis';
import { announce, requireEnv } from './listen.js';

declare module 'express-session' {
  interface SessionData {
    user: string;
  }
}

const client = createClient({ url: requireEnv('BENCH_REDIS_URL') });
await client.connect();
const app = express();
const sessions = session({
  store: new RedisStore({ client, prefix: requireEnv('BENCH_PREFIX') }),
  secret: 'bench-secret-not-for-production',
  resave: false,
  saveUninitialized: false,
  cookie: { httpOnly: true, sameSite: 'lax', maxAge: 30 * 60_000 },
});
app.post('/login', sessions, (req, res) => {
  req.session.user = 'user-123';
  res.json({ user: req.session.user });
});
app.get('/me', sessions, (req, res) => {
  if (req.session.user === undefined) {
    res.status(401).json({ error: 'unauthenticated' });
    return;
  }
  res.json({ user: req.session.user });
});
app.get('/open', (_req, res) => {
  res.json({ user: 'user-123' });
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  announce(typeof address === 'object' && address !== null ? address.port : 0, async () => {
    server.close();
    await client.quit();
  });
});
