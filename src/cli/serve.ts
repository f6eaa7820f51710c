/**
 * What `latchkey serve` runs, as a function: the instance the configuration selects
 * (`src/app/open.ts`: store, core, revocation channels), its HTTP server and the background
 * tasks. The CLI adds signal handling; the benchmark adds one route (`extend`) and runs the very
 * same code.
 */

import type { FastifyInstance } from 'fastify';
import { lockDataDir, type DataDirLock } from '../app/data-dir-lock.js';
import { openLatchkey } from '../app/open.js';
import type { Latchkey } from '../app/latchkey.js';
import { chooseStore, isEmbeddedStore } from '../app/stores.js';
import type { LatchkeyConfig } from '../config/config.js';
import { createHTTPServer } from '../http/server.js';
import { createLogger, type Logger } from '../log.js';
import { createInstrumentation } from '../app/metrics.js';
import { listenForScrapes, type MetricsListener } from '../metrics/listener.js';

export interface RunningServer {
  latchkey: Latchkey;
  app: FastifyInstance;
  /** Listens on the configured host and port and logs where. */
  listen(): Promise<void>;
  /** The metrics listener (`LATCHKEY_METRICS_PORT`) once `listen()` started it, else null. */
  metricsListener(): MetricsListener | null;
  /**
   * Stops accepting requests, then closes the publisher, the channel and the store, and releases
   * the data-directory lock.
   */
  close(): Promise<void>;
}

export interface StartServerOptions {
  logger?: Logger;
  /** Called with the HTTP server before it listens (e.g. to add a route). */
  extend?: (app: FastifyInstance) => void;
}

/**
 * The data-directory lock, for a store kept in the data directory (SQLite, PGlite): a second
 * server (or CLI command) on it refuses to start instead of writing it too.
 */
export async function lockEmbeddedStore(
  config: LatchkeyConfig,
  command: string,
): Promise<DataDirLock | null> {
  return isEmbeddedStore(chooseStore(config)) ? lockDataDir(config.dataDir, { command }) : null;
}

/**
 * Builds everything `latchkey serve` runs, without listening yet. Takes the data-directory lock
 * first on an embedded store (see {@link lockEmbeddedStore}).
 *
 * @example
 * const server = await startServer(loadConfig(process.env));
 * await server.listen();
 */
export async function startServer(
  config: LatchkeyConfig,
  options: StartServerOptions = {},
): Promise<RunningServer> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const lock = await lockEmbeddedStore(config, 'serve');
  const instrumentation = createInstrumentation(config.metrics);
  let scrapes: MetricsListener | null = null;
  let latchkey: Latchkey;
  try {
    latchkey = await openLatchkey(config, { logger, instrumentation });
  } catch (error) {
    await lock?.release();
    throw error;
  }
  const app = createHTTPServer(latchkey, { metrics: instrumentation?.http });
  options.extend?.(app);
  latchkey.startBackgroundTasks();
  return {
    latchkey,
    app,
    async listen() {
      await app.listen({ host: config.host, port: config.port });
      logger.info(
        {
          event: 'listening',
          store: latchkey.store.kind,
          url: `http://${config.host}:${config.port}`,
          issuer: config.issuer,
        },
        'latchkey is listening',
      );
      const { port, host } = config.metrics;
      if (instrumentation === null || port === null) return;
      scrapes = await listenForScrapes(instrumentation.metrics, { host, port });
      const url = `http://${host}:${scrapes.address.port}/metrics`;
      logger.info({ event: 'metrics.listening', url }, 'serving metrics');
    },
    metricsListener: () => scrapes,
    async close() {
      try {
        await scrapes?.close();
        await app.close();
        await latchkey.close();
      } finally {
        await lock?.release();
      }
    },
  };
}
