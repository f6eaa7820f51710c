/**
 * A Latchkey instance from a configuration alone: the master secret, the store the
 * configuration selects (`./stores.ts`), the near cache's channel and the revocation publisher
 * (`./channels.ts`), and the core (`./latchkey.ts`). What `latchkey serve` and the other CLI
 * commands run.
 */

import type { LatchkeyConfig } from '../config/config.js';
import { loadMasterSecret } from '../config/secret.js';
import { createLogger, type Logger } from '../log.js';
import { attachRevocationPublisher, type RevocationPublisher } from '../revocation/publishers.js';
import { openRevocationPublisher, openSessionCacheFeed, revocationChannel } from './channels.js';
import { createLatchkey, type Latchkey } from './latchkey.js';
import { openStore } from './stores.js';
import type { Instrumentation } from './metrics.js';
import { createPasswordHasher } from '../password/hash.js';

export interface OpenLatchkeyOptions {
  logger?: Logger;
  /** Apply pending migrations (default: `config.migrateOnStart`). */
  migrate?: boolean;
  /**
   * Open the revocation channels: the publisher to resource services and the near cache's feed
   * (default true). `'publish'`: the publisher alone, connected on the first revocation (a
   * one-shot CLI command: `users disable` must reach the nodes' caches and the resource services).
   */
  channels?: boolean | 'publish';
  /** Warn about a master secret kept in the data directory (default: with `channels`). */
  warnings?: boolean;
  /** Metrics (`./metrics.ts`): the store and the hasher measured, the events counted. */
  instrumentation?: Instrumentation | null;
}

/**
 * Opens everything a configuration asks for; `close()` on the result closes the publisher, the
 * channel and the store.
 *
 * @example
 * const latchkey = await openLatchkey(loadConfig(process.env));
 */
export async function openLatchkey(
  config: LatchkeyConfig,
  options: OpenLatchkeyOptions = {},
): Promise<Latchkey> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const channels = options.channels ?? true;
  const secret = await loadMasterSecret({ configured: config.secret, dataDir: config.dataDir });
  if (options.warnings ?? channels !== false) warnAboutConfiguration(config, logger, secret.source);
  const metrics = options.instrumentation ?? null;
  const openedStore = await openStore(config, {
    logger,
    ...(options.migrate === undefined ? {} : { migrate: options.migrate }),
  });
  const store = metrics === null ? openedStore : metrics.measureStore(openedStore);
  const channel = revocationChannel(config);
  const sessionCacheFeed = channels === true ? await openSessionCacheFeed(config, store, channel) : undefined;
  const latchkey = await createLatchkey({
    // Without the feed (a one-shot command) no near cache: nothing would keep it right.
    config: channels === true ? config : { ...config, sessionCache: 0 },
    store,
    secret: secret.value,
    logger,
    ...(sessionCacheFeed === undefined ? {} : { sessionCacheFeed }),
    ...(metrics === null ? {} : { hasher: metrics.measureHasher(createPasswordHasher()) }),
  });
  metrics?.attach(latchkey);
  const opened = channels === false ? null : await openRevocationPublisher(config, channel);
  if (opened === null) return latchkey;
  const publisher = trackPublishes(opened);
  const detach = attachRevocationPublisher(latchkey, publisher);
  const closeCore = latchkey.close.bind(latchkey);
  latchkey.close = async () => {
    detach();
    // What was revoked before the close is still sent (each publish has its own timeout).
    await publisher.settled();
    await publisher.close();
    await closeCore();
  };
  if (channels === 'publish') return latchkey;
  publisher.ready().then(
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
  return latchkey;
}

/** A publisher whose publishes in flight can be waited for, before it closes. */
function trackPublishes(publisher: RevocationPublisher): RevocationPublisher & { settled(): Promise<void> } {
  const pending = new Set<Promise<void>>();
  return {
    transport: publisher.transport,
    channel: publisher.channel,
    publish(record) {
      const sent = publisher.publish(record);
      pending.add(sent);
      const forget = (): void => {
        pending.delete(sent);
      };
      sent.then(forget, forget);
      return sent;
    },
    ready: () => publisher.ready(),
    close: () => publisher.close(),
    async settled() {
      await Promise.allSettled([...pending]);
    },
  };
}

function warnAboutConfiguration(config: LatchkeyConfig, logger: Logger, secretSource: string): void {
  if (secretSource !== 'env') {
    logger.warn(
      { event: 'config.secret', source: secretSource, dataDir: config.dataDir },
      'LATCHKEY_SECRET is not set: using a secret stored in the data directory. Set LATCHKEY_SECRET in production.',
    );
  }
  if (config.insecureCookies) {
    logger.warn(
      { event: 'config.insecure_cookies' },
      'LATCHKEY_INSECURE_COOKIES is on: cookies are not Secure',
    );
  }
}
