/** Webhook endpoints and their delivery queue in the memory store (the mail outbox's pattern). */

import { LatchkeyError } from '../../errors.js';
import type { WebhookDeliveryRecord, WebhookEndpointRecord } from '../../records.js';
import type { WebhookStore } from '../../store.js';
import type { RunOperation } from './runner.js';

function newestFirst(a: WebhookDeliveryRecord, b: WebhookDeliveryRecord): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function oldestFirst(a: WebhookEndpointRecord, b: WebhookEndpointRecord): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const copyEndpoint = (endpoint: WebhookEndpointRecord): WebhookEndpointRecord => ({
  ...endpoint,
  events: [...endpoint.events],
});

/**
 * Creates the webhook operations of one memory store, over state of their own.
 *
 * @example
 * const webhooks = createMemoryWebhooks(run);
 * await webhooks.createWebhookEndpoint(endpoint);
 */
export function createMemoryWebhooks(run: RunOperation): WebhookStore {
  const endpoints = new Map<string, WebhookEndpointRecord>();
  const deliveries = new Map<string, WebhookDeliveryRecord>();

  return {
    createWebhookEndpoint(endpoint) {
      return run(() => {
        if (endpoints.has(endpoint.id))
          throw new LatchkeyError('internal_error', 'A webhook endpoint with this id already exists');
        endpoints.set(endpoint.id, copyEndpoint(endpoint));
      });
    },

    getWebhookEndpoint(id) {
      return run(() => {
        const endpoint = endpoints.get(id);
        return endpoint === undefined ? null : copyEndpoint(endpoint);
      });
    },

    listWebhookEndpoints() {
      return run(() => [...endpoints.values()].sort(oldestFirst).map(copyEndpoint));
    },

    deleteWebhookEndpoint(id) {
      return run(() => {
        if (!endpoints.delete(id)) return false;
        for (const delivery of deliveries.values()) {
          if (delivery.endpointId === id) deliveries.delete(delivery.id);
        }
        return true;
      });
    },

    queueWebhookDeliveries(batch) {
      return run(() => {
        const ids = new Set(batch.map((delivery) => delivery.id));
        if (ids.size !== batch.length || batch.some((delivery) => deliveries.has(delivery.id)))
          throw new LatchkeyError('internal_error', 'A webhook delivery with this id already exists');
        for (const delivery of batch) deliveries.set(delivery.id, { ...delivery });
      });
    },

    claimWebhookDeliveries({ now, leaseMs, limit, claimant }) {
      return run(() => {
        const due = [...deliveries.values()]
          .filter((delivery) => delivery.status === 'queued' && delivery.nextAttemptAt <= now)
          .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt)
          .slice(0, Math.max(0, limit));
        for (const delivery of due) {
          delivery.claimedBy = claimant;
          delivery.nextAttemptAt = now + leaseMs;
          delivery.attempts += 1;
        }
        return due.map((delivery) => ({ ...delivery }));
      });
    },

    settleWebhookDelivery(id, claimant, outcome) {
      return run(() => {
        const delivery = deliveries.get(id);
        if (delivery?.status !== 'queued' || delivery.claimedBy !== claimant) return false;
        delivery.claimedBy = null;
        delivery.responseStatus = outcome.responseStatus;
        if (outcome.status === 'queued') {
          delivery.nextAttemptAt = outcome.retryAt;
          delivery.lastError = outcome.error;
        } else {
          delivery.status = outcome.status;
          delivery.settledAt = outcome.at;
          if (outcome.status === 'failed') delivery.lastError = outcome.error;
        }
        return true;
      });
    },

    getWebhookDelivery(id) {
      return run(() => {
        const delivery = deliveries.get(id);
        return delivery === undefined ? null : { ...delivery };
      });
    },

    listWebhookDeliveries({ endpointId, limit }) {
      return run(() =>
        [...deliveries.values()]
          .filter((delivery) => delivery.endpointId === endpointId)
          .sort(newestFirst)
          .slice(0, Math.max(0, limit))
          .map((delivery) => ({ ...delivery })),
      );
    },

    deleteExpiredWebhookDeliveries(now) {
      return run(() => {
        let removed = 0;
        for (const delivery of deliveries.values()) {
          if (delivery.status === 'queued' || delivery.expiresAt > now) continue;
          deliveries.delete(delivery.id);
          removed += 1;
        }
        return removed;
      });
    },
  };
}
