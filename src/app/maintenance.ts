/** Periodic work of a running server: sweeping expired records and maintaining signing keys. */

import type { Clock } from '../clock.js';
import type { Keyring } from '../keys/keyring.js';
import type { Logger } from '../log.js';
import type { Store } from '../store.js';

export interface Maintenance {
  /**
   * Sweeps expired sessions, revocations, one-time tokens, settled mails, audit records and
   * webhook deliveries, and maintains keys, once.
   */
  run(): Promise<void>;
  /** Runs {@link run} every `intervalMs` (at most every minute) until {@link stop}. */
  start(intervalMs: number): void;
  stop(): void;
}

/**
 * @example
 * const maintenance = createMaintenance({ store, keyring, clock, logger });
 * maintenance.start(config.sweepInterval);
 */
export function createMaintenance(options: {
  store: Store;
  keyring: Keyring;
  clock: Clock;
  logger: Logger;
}): Maintenance {
  const { store, keyring, clock, logger } = options;
  const timers: NodeJS.Timeout[] = [];

  async function run(): Promise<void> {
    const now = clock();
    const swept = await store.deleteExpiredSessions(now);
    const revocationsSwept = await store.deleteExpiredRevocations(now);
    const oneTimeTokensSwept = await store.deleteExpiredOneTimeTokens(now);
    const mailsSwept = await store.deleteExpiredMails(now);
    const auditSwept = await store.deleteExpiredAuditRecords(now);
    const deliveriesSwept = await store.deleteExpiredWebhookDeliveries(now);
    await keyring.maintain();
    const total = swept + revocationsSwept + oneTimeTokensSwept + mailsSwept + auditSwept + deliveriesSwept;
    if (total > 0) {
      logger.info(
        {
          event: 'sweep',
          sessions: swept,
          revocations: revocationsSwept,
          oneTimeTokens: oneTimeTokensSwept,
          mails: mailsSwept,
          auditRecords: auditSwept,
          webhookDeliveries: deliveriesSwept,
        },
        'swept expired records',
      );
    }
  }

  return {
    run,
    start(intervalMs) {
      const tick = (): void => {
        run().catch((error: unknown) => {
          logger.warn({ err: error, event: 'maintenance.failed' }, 'maintenance failed; will retry');
        });
      };
      const timer = setInterval(tick, Math.min(intervalMs, 60_000));
      timer.unref();
      timers.push(timer);
    },
    stop() {
      for (const timer of timers) clearInterval(timer);
      timers.length = 0;
    },
  };
}
