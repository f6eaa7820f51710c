/**
 * Webhooks: operators register endpoints (a URL and the events it wants); each audit record of
 * such an event becomes one delivery per endpoint, queued in the store (`WebhookStore`) and sent
 * by the webhook worker (`app/webhook-worker.ts`) with Standard Webhooks signatures
 * (`./signature.ts`). The signing secret is shown once, at creation, and stored sealed
 * (`lib/seal.ts`, label `webhook:<id>`).
 *
 * URLs: `http:` and `https:` only, without credentials. An endpoint on an internal address
 * (`http://10.0.0.5/`, `http://localhost/`) is allowed: only an operator registers endpoints,
 * and the server then POSTs to what they named. Whoever can run `latchkey webhooks add` (or the
 * admin API) can make the server send requests inside its network: give that right only to
 * people who have it already.
 */

import { randomBytes } from 'node:crypto';
import { AUDITED_EVENTS } from '../audit/audit.js';
import type { Clock } from '../clock.js';
import { LatchkeyError } from '../errors.js';
import { openSealed, seal } from '../lib/seal.js';
import type { Logger } from '../log.js';
import type { AuditRecord, WebhookDeliveryRecord, WebhookEndpointRecord } from '../records.js';
import type { WebhookStore } from '../store.js';
import { newWebhookSecret } from './signature.js';

/** How long a settled delivery stays in the endpoint's log. */
export const DELIVERY_RETENTION_MS = 30 * 24 * 3_600_000;
/** How long the list of endpoints is reused before it is read again (another node may add one). */
const ENDPOINT_CACHE_MS = 30_000;
const MAX_URL_LENGTH = 2_048;

export interface WebhookService {
  /** Registers an endpoint; returns it and its secret (shown only now). `bad_request` on a bad URL or event. */
  add(input: {
    url: string;
    events: readonly string[];
  }): Promise<{ endpoint: WebhookEndpointRecord; secret: string }>;
  list(): Promise<WebhookEndpointRecord[]>;
  /** Removes an endpoint and its queued and logged deliveries; false when there is none. */
  remove(id: string): Promise<boolean>;
  /** An endpoint's deliveries, newest first. */
  deliveries(endpointId: string, limit?: number): Promise<WebhookDeliveryRecord[]>;
  /** The endpoint's secret in clear (`whsec_...`), for signing. */
  secretOf(endpoint: WebhookEndpointRecord): string;
  /** Queues one delivery per endpoint that wants this record's event. */
  enqueue(record: AuditRecord): Promise<void>;
}

export interface WebhookServiceOptions {
  store: WebhookStore;
  clock: Clock;
  logger: Logger;
  /** 32 bytes: `deriveKey(master, 'webhook-secrets')`. */
  key: Uint8Array;
  /** Called after deliveries were queued (the worker's `kick`). */
  onQueued?: (() => void) | undefined;
}

function checkURL(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new LatchkeyError('bad_request', 'The webhook URL is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new LatchkeyError('bad_request', 'A webhook URL must be http: or https:');
  if (url.username !== '' || url.password !== '')
    throw new LatchkeyError('bad_request', 'A webhook URL must not carry credentials');
  if (url.href.length > MAX_URL_LENGTH) throw new LatchkeyError('bad_request', 'The webhook URL is too long');
  return url.href;
}

function checkEvents(events: readonly string[]): string[] {
  const unique = [...new Set(events.map((event) => event.trim()).filter((event) => event !== ''))];
  if (unique.length === 0) throw new LatchkeyError('bad_request', 'Name at least one event (or *)');
  const unknown = unique.filter((event) => event !== '*' && !AUDITED_EVENTS.has(event));
  if (unknown.length > 0)
    throw new LatchkeyError('bad_request', `Unknown events: ${unknown.join(', ').slice(0, 200)}`);
  return unique;
}

/** The JSON body of a record's deliveries (Standard Webhooks' `type`, `timestamp`, `data`). */
export function webhookPayload(record: AuditRecord): string {
  return JSON.stringify({
    type: record.event,
    timestamp: new Date(record.at).toISOString(),
    data: {
      id: record.id,
      event: record.event,
      user_id: record.userId,
      client_id: record.clientId,
      session_id: record.sessionId,
      ip: record.ip,
      user_agent: record.userAgent,
      details: record.details,
    },
  });
}

/**
 * @example
 * const webhooks = createWebhookService({ store, clock, logger, key: deriveKey(master, 'webhook-secrets') });
 * const { endpoint, secret } = await webhooks.add({ url: 'https://hooks.example.com/', events: ['login.failure'] });
 */
export function createWebhookService(options: WebhookServiceOptions): WebhookService {
  const { store, clock, logger, key } = options;
  let cached: { at: number; endpoints: Promise<WebhookEndpointRecord[]> } | undefined;

  function endpoints(): Promise<WebhookEndpointRecord[]> {
    const now = clock();
    if (cached === undefined || now - cached.at >= ENDPOINT_CACHE_MS || now < cached.at) {
      const read = store.listWebhookEndpoints();
      cached = { at: now, endpoints: read };
      read.catch(() => {
        if (cached?.endpoints === read) cached = undefined;
      });
    }
    return cached.endpoints;
  }

  return {
    async add(input) {
      const url = checkURL(input.url);
      const events = checkEvents(input.events);
      const id = `ep_${randomBytes(12).toString('base64url')}`;
      const secret = newWebhookSecret();
      const sealed = seal(Buffer.from(secret, 'utf8'), { label: `webhook:${id}`, key });
      const endpoint: WebhookEndpointRecord = { id, url, events, secret: sealed, createdAt: clock() };
      await store.createWebhookEndpoint(endpoint);
      cached = undefined;
      return { endpoint, secret };
    },

    list: () => store.listWebhookEndpoints(),

    async remove(id) {
      const removed = await store.deleteWebhookEndpoint(id);
      cached = undefined;
      return removed;
    },

    deliveries: (endpointId, limit = 50) => store.listWebhookDeliveries({ endpointId, limit }),

    secretOf: (endpoint) =>
      openSealed(endpoint.secret, { label: `webhook:${endpoint.id}`, key }).toString('utf8'),

    async enqueue(record) {
      try {
        const wanting = (await endpoints()).filter(
          (endpoint) => endpoint.events.includes('*') || endpoint.events.includes(record.event),
        );
        if (wanting.length === 0) return;
        const payload = webhookPayload(record);
        const now = clock();
        await store.queueWebhookDeliveries(
          wanting.map((endpoint) => ({
            id: `msg_${randomBytes(12).toString('base64url')}`,
            endpointId: endpoint.id,
            event: record.event,
            payload,
            status: 'queued',
            attempts: 0,
            createdAt: now,
            nextAttemptAt: now,
            claimedBy: null,
            settledAt: null,
            responseStatus: null,
            lastError: null,
            expiresAt: now + DELIVERY_RETENTION_MS,
          })),
        );
        options.onQueued?.();
      } catch (error) {
        logger.warn(
          { err: error, event: 'webhook.queue_failed', auditEvent: record.event },
          'webhook not queued',
        );
      }
    },
  };
}
