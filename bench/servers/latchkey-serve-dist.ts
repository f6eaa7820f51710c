/**
 * `latchkey-serve.ts` on the build output (`dist/`, what `npm start` runs: run `npm run build`
 * first), for CPU profiles with the compiled code's line numbers (tsx minifies each module).
 *
 * The Latchkey server exactly as `latchkey serve` starts it (`startServer` in src/cli/serve.ts,
 * the same function), plus one route for the benchmark's same-server ceiling.
 *
 * Env: the very variables `latchkey serve` reads (`loadConfig(process.env)`: PORT, HOST,
 * LATCHKEY_ISSUER, LATCHKEY_STORE, DATABASE_URL, REDIS_URL, LATCHKEY_REDIS_PREFIX,
 * LATCHKEY_DATA_DIR, LOG_LEVEL, ...), passed through untouched; nothing of its own.
 *
 * Same store selection, master secret, near session cache and its revocation channel, core,
 * revocation publisher (Redis pub/sub or Postgres NOTIFY when configured), HTTP server (with its
 * SSE revocation feed) and background tasks, by construction. The one addition is `GET /bench/open`, registered last on the same Fastify instance, so every hook
 * of the server (request logger, CORS `Vary`, origin check, security headers, `no-store`) runs for
 * it: it does no authentication and answers a constant body of the same shape and about the same
 * size as `GET /v1/me` (user and session document), with the same headers.
 *
 * Prints `listening <port>` once it accepts connections (what `startBenchServer` waits for).
 */
import { startServer } from '../../dist/cli/serve.js';
import { loadConfig } from '../../dist/config/config.js';
import { announce } from './listen.js';

/** What `GET /v1/me` answers for the bench user of a cookie session (235 bytes of JSON). */
const OPEN_BODY = {
  user: {
    id: 'G_p-6fyZurPq1sZP9yuHXw',
    email: 'bench@example.com',
    status: 'active',
    roles: [],
    created_at: '2026-01-15T10:23:41.776Z',
  },
  session: { id: 'XPPaaSNVBh3e_5IL97B93w', mode: 'cookie', expires_at: '2026-01-15T10:53:41.883Z' },
};

const config = loadConfig(process.env);
const server = await startServer(config, {
  // The onSend hook adds `pragma: no-cache` to /v1 and /oauth paths only: set it here so the
  // response carries the same headers as `GET /v1/me`.
  extend: (app) =>
    app.get('/bench/open', (_request, reply) => reply.header('pragma', 'no-cache').send(OPEN_BODY)),
});
process.on('unhandledRejection', (reason) => {
  server.latchkey.logger.error({ err: reason, event: 'unhandled_rejection' }, 'unhandled rejection');
});
await server.listen();
const address = server.app.server.address();
announce(typeof address === 'object' && address !== null ? address.port : config.port, async () => {
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  await server.close();
});
