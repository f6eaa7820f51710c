/**
 * Webhooks end to end: a real HTTP receiver (node:http) gets the deliveries of security events
 * and verifies them with an independent implementation of Standard Webhooks (the
 * `standardwebhooks` package); a wrong secret or a tampered body fails verification; a receiver
 * that answers 500, then is down, gets the delivery once it recovers; a delivery queued before a
 * restart is sent by the next process (the queue is in the store); a URL that is not http(s) is
 * refused; the delivery log tells each attempt.
 */

import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { openSQLiteStore } from '../../src/stores/sqlite/index.js';
import { newWebhookSecret } from '../../src/webhooks/signature.js';
import { createTestApp, loginCookie, signup, type TestApp } from '../helpers/app.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver: answers `status` (or is closed), keeps what it got. */
class Receiver {
  received: Received[] = [];
  status = 204;
  port = 0;
  private server: Server | undefined;

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        response.writeHead(this.status).end();
      });
    });
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/latchkey`;
  }
}

const TIMING = { retryDelayMs: 1_000, maxRetryDelayMs: 2_000 };

function verify(secret: string, received: Received | undefined): Record<string, unknown> {
  if (received === undefined) throw new Error('nothing received');
  const headers = Object.fromEntries(
    ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => [
      name,
      String(received.headers[name]),
    ]),
  );
  return new Webhook(secret).verify(received.body, headers) as Record<string, unknown>;
}

let receiver: Receiver;
let t: TestApp;
beforeEach(async () => {
  receiver = new Receiver();
  await receiver.start();
});
afterEach(async () => {
  await t.close();
  await receiver.stop();
});

describe('webhooks', () => {
  it('delivers a signed event that standardwebhooks verifies; a wrong secret or a changed body does not', async () => {
    // The clock is now: the verifier refuses a timestamp more than 5 minutes off.
    t = await createTestApp({ clock: createManualClock(Date.now()), webhookWorker: TIMING });
    const { endpoint, secret } = await t.latchkey.webhooks.add({
      url: receiver.url,
      events: ['login.success', 'login.failure'],
    });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(endpoint.secret).not.toContain(secret.slice(6));
    await signup(t.app, 'alice@example.com');
    const login = await loginCookie(t.app, 'alice@example.com');
    await t.latchkey.audit.flush();
    expect(await t.latchkey.webhookWorker.runOnce()).toBe(1);

    expect(receiver.received).toHaveLength(1);
    const received = receiver.received[0];
    const payload = verify(secret, received);
    expect(payload).toMatchObject({
      type: 'login.success',
      data: {
        event: 'login.success',
        session_id: login.sessionId,
        ip: '127.0.0.1',
        details: { mode: 'cookie' },
      },
    });
    expect(received?.headers['content-type']).toBe('application/json');
    expect(received?.headers['webhook-id']).toMatch(/^msg_/);

    // Attacks: another secret, a changed body, a replayed id with a changed signature.
    expect(() => verify(newWebhookSecret(), received)).toThrow();
    expect(() =>
      verify(secret, { ...received, body: (received?.body ?? '').replace('cookie', 'token') } as Received),
    ).toThrow();
    const forged = { ...received?.headers, 'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')}` };
    expect(() => verify(secret, { headers: forged, body: received?.body ?? '' })).toThrow();

    const [delivery] = await t.latchkey.webhooks.deliveries(endpoint.id);
    expect(delivery).toMatchObject({
      status: 'delivered',
      attempts: 1,
      responseStatus: 204,
      event: 'login.success',
    });
  });

  it('retries through a receiver outage (500, then down) and delivers once it recovers', async () => {
    t = await createTestApp({ clock: createManualClock(Date.now()), webhookWorker: TIMING });
    const { endpoint, secret } = await t.latchkey.webhooks.add({ url: receiver.url, events: ['*'] });
    receiver.status = 500;
    await signup(t.app, 'bob@example.com');
    await t.latchkey.audit.flush();
    expect(await t.latchkey.webhookWorker.runOnce()).toBe(0);
    expect((await t.latchkey.webhooks.deliveries(endpoint.id))[0]).toMatchObject({
      status: 'queued',
      attempts: 1,
      responseStatus: 500,
      lastError: 'HTTP 500',
    });
    // Not due yet: nothing is sent before the backoff ends.
    expect(await t.latchkey.webhookWorker.runOnce()).toBe(0);
    expect(receiver.received).toHaveLength(1);

    await receiver.stop();
    t.clock.advance(3_000);
    expect(await t.latchkey.webhookWorker.runOnce()).toBe(0);
    expect((await t.latchkey.webhooks.deliveries(endpoint.id))[0]).toMatchObject({
      status: 'queued',
      attempts: 2,
      lastError: 'connection failed',
    });

    receiver.status = 200;
    await receiver.start();
    t.clock.advance(3_000);
    expect(await t.latchkey.webhookWorker.runOnce()).toBe(1);
    expect(receiver.received).toHaveLength(2);
    const [failed, delivered] = receiver.received;
    // The same message id on every attempt, so that the receiver can drop duplicates.
    expect(delivered?.headers['webhook-id']).toBe(failed?.headers['webhook-id']);
    expect(verify(secret, delivered)).toMatchObject({ type: 'user.signup' });
    expect((await t.latchkey.webhooks.deliveries(endpoint.id))[0]).toMatchObject({
      status: 'delivered',
      attempts: 3,
      responseStatus: 200,
    });
  });

  it('delivers after a restart what was queued before it (the queue is in the store)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'latchkey-webhooks-'));
    const path = join(dir, 'latchkey.sqlite');
    try {
      const clock = createManualClock(Date.now());
      const first = await createTestApp({
        clock,
        store: await openSQLiteStore({ path }),
        webhookWorker: TIMING,
      });
      const { endpoint, secret } = await first.latchkey.webhooks.add({
        url: receiver.url,
        events: ['user.signup'],
      });
      await receiver.stop();
      await signup(first.app, 'carol@example.com');
      await first.latchkey.audit.flush();
      expect(await first.latchkey.webhookWorker.runOnce()).toBe(0);
      await first.close();

      await receiver.start();
      clock.advance(3_000);
      t = await createTestApp({ clock, store: await openSQLiteStore({ path }), webhookWorker: TIMING });
      expect(await t.latchkey.webhookWorker.runOnce()).toBe(1);
      expect(receiver.received).toHaveLength(1);
      expect(verify(secret, receiver.received[0])).toMatchObject({ type: 'user.signup' });
      expect((await t.latchkey.webhooks.deliveries(endpoint.id))[0]).toMatchObject({
        status: 'delivered',
        attempts: 2,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses an endpoint that is not http(s), carries credentials or names an unknown event', async () => {
    t = await createTestApp();
    for (const url of [
      'file:///etc/passwd',
      'gopher://127.0.0.1:6379/',
      'javascript:alert(1)',
      'not a url',
      'https://user:pw@hooks.example.com/',
    ]) {
      await expect(t.latchkey.webhooks.add({ url, events: ['*'] }), url).rejects.toMatchObject({
        code: 'bad_request',
      });
    }
    await expect(
      t.latchkey.webhooks.add({ url: receiver.url, events: ['no.such_event'] }),
    ).rejects.toMatchObject({
      code: 'bad_request',
    });
    await expect(t.latchkey.webhooks.add({ url: receiver.url, events: [] })).rejects.toMatchObject({
      code: 'bad_request',
    });
    expect(await t.latchkey.webhooks.list()).toEqual([]);
    // A removed endpoint takes its queued deliveries with it.
    const { endpoint } = await t.latchkey.webhooks.add({ url: receiver.url, events: ['user.signup'] });
    await signup(t.app, 'dave@example.com');
    await t.latchkey.audit.flush();
    expect(await t.latchkey.webhooks.remove(endpoint.id)).toBe(true);
    expect(await t.latchkey.webhookWorker.runOnce()).toBe(0);
    expect(receiver.received).toEqual([]);
  });
});
