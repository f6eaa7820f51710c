/**
 * The mail worker and the outbox directory: a permanent refusal fails the mail for good (and it
 * is listed as failed), two nodes never send the same mail twice, and without SMTP each mail is
 * one `.eml` file in the data directory.
 */

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailWorker } from '../../src/app/mail-worker.js';
import { createOutboxDirectoryTransport } from '../../src/mail/outbox-directory.js';
import { createSMTPTransport } from '../../src/mail/smtp.js';
import type { MailTransport, OutgoingMail } from '../../src/outbox/transport.js';
import { SMTPServer } from 'smtp-server';
import { decodeQuotedPrintable } from '../helpers/smtp.js';
import { createAppOn, ISSUER, PASSWORD, type TestApp } from './mail-app.js';

let t: TestApp;
afterEach(() => t.close());

async function forgot(email: string): Promise<void> {
  const answer = await t.app.inject({
    method: 'POST',
    url: '/v1/password/forgot',
    payload: { email },
    headers: { origin: ISSUER },
  });
  expect(answer.statusCode).toBe(202);
}

async function signUp(email: string): Promise<void> {
  const answer = await t.app.inject({
    method: 'POST',
    url: '/v1/signup',
    payload: { email, password: PASSWORD },
    headers: { origin: ISSUER },
  });
  expect(answer.statusCode).toBe(201);
}

describe('the mail worker', () => {
  it('fails a mail for good when the server refuses the recipient (5xx), and lists it as failed', async () => {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo(_address, _session, callback) {
        callback(Object.assign(new Error('no such mailbox'), { responseCode: 550 }));
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const address = server.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      t = await createAppOn({
        transport: createSMTPTransport({
          url: `smtp://127.0.0.1:${port}`,
          from: 'x <no-reply@example.test>',
        }),
      });
      await signUp('ada@example.com');
      expect(await t.latchkey.mailWorker.runOnce()).toBe(0);
      const failed = await t.store.listMails({ limit: 10, status: 'failed' });
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ kind: 'verification', attempts: 1, lastError: 'SMTP EENVELOPE 550' });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('never hands one mail to two nodes', async () => {
    const sent: string[] = [];
    const counting: MailTransport = {
      name: 'counting',
      async send(mail: OutgoingMail) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        sent.push(mail.id);
      },
      close: () => Promise.resolve(),
    };
    t = await createAppOn({ transport: counting });
    for (let i = 0; i < 8; i += 1) await signUp(`user${i}@example.com`);
    const nodes = Array.from({ length: 4 }, () =>
      createMailWorker({
        store: t.store,
        outbox: t.latchkey.outbox,
        transport: counting,
        clock: t.clock,
        logger: t.latchkey.logger,
        batchSize: 3,
      }),
    );
    let total = 0;
    for (let round = 0; round < 4; round += 1) {
      total += (await Promise.all(nodes.map((node) => node.runOnce()))).reduce((a, b) => a + b, 0);
    }
    expect(total).toBe(8);
    expect(new Set(sent).size).toBe(8);
    expect(sent).toHaveLength(8);
  });

  it('gives up on a mail older than a day while the server stays down', async () => {
    const down: MailTransport = {
      name: 'down',
      send: () => Promise.reject(new Error('ECONNREFUSED')),
      close: () => Promise.resolve(),
    };
    t = await createAppOn({ transport: down });
    await signUp('ada@example.com');
    await t.latchkey.mailWorker.runOnce();
    expect(await t.store.listMails({ limit: 10, status: 'queued' })).toHaveLength(1);
    t.clock.advance(24 * 3_600_000);
    await t.latchkey.mailWorker.runOnce();
    expect(await t.store.listMails({ limit: 10, status: 'failed' })).toHaveLength(1);
  });
});

describe('the outbox directory (no SMTP configured)', () => {
  it('writes one .eml file per mail, holding the link on the configured issuer', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'latchkey-outbox-'));
    try {
      const outbox = join(dir, 'outbox');
      t = await createAppOn({
        transport: createOutboxDirectoryTransport({
          directory: outbox,
          from: 'Latchkey <no-reply@example.test>',
        }),
      });
      await signUp('ada@example.com');
      await forgot('ada@example.com');
      expect(await t.latchkey.mailWorker.runOnce()).toBe(2);
      const files = (await readdir(outbox)).sort();
      expect(files).toHaveLength(2);
      const mails = await t.store.listMails({ limit: 10 });
      expect(files).toEqual(mails.map((mail) => `${mail.id}.eml`).sort());
      const texts = await Promise.all(
        files.map(async (file) => decodeQuotedPrintable(await readFile(join(outbox, file), 'utf8'))),
      );
      const reset = texts.find((text) => /Subject: Reset your Latchkey password/.test(text)) ?? '';
      expect(reset).toMatch(/^To: ada@example\.com/m);
      expect(reset).toContain(`${ISSUER}/reset?token=`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
