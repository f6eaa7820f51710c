/**
 * The webhook worker: sends the deliveries the webhook service queued, from any number of nodes
 * at once, as the mail worker sends mails (`./mail-worker.ts`). Each round claims due deliveries
 * with a lease (`claimWebhookDeliveries`), signs each (Standard Webhooks: the same `webhook-id`
 * on every attempt, a fresh timestamp and signature), POSTs it through the transport and
 * settles it: delivered on a 2xx; else queued again with a doubling delay (5 s up to 1 h, with
 * jitter); failed for good after `maxAttempts` or `giveUpAfterMs`. Nothing is lost across a
 * restart: the queue is in the store, and a node that dies mid-send loses its lease to another.
 */

import { createPollingLoop } from './polling-loop.js';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { WebhookDeliveryRecord, WebhookEndpointRecord, WebhookOutcome } from '../records.js';
import type { WebhookStore } from '../store.js';
import { signWebhook } from '../webhooks/signature.js';
import type { WebhookTransport } from '../webhooks/transport.js';
import type { WebhookService } from '../webhooks/webhooks.js';

export interface WebhookWorkerOptions {
  store: WebhookStore;
  webhooks: Pick<WebhookService, 'secretOf'>;
  transport: WebhookTransport;
  clock: Clock;
  logger: Logger;
  /** Time between rounds when idle. Default 5 s. */
  pollIntervalMs?: number;
  /** How long a claim holds a delivery; longer than a send may take. Default 1 min. */
  leaseMs?: number;
  /** Deliveries per round. Default 20. */
  batchSize?: number;
  /** Attempts before a delivery fails for good. Default 15. */
  maxAttempts?: number;
  /** Age after which a delivery that still failed fails for good. Default 3 days. */
  giveUpAfterMs?: number;
  /** First retry delay, doubled per attempt up to `maxRetryDelayMs`. Default 5 s. */
  retryDelayMs?: number;
  /** Default 1 h. */
  maxRetryDelayMs?: number;
}

export interface WebhookWorker {
  /** Claims and sends due deliveries once; resolves with how many were delivered. */
  runOnce(): Promise<number>;
  start(): void;
  /** Asks for a round soon (a delivery was just queued). */
  kick(): void;
  /** Stops the rounds and waits for the current one. */
  stop(): Promise<void>;
}

/**
 * @example
 * const worker = createWebhookWorker({ store, webhooks, transport, clock, logger });
 * worker.start();
 */
export function createWebhookWorker(options: WebhookWorkerOptions): WebhookWorker {
  const { store, webhooks, transport, clock, logger } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  const leaseMs = options.leaseMs ?? 60_000;
  const batchSize = options.batchSize ?? 20;
  const maxAttempts = options.maxAttempts ?? 15;
  const giveUpAfterMs = options.giveUpAfterMs ?? 3 * 24 * 3_600_000;
  const retryDelayMs = options.retryDelayMs ?? 5_000;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 3_600_000;

  function failure(delivery: WebhookDeliveryRecord, error: string, status: number | null): WebhookOutcome {
    const now = clock();
    if (delivery.attempts >= maxAttempts || now - delivery.createdAt >= giveUpAfterMs) {
      return { status: 'failed', at: now, error, responseStatus: status };
    }
    const delay = Math.min(maxRetryDelayMs, retryDelayMs * 2 ** Math.max(0, delivery.attempts - 1));
    const jitter = Math.floor(Math.random() * delay * 0.2);
    return { status: 'queued', retryAt: now + delay + jitter, error, responseStatus: status };
  }

  async function attempt(
    delivery: WebhookDeliveryRecord,
    endpoint: WebhookEndpointRecord | null,
  ): Promise<WebhookOutcome> {
    if (endpoint === null)
      return { status: 'failed', at: clock(), error: 'endpoint removed', responseStatus: null };
    const headers = signWebhook({
      id: delivery.id,
      timestamp: Math.floor(clock() / 1000),
      body: delivery.payload,
      secret: webhooks.secretOf(endpoint),
    });
    const response = await transport.send({ url: endpoint.url, headers, body: delivery.payload });
    if (response.status === null) return failure(delivery, response.error, null);
    if (response.status >= 200 && response.status < 300) {
      return { status: 'delivered', at: clock(), responseStatus: response.status };
    }
    return failure(delivery, `HTTP ${response.status}`, response.status);
  }

  async function deliver(delivery: WebhookDeliveryRecord, claimant: string): Promise<boolean> {
    const endpoint = await store.getWebhookEndpoint(delivery.endpointId);
    const outcome = await attempt(delivery, endpoint).catch((): WebhookOutcome =>
      failure(delivery, 'delivery failed', null),
    );
    const settled = await store.settleWebhookDelivery(delivery.id, claimant, outcome);
    const fields = {
      deliveryId: delivery.id,
      endpointId: delivery.endpointId,
      auditEvent: delivery.event,
      attempts: delivery.attempts,
      status: outcome.responseStatus,
    };
    if (outcome.status === 'delivered')
      logger.info({ event: 'webhook.delivered', ...fields }, 'webhook delivered');
    else if (outcome.status === 'failed') {
      logger.warn({ event: 'webhook.failed', ...fields, reason: outcome.error }, 'webhook failed for good');
    } else {
      logger.warn(
        { event: 'webhook.retry', ...fields, reason: outcome.error },
        'webhook not delivered; will retry',
      );
    }
    return settled && outcome.status === 'delivered';
  }

  async function round(): Promise<number> {
    const claimant = randomBytes(16).toString('base64url');
    const due = await store.claimWebhookDeliveries({ now: clock(), leaseMs, limit: batchSize, claimant });
    let delivered = 0;
    for (const delivery of due) if (await deliver(delivery, claimant)) delivered += 1;
    return delivered;
  }

  return createPollingLoop({
    round,
    pollIntervalMs,
    onError: (error) => {
      logger.warn({ err: error, event: 'webhook.worker_failed' }, 'webhook round failed; will retry');
    },
  });
}
