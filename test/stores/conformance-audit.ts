/**
 * The audit trail and the webhooks' queue in the store conformance suite (`./conformance.ts`
 * registers them for every store): newest-first pages with a cursor, per user and for everyone,
 * the sweep by expiry; webhook endpoints, deliveries claimed once under concurrency, settled,
 * listed per endpoint, removed with their endpoint, swept.
 */

import { describe, expect, it } from 'vitest';
import type { AuditRecord, WebhookDeliveryRecord, WebhookEndpointRecord } from '../../src/records.js';
import type { Store } from '../../src/store.js';

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

function record(overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    id: 'a1',
    at: T0,
    event: 'login.success',
    userId: 'user-1',
    clientId: null,
    sessionId: 'session-1',
    ip: '203.0.113.7',
    userAgent: 'Mozilla/5.0 (conformance) é',
    details: { mode: 'cookie', count: 2, keepCurrent: false },
    expiresAt: T0 + 90 * DAY,
    ...overrides,
  };
}

function endpoint(overrides: Partial<WebhookEndpointRecord> = {}): WebhookEndpointRecord {
  return {
    id: 'ep_1',
    url: 'https://hooks.example.com/latchkey',
    events: ['login.success', 'password.change'],
    secret: 'v1.sealed.secret',
    createdAt: T0,
    ...overrides,
  };
}

function delivery(overrides: Partial<WebhookDeliveryRecord> = {}): WebhookDeliveryRecord {
  return {
    id: 'msg_1',
    endpointId: 'ep_1',
    event: 'login.success',
    payload: '{"type":"login.success"}',
    status: 'queued',
    attempts: 0,
    createdAt: T0,
    nextAttemptAt: T0,
    claimedBy: null,
    settledAt: null,
    responseStatus: null,
    lastError: null,
    expiresAt: T0 + 7 * DAY,
    ...overrides,
  };
}

