/**
 * Webhook endpoints (`latchkey_webhooks`) and their delivery queue
 * (`latchkey_webhook_deliveries`) in SQL. The queue works as the mail outbox does
 * (`./mails.ts`): a claim is a compare-and-set per delivery, which holds on every engine.
 */

import type { WebhookDeliveryRecord, WebhookDeliveryStatus, WebhookEndpointRecord } from '../../records.js';
import type { WebhookStore } from '../../store.js';
import type { SqlParam } from './client.js';
import type { SqlContext } from './context.js';
import { rowCountOf, run } from './context.js';
import type { SqlDialect, SqlInteger } from './dialect.js';

interface EndpointRow {
  id: string;
  url: string;
  events: unknown;
  secret: string;
  created_at: SqlInteger;
}

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event: string;
  payload: string;
  status: string;
  attempts: SqlInteger;
  created_at: SqlInteger;
  next_attempt_at: SqlInteger;
  claimed_by: string | null;
  settled_at: SqlInteger | null;
  response_status: SqlInteger | null;
  last_error: string | null;
  expires_at: SqlInteger;
}

const ENDPOINT_COLUMNS = ['id', 'url', 'events', 'secret', 'created_at'] as const;
const DELIVERY_COLUMNS = [
  'id',
  'endpoint_id',
  'event',
  'payload',
  'status',
  'attempts',
  'created_at',
  'next_attempt_at',
  'claimed_by',
  'settled_at',
  'response_status',
  'last_error',
  'expires_at',
] as const;

const nullable = (d: SqlDialect, value: SqlInteger | null): number | null =>
  value === null ? null : d.readInteger(value);

function toEndpoint(row: EndpointRow, d: SqlDialect): WebhookEndpointRecord {
  return {
    id: row.id,
    url: row.url,
    events: d.readStrings(row.events),
    secret: row.secret,
    createdAt: d.readInteger(row.created_at),
  };
}

function toDelivery(row: DeliveryRow, d: SqlDialect): WebhookDeliveryRecord {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    event: row.event,
    payload: row.payload,
    status: row.status as WebhookDeliveryStatus,
    attempts: d.readInteger(row.attempts),
    createdAt: d.readInteger(row.created_at),
    nextAttemptAt: d.readInteger(row.next_attempt_at),
    claimedBy: row.claimed_by,
    settledAt: nullable(d, row.settled_at),
    responseStatus: nullable(d, row.response_status),
    lastError: row.last_error,
    expiresAt: d.readInteger(row.expires_at),
  };
}

function deliveryValues(delivery: WebhookDeliveryRecord): SqlParam[] {
  return [
    delivery.id,
    delivery.endpointId,
    delivery.event,
    delivery.payload,
    delivery.status,
    delivery.attempts,
    delivery.createdAt,
    delivery.nextAttemptAt,
    delivery.claimedBy,
    delivery.settledAt,
    delivery.responseStatus,
    delivery.lastError,
    delivery.expiresAt,
  ];
}

function prepareStatements(d: SqlDialect) {
  const endpointColumns = ENDPOINT_COLUMNS.join(', ');
  const columns = DELIVERY_COLUMNS.join(', ');
  const held = "status = 'queued' AND claimed_by = $2 AND id = $1";
  return {
    insertEndpoint: d.prepare(d.insert({ table: 'latchkey_webhooks', columns: ENDPOINT_COLUMNS })),
    endpoint: d.prepare(`SELECT ${endpointColumns} FROM latchkey_webhooks WHERE id = $1`),
    endpoints: d.prepare(`SELECT ${endpointColumns} FROM latchkey_webhooks ORDER BY created_at, id`),
    deleteEndpoint: d.prepare('DELETE FROM latchkey_webhooks WHERE id = $1'),
    deleteDeliveriesOf: d.prepare('DELETE FROM latchkey_webhook_deliveries WHERE endpoint_id = $1'),
    insert: d.prepare(d.insert({ table: 'latchkey_webhook_deliveries', columns: DELIVERY_COLUMNS })),
    due: d.prepare(
      "SELECT id FROM latchkey_webhook_deliveries WHERE status = 'queued' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
    ),
    claim: d.prepare(
      `UPDATE latchkey_webhook_deliveries SET claimed_by = $2, next_attempt_at = ${d.cast('$3', 'bigint')}, attempts = attempts + 1
       WHERE id = $1 AND status = 'queued' AND next_attempt_at <= $4`,
    ),
    claimed: d.prepare(
      `SELECT ${columns} FROM latchkey_webhook_deliveries WHERE id = $1 AND claimed_by = $2`,
    ),
    settle: d.prepare(
      `UPDATE latchkey_webhook_deliveries SET status = $3, settled_at = $4, response_status = $5, last_error = COALESCE($6, last_error), claimed_by = NULL WHERE ${held}`,
    ),
    retry: d.prepare(
      `UPDATE latchkey_webhook_deliveries SET next_attempt_at = $3, response_status = $4, last_error = $5, claimed_by = NULL WHERE ${held}`,
    ),
    byId: d.prepare(`SELECT ${columns} FROM latchkey_webhook_deliveries WHERE id = $1`),
    ofEndpoint: d.prepare(
      `SELECT ${columns} FROM latchkey_webhook_deliveries WHERE endpoint_id = $2 ORDER BY created_at DESC, id DESC LIMIT $1`,
    ),
    deleteExpired: d.prepare(
      "DELETE FROM latchkey_webhook_deliveries WHERE status <> 'queued' AND expires_at <= $1",
    ),
  };
}

