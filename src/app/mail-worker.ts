/**
 * The mail worker: sends what the outbox queued, from any number of nodes at once. Each round
 * claims due mails with a lease (the store's `claimMails`: no two nodes hold the same mail), hands
 * each to the transport and settles it: sent; queued again with a growing delay when the server
 * is down or answers 4xx; failed for good after a permanent refusal (5xx), after `maxAttempts`,
 * or once the mail is older than `giveUpAfterMs`. A node that dies mid-send loses its lease and
 * another node sends the mail (the one case where a mail may arrive twice).
 */

import { createPollingLoop } from './polling-loop.js';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Outbox } from '../outbox/outbox.js';
import { MailDeliveryError, type MailTransport } from '../outbox/transport.js';
import type { MailOutcome, MailRecord } from '../records.js';
import type { MailStore } from '../store.js';

export interface MailWorkerOptions {
  store: MailStore;
  outbox: Pick<Outbox, 'open'>;
  transport: MailTransport;
  clock: Clock;
  logger: Logger;
  /** Time between rounds when idle. Default 5 s. */
  pollIntervalMs?: number;
  /** How long a claim holds a mail; longer than any send may take. Default 2 min. */
  leaseMs?: number;
  /** Mails per round. Default 20. */
  batchSize?: number;
  /** Delivery attempts before a mail fails for good. Default 12. */
  maxAttempts?: number;
  /** Age after which a mail that still could not be sent fails for good. Default 24 h. */
  giveUpAfterMs?: number;
  /** First retry delay, doubled per attempt up to `maxRetryDelayMs`. Default 5 s. */
  retryDelayMs?: number;
  /** Default 1 h. */
  maxRetryDelayMs?: number;
}

export interface MailWorker {
  /** Claims and sends due mails once; resolves with how many were settled as sent. */
  runOnce(): Promise<number>;
  /** Starts the rounds. */
  start(): void;
  /** Asks for a round soon (a mail was just queued). */
  kick(): void;
  /** Stops the rounds and waits for the current one. */
  stop(): Promise<void>;
}

/**
 * @example
 * const worker = createMailWorker({ store, outbox, transport, clock, logger });
 * worker.start();
 */
export function createMailWorker(options: MailWorkerOptions): MailWorker {
  const { store, outbox, transport, clock, logger } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  const leaseMs = options.leaseMs ?? 120_000;
  const batchSize = options.batchSize ?? 20;
  const maxAttempts = options.maxAttempts ?? 12;
  const giveUpAfterMs = options.giveUpAfterMs ?? 24 * 3_600_000;
  const retryDelayMs = options.retryDelayMs ?? 5_000;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 3_600_000;

  function outcomeOf(mail: MailRecord, error: unknown, now: number): MailOutcome {
    const reason = error instanceof MailDeliveryError ? error.message : 'delivery failed';
    const permanent = error instanceof MailDeliveryError && error.permanent;
    if (permanent || mail.attempts >= maxAttempts || now - mail.createdAt >= giveUpAfterMs) {
      return { status: 'failed', at: now, error: reason };
    }
    const delay = Math.min(maxRetryDelayMs, retryDelayMs * 2 ** Math.max(0, mail.attempts - 1));
    // Up to a fifth more, so that nodes recovering together do not retry in step.
    const jitter = Math.floor(Math.random() * delay * 0.2);
    return { status: 'queued', retryAt: now + delay + jitter, error: reason };
  }

  async function deliver(mail: MailRecord, claimant: string): Promise<boolean> {
    let outcome: MailOutcome;
    try {
      const rendered = outbox.open(mail);
      await transport.send({ id: mail.id, kind: mail.kind, to: mail.to, ...rendered });
      outcome = { status: 'sent', at: clock() };
    } catch (error) {
      outcome = outcomeOf(mail, error, clock());
    }
    const settled = await store.settleMail(mail.id, claimant, outcome);
    const fields = { mailId: mail.id, kind: mail.kind, attempts: mail.attempts, transport: transport.name };
    if (outcome.status === 'sent') logger.info({ event: 'mail.sent', ...fields }, 'mail sent');
    else if (outcome.status === 'failed') {
      logger.warn({ event: 'mail.failed', ...fields, reason: outcome.error }, 'mail failed for good');
    } else {
      logger.warn(
        { event: 'mail.retry', ...fields, reason: outcome.error, retryAt: outcome.retryAt },
        'mail not sent; will retry',
      );
    }
    return settled && outcome.status === 'sent';
  }

  async function round(): Promise<number> {
    const claimant = randomBytes(16).toString('base64url');
    const mails = await store.claimMails({ now: clock(), leaseMs, limit: batchSize, claimant });
    let sent = 0;
    for (const mail of mails) if (await deliver(mail, claimant)) sent += 1;
    return sent;
  }

  return createPollingLoop({
    round,
    pollIntervalMs,
    onError: (error) => {
      logger.warn({ err: error, event: 'mail.worker_failed' }, 'mail round failed; will retry');
    },
  });
}
