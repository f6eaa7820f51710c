/**
 * What an operator watches a running instance with: the audit trail, fed by a tap on the logger
 * (the security events are the core's log calls), and the webhooks its records go out as, with
 * their worker. Built by `./latchkey.ts`; closed by its `close()`.
 */

import { createAuditLog, type AuditLog } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import type { LatchkeyConfig } from '../config/config.js';
import { deriveKey } from '../lib/secrets.js';
import type { Logger } from '../log.js';
import { tapLogEvents } from '../metrics/log-tap.js';
import type { Store } from '../store.js';
import type { WebhookTransport } from '../webhooks/transport.js';
import { createWebhookService, type WebhookService } from '../webhooks/webhooks.js';
import { createWebhookWorker, type WebhookWorker, type WebhookWorkerOptions } from './webhook-worker.js';

export interface Operations {
  audit: AuditLog;
  webhooks: WebhookService;
  webhookWorker: WebhookWorker;
  /** Stops the tap, waits for the audit writes under way, stops the worker. */
  close(): Promise<void>;
}

/**
 * @example
 * const operations = await createOperations({ config, store, clock, logger, master }, { webhookTransport });
 */
export async function createOperations(
  core: { config: LatchkeyConfig; store: Store; clock: Clock; logger: Logger; master: Buffer },
  options: {
    webhookTransport?: WebhookTransport | undefined;
    webhookWorker?: Partial<WebhookWorkerOptions> | undefined;
  } = {},
): Promise<Operations> {
  const { config, store, clock, logger } = core;
  const webhooks = createWebhookService({
    store,
    clock,
    logger,
    key: deriveKey(core.master, 'webhook-secrets'),
    // The worker is built below; a queued delivery only asks it for a round.
    onQueued: () => webhookWorker.kick(),
  });
  // Loaded only when needed, so that embedding Latchkey with its own transport never loads it.
  const transport =
    options.webhookTransport ??
    (await import('../webhooks-http/fetch-transport.js')).createFetchWebhookTransport();
  const webhookWorker = createWebhookWorker({
    store,
    webhooks,
    transport,
    clock,
    logger,
    ...options.webhookWorker,
  });
  const audit = createAuditLog({
    store,
    clock,
    logger,
    retentionMs: config.audit.retention,
    onRecorded: (record) => webhooks.enqueue(record),
  });
  // The events are the log calls the core already makes: one tap keeps them, nothing logs twice.
  const untap = tapLogEvents(logger, (event, fields) => audit.record(event, fields));
  return {
    audit,
    webhooks,
    webhookWorker,
    async close() {
      untap();
      await audit.flush();
      await webhookWorker.stop();
    },
  };
}