/**
 * The webhook methods of the SQL store.
 *
 * @example
 * const webhooks = createWebhookStore(createSqlContext(client, postgresDialect));
 * await webhooks.createWebhookEndpoint(endpoint);
 */
export function createWebhookStore(context: SqlContext): WebhookStore {
  const { client, dialect: d, guarded } = context;
  const statements = prepareStatements(d);

  return {
    createWebhookEndpoint: (endpoint) =>
      guarded(async () => {
        const { id, url, events, secret, createdAt } = endpoint;
        await run(client, statements.insertEndpoint, [id, url, d.writeStrings(events), secret, createdAt]);
      }),

    getWebhookEndpoint: (id) =>
      guarded(async () => {
        const row = (await run<EndpointRow>(client, statements.endpoint, [id])).rows[0];
        return row === undefined ? null : toEndpoint(row, d);
      }),

    listWebhookEndpoints: () =>
      guarded(async () =>
        (await run<EndpointRow>(client, statements.endpoints)).rows.map((row) => toEndpoint(row, d)),
      ),

    deleteWebhookEndpoint: (id) =>
      guarded(() =>
        client.transaction(async (tx) => {
          await run(tx, statements.deleteDeliveriesOf, [id]);
          return rowCountOf(await run(tx, statements.deleteEndpoint, [id])) > 0;
        }),
      ),

    queueWebhookDeliveries: (deliveries) =>
      guarded(async () => {
        if (deliveries.length === 0) return;
        await client.transaction(async (tx) => {
          for (const delivery of deliveries) await run(tx, statements.insert, deliveryValues(delivery));
        });
      }),

    claimWebhookDeliveries: ({ now, leaseMs, limit, claimant }) =>
      guarded(async () => {
        if (limit <= 0) return [];
        const { rows } = await run<{ id: string }>(client, statements.due, [now, limit]);
        const claimed: WebhookDeliveryRecord[] = [];
        for (const { id } of rows) {
          const won = rowCountOf(await run(client, statements.claim, [id, claimant, now + leaseMs, now])) > 0;
          if (!won) continue;
          const row = (await run<DeliveryRow>(client, statements.claimed, [id, claimant])).rows[0];
          if (row !== undefined) claimed.push(toDelivery(row, d));
        }
        return claimed;
      }),

    settleWebhookDelivery: (id, claimant, outcome) =>
      guarded(async () => {
        const result =
          outcome.status === 'queued'
            ? await run(client, statements.retry, [
                id,
                claimant,
                outcome.retryAt,
                outcome.responseStatus,
                outcome.error,
              ])
            : await run(client, statements.settle, [
                id,
                claimant,
                outcome.status,
                outcome.at,
                outcome.responseStatus,
                outcome.status === 'failed' ? outcome.error : null,
              ]);
        return rowCountOf(result) > 0;
      }),

    getWebhookDelivery: (id) =>
      guarded(async () => {
        const row = (await run<DeliveryRow>(client, statements.byId, [id])).rows[0];
        return row === undefined ? null : toDelivery(row, d);
      }),

    listWebhookDeliveries: ({ endpointId, limit }) =>
      guarded(async () => {
        if (limit <= 0) return [];
        const { rows } = await run<DeliveryRow>(client, statements.ofEndpoint, [limit, endpointId]);
        return rows.map((row) => toDelivery(row, d));
      }),

    deleteExpiredWebhookDeliveries: (now) =>
      guarded(async () => rowCountOf(await run(client, statements.deleteExpired, [now]))),
  };
}
