/**
 * The Latchkey server exactly as `latchkey serve` starts it (`startServer` in src/cli/serve.ts,
 * the same function), plus one route for the benchmark's same-server ceiling.
 *
 * Env: the very variables `latchkey serve` reads (`loadConfig(process.env)`: PORT, HOST,
 * LATCHKEY_ISSUER, LATCHKEY_STORE, DATABASE_URL, REDIS_URL, LATCHKEY_REDIS_PREFIX,
 * LATCHKEY_DATA_DIR, LOG_LEVEL, ...), passed through untouched. One of its own:
 * `BENCH_SERVE_FROM=dist` runs the build output (`dist/`, what `npm start` runs: `npm run build`
 * first) instead of the TypeScript sources, for CPU profiles with the compiled code's line numbers
 * (tsx minifies each module).
 *
 * Same store selection, master secret, near session cache and its revocation channel, core,
 * revocation publisher (Redis pub/sub or Postgres NOTIFY when configured), HTTP server (with its
 * SSE revocation feed) and background tasks, by construction. The one addition is `GET
 * /bench/open` (`./open-route.ts`), registered last on the same Fastify instance, so every hook
 * of the server (request logger, CORS `Vary`, origin check, security headers, `no-store`) runs for
 * it.
 *
 * Prints `listening <port>` once it accepts connections (what `startBenchServer` waits for).
 */
import type * as Serve from '../../src/cli/serve.js';
import type * as Config from '../../src/config/config.js';
import { announce } from './listen.js';
import { addOpenRoute } from './open-route.js';

const root = process.env.BENCH_SERVE_FROM === 'dist' ? '../../dist' : '../../src';
const { startServer } = (await import(`${root}/cli/serve.js`)) as typeof Serve;
const { loadConfig } = (await import(`${root}/config/config.js`)) as typeof Config;

const config = loadConfig(process.env);
const server = await startServer(config, { extend: addOpenRoute });
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