/** Registers the audit and webhook tests; `store()` is the suite's store, emptied before each test. */
export function describeAuditConformance(store: () => Store): void {
  describe('audit trail', () => {
    it('stores a record whole and refuses a duplicate id', async () => {
      await store().addAuditRecord(record());
      await store().addAuditRecord(
        record({
          id: 'a2',
          userId: null,
          clientId: 'client-1',
          sessionId: null,
          ip: null,
          userAgent: null,
          details: {},
        }),
      );
      expect(await store().listAuditRecords({ limit: 10, userId: 'user-1' })).toEqual([record()]);
      expect((await store().listAuditRecords({ limit: 10 })).map((r) => r.id)).toEqual(['a2', 'a1']);
      expect((await store().listAuditRecords({ limit: 10 }))[0]).toEqual(
        record({
          id: 'a2',
          userId: null,
          clientId: 'client-1',
          sessionId: null,
          ip: null,
          userAgent: null,
          details: {},
        }),
      );
      await expect(store().addAuditRecord(record())).rejects.toMatchObject({ code: 'internal_error' });
    });

    it('pages a user newest first with a cursor, ties broken by id, and never shows another user', async () => {
      const mine = [
        record({ id: 'm1', at: T0 }),
        record({ id: 'm2', at: T0 + 1 }),
        record({ id: 'm3b', at: T0 + 1 }),
        record({ id: 'm3a', at: T0 + 1 }),
        record({ id: 'm4', at: T0 + 2 }),
      ];
      for (const r of mine) await store().addAuditRecord(r);
      await store().addAuditRecord(record({ id: 'other', at: T0 + 1, userId: 'user-2' }));
      const first = await store().listAuditRecords({ limit: 2, userId: 'user-1' });
      expect(first.map((r) => r.id)).toEqual(['m4', 'm3b']);
      const last = first[first.length - 1];
      const second = await store().listAuditRecords({
        limit: 10,
        userId: 'user-1',
        before: { at: last?.at ?? 0, id: last?.id ?? '' },
      });
      expect(second.map((r) => r.id)).toEqual(['m3a', 'm2', 'm1']);
      expect((await store().listAuditRecords({ limit: 10, userId: 'user-2' })).map((r) => r.id)).toEqual([
        'other',
      ]);
      expect((await store().listAuditRecords({ limit: 3 })).map((r) => r.id)).toEqual(['m4', 'other', 'm3b']);
      expect(await store().listAuditRecords({ limit: 10, userId: 'nobody' })).toEqual([]);
      expect(await store().listAuditRecords({ limit: 0 })).toEqual([]);
    });

    it('sweeps the records expired at now, and only those', async () => {
      await store().addAuditRecord(record({ id: 'old', expiresAt: T0 + DAY }));
      await store().addAuditRecord(record({ id: 'edge', at: T0 + 1, expiresAt: T0 + 2 * DAY, userId: null }));
      await store().addAuditRecord(record({ id: 'young', at: T0 + 2, expiresAt: T0 + 3 * DAY }));
      expect(await store().deleteExpiredAuditRecords(T0 + 2 * DAY)).toBe(2);
      expect((await store().listAuditRecords({ limit: 10 })).map((r) => r.id)).toEqual(['young']);
      expect((await store().listAuditRecords({ limit: 10, userId: 'user-1' })).map((r) => r.id)).toEqual([
        'young',
      ]);
      expect(await store().deleteExpiredAuditRecords(T0 + 2 * DAY)).toBe(0);
    });
  });

  describe('webhooks', () => {
    it('creates, reads, lists (oldest first) and removes endpoints', async () => {
      await store().createWebhookEndpoint(endpoint({ id: 'ep_b', createdAt: T0 + 1, events: ['*'] }));
      await store().createWebhookEndpoint(endpoint());
      expect(await store().getWebhookEndpoint('ep_1')).toEqual(endpoint());
      expect(await store().getWebhookEndpoint('missing')).toBeNull();
      expect((await store().listWebhookEndpoints()).map((e) => e.id)).toEqual(['ep_1', 'ep_b']);
      await expect(store().createWebhookEndpoint(endpoint())).rejects.toMatchObject({
        code: 'internal_error',
      });
      expect(await store().deleteWebhookEndpoint('ep_b')).toBe(true);
      expect(await store().deleteWebhookEndpoint('ep_b')).toBe(false);
      expect(await store().listWebhookEndpoints()).toEqual([endpoint()]);
    });

    it('queues deliveries and lists one endpoint’s newest first', async () => {
      await store().queueWebhookDeliveries([delivery(), delivery({ id: 'msg_2', createdAt: T0 + 1 })]);
      await store().queueWebhookDeliveries([delivery({ id: 'msg_x', endpointId: 'ep_2' })]);
      expect(await store().getWebhookDelivery('msg_1')).toEqual(delivery());
      expect(
        (await store().listWebhookDeliveries({ endpointId: 'ep_1', limit: 10 })).map((d) => d.id),
      ).toEqual(['msg_2', 'msg_1']);
      expect(
        (await store().listWebhookDeliveries({ endpointId: 'ep_1', limit: 1 })).map((d) => d.id),
      ).toEqual(['msg_2']);
      await expect(store().queueWebhookDeliveries([delivery()])).rejects.toMatchObject({
        code: 'internal_error',
      });
    });

    it('claims a due delivery once among concurrent claimants, then settles it only for the holder', async () => {
      await store().queueWebhookDeliveries([
        delivery(),
        delivery({ id: 'later', nextAttemptAt: T0 + MINUTE }),
      ]);
      const claims = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          store().claimWebhookDeliveries({ now: T0, leaseMs: MINUTE, limit: 10, claimant: `node-${i}` }),
        ),
      );
      const won = claims.flat();
      expect(won.map((d) => d.id)).toEqual(['msg_1']);
      expect(won[0]).toMatchObject({ attempts: 1, nextAttemptAt: T0 + MINUTE, status: 'queued' });
      const holder = won[0]?.claimedBy ?? '';
      const retry = {
        status: 'queued' as const,
        retryAt: T0 + 2 * MINUTE,
        error: 'HTTP 500',
        responseStatus: 500,
      };
      expect(await store().settleWebhookDelivery('msg_1', 'thief', retry)).toBe(false);
      expect(await store().settleWebhookDelivery('msg_1', holder, retry)).toBe(true);
      expect(await store().getWebhookDelivery('msg_1')).toMatchObject({
        status: 'queued',
        claimedBy: null,
        nextAttemptAt: T0 + 2 * MINUTE,
        responseStatus: 500,
        lastError: 'HTTP 500',
      });
      const [again] = await store().claimWebhookDeliveries({
        now: T0 + 2 * MINUTE,
        leaseMs: MINUTE,
        limit: 1,
        claimant: 'n',
      });
      expect(again).toMatchObject({ id: 'later', attempts: 1 });
      const [retried] = await store().claimWebhookDeliveries({
        now: T0 + 2 * MINUTE,
        leaseMs: MINUTE,
        limit: 5,
        claimant: 'n',
      });
      expect(retried).toMatchObject({ id: 'msg_1', attempts: 2 });
      const delivered = { status: 'delivered' as const, at: T0 + 3 * MINUTE, responseStatus: 204 };
      expect(await store().settleWebhookDelivery('msg_1', 'n', delivered)).toBe(true);
      expect(await store().settleWebhookDelivery('msg_1', 'n', delivered)).toBe(false);
      expect(await store().getWebhookDelivery('msg_1')).toMatchObject({
        status: 'delivered',
        settledAt: T0 + 3 * MINUTE,
        responseStatus: 204,
        claimedBy: null,
        attempts: 2,
      });
      const failed = {
        status: 'failed' as const,
        at: T0 + 3 * MINUTE,
        error: 'gave up',
        responseStatus: null,
      };
      expect(await store().settleWebhookDelivery('later', 'n', failed)).toBe(true);
      expect(await store().getWebhookDelivery('later')).toMatchObject({
        status: 'failed',
        lastError: 'gave up',
        responseStatus: null,
      });
      expect(
        await store().claimWebhookDeliveries({ now: T0 + DAY, leaseMs: MINUTE, limit: 5, claimant: 'n' }),
      ).toEqual([]);
    });

    it('sweeps settled deliveries past their expiry, never queued ones, and removes an endpoint’s deliveries with it', async () => {
      await store().createWebhookEndpoint(endpoint());
      await store().queueWebhookDeliveries([delivery(), delivery({ id: 'msg_2', expiresAt: T0 })]);
      const claimed = await store().claimWebhookDeliveries({
        now: T0,
        leaseMs: MINUTE,
        limit: 5,
        claimant: 'n',
      });
      expect(claimed).toHaveLength(2);
      await store().settleWebhookDelivery('msg_2', 'n', { status: 'delivered', at: T0, responseStatus: 200 });
      expect(await store().deleteExpiredWebhookDeliveries(T0 + 8 * DAY)).toBe(1);
      expect(await store().getWebhookDelivery('msg_2')).toBeNull();
      expect(await store().getWebhookDelivery('msg_1')).not.toBeNull();
      expect(await store().deleteWebhookEndpoint('ep_1')).toBe(true);
      expect(await store().getWebhookDelivery('msg_1')).toBeNull();
      expect(await store().listWebhookDeliveries({ endpointId: 'ep_1', limit: 10 })).toEqual([]);
      expect(
        await store().claimWebhookDeliveries({ now: T0 + DAY, leaseMs: MINUTE, limit: 5, claimant: 'm' }),
      ).toEqual([]);
    });
  });
}
