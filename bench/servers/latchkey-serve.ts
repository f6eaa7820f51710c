/**
 * The Latchkey server exactly as `latchkey serve` starts it (src/cli/main.ts `serve()`), plus one
 * route for the benchmark's same-server ceiling.
 *
 * Env: the very variables `latchkey serve` reads (`loadConfig(process.env)`: PORT, HOST,
 * LATCHKEY_ISSUER, LATCHKEY_STORE, DATABASE_URL, REDIS_URL, LATCHKEY_REDIS_PREFIX,
 * LATCHKEY_DATA_DIR, LOG_LEVEL, ...), passed through untouched; nothing of its own.
 *
 * Same store selection, master secret, near session cache and its revocation channel, core,
 * revocation publisher (Redis pub/sub or Postgres NOTIFY when configured), HTTP server (with its
 * SSE revocation feed) and background tasks: keep it in step with `serve()`. The
 * one addition is `GET /bench/open`, registered last on the same Fastify instance, so every hook
 * of the server (request logger, CORS `Vary`, origin check, security headers, `no-store`) runs for
 * it: it does no authentication and answers a constant body of the same shape and about the same
 * size as `GET /v1/me` (user and session document), with the same headers.
 *
 * Prints `listening <port>` once it accepts connections (what `startBenchServer` waits for).
 */
import { createLatchkey } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { loadMasterSecret } from '../../src/config/secret.js';
import { createHTTPServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import {
  attachRevocationPublisher,
  createPostgresRevocationPublisher,
  createRedisRevocationPublisher,
  DEFAULT_REVOCATION_CHANNEL,
  type RevocationPublisher,
} from '../../src/revocation/publishers.js';
import { openSessionCacheFeed, openStore } from '../../src/stores/open.js';
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
const logger = createLogger({ level: config.logLevel });
const secret = await loadMasterSecret({ configured: config.secret, dataDir: config.dataDir });
if (secret.source !== 'env') {
  logger.warn(
    { event: 'config.secret', source: secret.source, dataDir: config.dataDir },
    'LATCHKEY_SECRET is not set: using a secret stored in the data directory. Set LATCHKEY_SECRET in production.',
  );
}
const store = await openStore(config);
// The near session cache's revocation channel (LATCHKEY_SESSION_CACHE on a shared store).
const sessionCacheFeed = await openSessionCacheFeed(config, store, DEFAULT_REVOCATION_CHANNEL);
const latchkey = await createLatchkey({
  config,
  store,
  secret: secret.value,
  logger,
  ...(sessionCacheFeed === undefined ? {} : { sessionCacheFeed }),
});
const publisher: RevocationPublisher | null =
  config.redisURL !== null
    ? createRedisRevocationPublisher({ url: config.redisURL, channel: DEFAULT_REVOCATION_CHANNEL })
    : config.databaseURL !== null
      ? createPostgresRevocationPublisher({ url: config.databaseURL, channel: DEFAULT_REVOCATION_CHANNEL })
      : null;
const detachPublisher =
  publisher === null ? (): void => undefined : attachRevocationPublisher(latchkey, publisher);
publisher?.ready().catch((error: unknown) => {
  logger.warn({ err: error, event: 'revocations.publisher_unavailable' }, 'revocation publisher unreachable');
});
const app = createHTTPServer(latchkey);
// The onSend hook adds `pragma: no-cache` to /v1 and /oauth paths only: set it here so the
// response carries the same headers as `GET /v1/me`.
app.get('/bench/open', (_request, reply) => reply.header('pragma', 'no-cache').send(OPEN_BODY));
latchkey.startBackgroundTasks();
process.on('unhandledRejection', (reason) => {
  logger.error({ err: reason, event: 'unhandled_rejection' }, 'unhandled rejection');
});
await app.listen({ host: config.host, port: config.port });
const address = app.server.address();
announce(typeof address === 'object' && address !== null ? address.port : config.port, async () => {
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  await app.close();
  detachPublisher();
  await publisher?.close();
  await latchkey.close();
});
