/**
 * Webhook endpoints and their delivery queue in Redis, in one slot (`{wh}`): an endpoint is a
 * JSON string (`[url, events, secret, createdAt]`) listed in a set scored by `createdAt`; a
 * delivery is a hash (`./webhook-scripts.ts`) with three sorted sets (due deliveries, an
 * endpoint's deliveries by creation, settled ones by expiry), as the mail outbox
 * (`./mails.ts`). Queueing several deliveries is one script per delivery; removing an endpoint
 * removes it first, then its deliveries.
 */

import type { WebhookDeliveryRecord, WebhookDeliveryStatus, WebhookEndpointRecord } from '../../records.js';
import type { WebhookStore } from '../../store.js';
import { malformed, numberOrNull, oneOf, parseTuple, requiredNumber } from './codec.js';
import { duplicate, mapInChunks, sweepDue, type RedisContext } from './context.js';
import {
  claimWebhookDelivery,
  queueWebhookDelivery,
  settleWebhookDelivery,
  sweepWebhookDelivery,
} from './webhook-scripts.js';

const WHAT = 'webhook';
const STATUSES: readonly WebhookDeliveryStatus[] = ['queued', 'delivered', 'failed'];
const emptyIsNull = (value: string | undefined): string | null =>
  value === undefined || value === '' ? null : value;

function decodeEndpoint(id: string, json: string | null): WebhookEndpointRecord | null {
  if (json === null) return null;
  const [url, events, secret, createdAt] = parseTuple(json, 4, WHAT);
  if (
    typeof url !== 'string' ||
    !Array.isArray(events) ||
    !events.every((event) => typeof event === 'string') ||
    typeof secret !== 'string' ||
    typeof createdAt !== 'number'
  ) {
    throw malformed(WHAT);
  }
  return { id, url, events, secret, createdAt };
}

function decodeDelivery(id: string, hash: Record<string, string>): WebhookDeliveryRecord | null {
  if (hash.r === undefined) return null;
  const [endpointId, event, payload, createdAt] = parseTuple(hash.r, 4, WHAT);
  if (
    typeof endpointId !== 'string' ||
    typeof event !== 'string' ||
    typeof payload !== 'string' ||
    typeof createdAt !== 'number'
  ) {
    throw malformed(WHAT);
  }
  return {
    id,
    endpointId,
    event,
    payload,
    createdAt,
    status: oneOf(hash.s ?? '', STATUSES, WHAT),
    attempts: requiredNumber(hash.a, WHAT),
    nextAttemptAt: requiredNumber(hash.n, WHAT),
    claimedBy: emptyIsNull(hash.c),
    settledAt: hash.t === '' ? null : numberOrNull(hash.t, WHAT),
    responseStatus: hash.h === '' ? null : numberOrNull(hash.h, WHAT),
    lastError: emptyIsNull(hash.e),
    expiresAt: requiredNumber(hash.x, WHAT),
  };
}

/**
 * The webhook operations of one Redis store.
 *
 * @example
 * const webhooks = createRedisWebhooks(context);
 * await webhooks.createWebhookEndpoint(endpoint);
 */
