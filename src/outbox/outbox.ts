/**
 * The outbox as the flows see it: render a kind of mail, seal it, and queue it in the store in
 * the same step as the one-time token its link carries. Sending is the mail worker's
 * (`src/app/mail-worker.ts`), so a request never waits for, or fails with, the mail server.
 */

import type { Clock } from '../clock.js';
import { randomId } from '../lib/secrets.js';
import type { Logger } from '../log.js';
import type { MailRecord, OneTimeTokenRecord } from '../records.js';
import type { MailStore } from '../store.js';
import { openMail, sealMail } from './seal.js';
import { renderMail, type MailKind, type MailValues, type RenderedMail } from './templates.js';

/** How long a settled mail stays visible to `latchkey mail list` before the sweep drops it. */
export const MAIL_RETENTION_MS = 7 * 24 * 3_600_000;

export interface QueueMailInput<K extends MailKind> {
  kind: K;
  to: string;
  values: MailValues[K];
  /** The token the link carries, stored in the same step. */
  token?: OneTimeTokenRecord | undefined;
  /** Remove the older tokens of the same subject and purpose (a newer link replaces them). */
  supersede?: boolean | undefined;
}

export interface Outbox {
  /** Queues a mail (and its token); resolves with its id once both are stored. */
  queue<K extends MailKind>(input: QueueMailInput<K>): Promise<string>;
  /** The rendered message of a queued or settled mail (for the worker and `latchkey mail show`). */
  open(mail: Pick<MailRecord, 'id' | 'message'>): RenderedMail;
}

export interface OutboxOptions {
  store: MailStore;
  clock: Clock;
  logger: Logger;
  /** Seals the messages in the store (derived from the master secret). */
  key: Uint8Array;
  productName: string;
  /** Called after a mail is queued, so that the worker sends it without waiting for its next round. */
  onQueued?: (() => void) | undefined;
}

/**
 * @example
 * const outbox = createOutbox({ store, clock, logger, key: deriveKey(master, 'mail'), productName: 'Acme' });
 * await outbox.queue({ kind: 'password_reset', to, values: { link, expiresIn: '30 minutes' }, token, supersede: true });
 */
export function createOutbox(options: OutboxOptions): Outbox {
  const { store, clock, logger, key, productName } = options;
  return {
    async queue(input) {
      const now = clock();
      const id = randomId();
      const rendered = renderMail(input.kind, input.values, { productName });
      const mail: MailRecord = {
        id,
        kind: input.kind,
        to: input.to,
        message: sealMail(rendered, { id, key }),
        status: 'queued',
        attempts: 0,
        createdAt: now,
        nextAttemptAt: now,
        claimedBy: null,
        settledAt: null,
        lastError: null,
        expiresAt: now + MAIL_RETENTION_MS,
      };
      await store.queueMail(mail, { token: input.token, supersede: input.supersede });
      // The kind and id only: the address is personal data and the message holds the link.
      logger.info({ event: 'mail.queued', mailId: id, kind: input.kind }, 'mail queued');
      options.onQueued?.();
      return id;
    },
    open: (mail) => openMail(mail.message, { id: mail.id, key }),
  };
}
