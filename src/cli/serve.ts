/**
 * What `latchkey serve` runs, as a function: the store the configuration selects, the core, the
 * revocation publisher and the session cache's channel, the HTTP server and the background tasks.
 * The CLI adds signal handling; the benchmark adds one route (`extend`) and runs the very same code.
 */

import type { FastifyInstance } from 'fastify';
import { createLatchkey, type Latchkey } from '../app.js';
import type { LatchkeyConfig } from '../config/config.js';
import { loadMasterSecret } from '../config/secret.js';
import { createLogger, type Logger } from '../log.js';
import {
  attachRevocationPublisher,
  createPostgresRevocationPublisher,
  createRedisRevocationPublisher,
  DEFAULT_REVOCATION_CHANNEL,
  type RevocationPublisher,
} from '../revocation/publishers.js';
import { openSessionCacheFeed, openStore } from '../stores/open.js';

export interface RunningServer {
  latchkey: Latchkey;
  app: FastifyInstance;
  /** Listens on the configured host and port and logs where. */
  listen(): Promise<void>;
  /** Stops accepting requests, then closes the publisher, the channel and the store. */
  close(): Promise<void>;
}

export interface StartServerOptions {
  logger?: Logger;
  /** Called with the HTTP server before it listens (e.g. to add a route). */
  extend?: (app: FastifyInstance) => void;
}

/**
 * Builds everything `latchkey serve` runs, without listening yet.
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
  const secret = await loadMasterSecret({ configured: config.secret, dataDir: config.dataDir });
  if (secret.source !== 'env') {
    logger.warn(
      { event: 'config.secret', source: secret.source, dataDir: config.dataDir },
      'LATCHKEY_SECRET is not set: using a secret stored in the data directory. Set LATCHKEY_SECRET in production.',
    );
  }
  if (config.insecureCookies) {
    logger.warn(
      { event: 'config.insecure_cookies' },
      'LATCHKEY_INSECURE_COOKIES is on: cookies are not Secure',
    );
  }
  const store = await openStore(config);
  const sessionCacheFeed = await openSessionCacheFeed(config, store, DEFAULT_REVOCATION_CHANNEL);
  const latchkey = await createLatchkey({
    config,
    store,
    secret: secret.value,
    logger,
    ...(sessionCacheFeed === undefined ? {} : { sessionCacheFeed }),
  });
  // Push revocations to resource services over Redis pub/sub or Postgres NOTIFY when one is
  // configured; services always catch up from the HTTP snapshot, so a missed publish is recovered.
  const publisher: RevocationPublisher | null =
    config.redisURL !== null
      ? createRedisRevocationPublisher({ url: config.redisURL, channel: DEFAULT_REVOCATION_CHANNEL })
      : config.databaseURL !== null
        ? createPostgresRevocationPublisher({ url: config.databaseURL, channel: DEFAULT_REVOCATION_CHANNEL })
        : null;
  const detachPublisher =
    publisher === null ? (): void => undefined : attachRevocationPublisher(latchkey, publisher);
  publisher?.ready().then(
    () => {
      logger.info(
        { event: 'revocations.publisher', transport: publisher.transport, channel: publisher.channel },
        'publishing revocations',
      );
    },
    (error: unknown) => {
      logger.warn(
        { err: error, event: 'revocations.publisher_unavailable', transport: publisher.transport },
        'revocation publisher unreachable for now; resource services catch up from the snapshot',
      );
    },
  );
  const { createHTTPServer } = await import('../http/server.js');
  const app = createHTTPServer(latchkey);
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
          store: store.kind,
          url: `http://${config.host}:${config.port}`,
          issuer: config.issuer,
        },
        'latchkey is listening',
      );
    },
    async close() {
      await app.close();
      detachPublisher();
      await publisher?.close();
      await latchkey.close();
    },
  };
}