export function createRedisWebhooks(context: RedisContext): WebhookStore {
  const { run, keys, client } = context;
  const getDelivery = async (id: string): Promise<WebhookDeliveryRecord | null> =>
    decodeDelivery(id, await client.hgetall(keys.webhookDelivery(id)));

  return {
    createWebhookEndpoint: (endpoint) =>
      run(async () => {
        const json = JSON.stringify([endpoint.url, endpoint.events, endpoint.secret, endpoint.createdAt]);
        if ((await client.set(keys.webhook(endpoint.id), json, 'NX')) === null) throw duplicate(WHAT);
        await client.zadd(keys.webhooks, endpoint.createdAt, endpoint.id);
      }),

    getWebhookEndpoint: (id) => run(async () => decodeEndpoint(id, await client.get(keys.webhook(id)))),

    listWebhookEndpoints: () =>
      run(async () => {
        const ids = await client.zrange(keys.webhooks, 0, -1);
        const endpoints = await mapInChunks(ids, async (id) =>
          decodeEndpoint(id, await client.get(keys.webhook(id))),
        );
        return endpoints.filter((endpoint): endpoint is WebhookEndpointRecord => endpoint !== null);
      }),

    deleteWebhookEndpoint: (id) =>
      run(async () => {
        const existed = (await client.del(keys.webhook(id))) === 1;
        await client.zrem(keys.webhooks, id);
        const of = keys.webhookDeliveriesOf(id);
        const ids = await client.zrange(of, 0, -1);
        await mapInChunks(ids, async (delivery) => {
          await client.del(keys.webhookDelivery(delivery));
          await client.zrem(keys.webhookDeliveriesDue, delivery);
          await client.zrem(keys.webhookDeliverySweep, delivery);
        });
        await client.del(of);
        return existed;
      }),

    queueWebhookDeliveries: (deliveries) =>
      run(async () => {
        for (const delivery of deliveries) {
          const stored = await context.runScript(
            queueWebhookDelivery,
            [
              keys.webhookDelivery(delivery.id),
              keys.webhookDeliveriesDue,
              keys.webhookDeliveriesOf(delivery.endpointId),
            ],
            [
              delivery.id,
              JSON.stringify([delivery.endpointId, delivery.event, delivery.payload, delivery.createdAt]),
              delivery.expiresAt,
              delivery.status,
              delivery.attempts,
              delivery.nextAttemptAt,
              delivery.createdAt,
            ],
          );
          if (stored !== 1) throw duplicate(WHAT);
        }
      }),

    claimWebhookDeliveries: ({ now, leaseMs, limit, claimant }) =>
      run(async () => {
        if (limit <= 0) return [];
        const due = await client.zrangebyscore(keys.webhookDeliveriesDue, '-inf', now, 'LIMIT', 0, limit);
        const claimed = await mapInChunks(due, async (id) => {
          const won = await context.runScript(
            claimWebhookDelivery,
            [keys.webhookDelivery(id), keys.webhookDeliveriesDue],
            [id, now, now + leaseMs, claimant],
          );
          return won === 1 ? getDelivery(id) : null;
        });
        return claimed.filter(
          (delivery): delivery is WebhookDeliveryRecord => delivery?.claimedBy === claimant,
        );
      }),

    settleWebhookDelivery: (id, claimant, outcome) =>
      run(async () => {
        const at = outcome.status === 'queued' ? outcome.retryAt : outcome.at;
        const error = outcome.status === 'delivered' ? '' : outcome.error;
        const settled = await context.runScript(
          settleWebhookDelivery,
          [keys.webhookDelivery(id), keys.webhookDeliveriesDue, keys.webhookDeliverySweep],
          [id, claimant, outcome.status, at, outcome.responseStatus ?? '', error],
        );
        return settled === 1;
      }),

    getWebhookDelivery: (id) => run(() => getDelivery(id)),

    listWebhookDeliveries: ({ endpointId, limit }) =>
      run(async () => {
        if (limit <= 0) return [];
        const ids = await client.zrevrange(keys.webhookDeliveriesOf(endpointId), 0, limit - 1);
        const deliveries = await mapInChunks(ids, getDelivery);
        return deliveries.filter((delivery): delivery is WebhookDeliveryRecord => delivery !== null);
      }),

    deleteExpiredWebhookDeliveries: (now) =>
      run(() =>
        sweepDue(context, keys.webhookDeliverySweep, now, async (id) => {
          const delivery = await getDelivery(id);
          const of = keys.webhookDeliveriesOf(delivery?.endpointId ?? '');
          const swept = await context.runScript(
            sweepWebhookDelivery,
            [keys.webhookDelivery(id), keys.webhookDeliverySweep, of],
            [id, now],
          );
          return swept === 1;
        }),
      ),
  };
}
