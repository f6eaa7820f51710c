/**
 * The mail outbox in the memory store. A mail and the token its link carries are written in one
 * synchronous step (`queueMail`), which is what makes them all or nothing here.
 */

import { LatchkeyError } from '../../errors.js';
import type { MailRecord } from '../../records.js';
import type { MailStore } from '../../store.js';
import type { OneTimeTokenWrites } from './one-time-tokens.js';
import type { RunOperation } from './runner.js';

function newestFirst(a: MailRecord, b: MailRecord): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * Creates the mail operations of one memory store, over state of their own; `tokens` are the
 * synchronous writes of the same store's one-time tokens.
 *
 * @example
 * const mails = createMemoryMails(run, tokens.writes);
 * await mails.queueMail(mail, { token, supersede: true });
 */
export function createMemoryMails(run: RunOperation, tokens: OneTimeTokenWrites): MailStore {
  const mails = new Map<string, MailRecord>();

  return {
    queueMail(mail, options = {}) {
      return run(() => {
        if (mails.has(mail.id))
          throw new LatchkeyError('internal_error', 'A mail with this id already exists');
        const { token } = options;
        if (token !== undefined) {
          if (options.supersede === true) tokens.deleteOf(token.subject, token.purpose);
          tokens.put(token);
        }
        mails.set(mail.id, { ...mail });
      });
    },

    claimMails({ now, leaseMs, limit, claimant }) {
      return run(() => {
        const due = [...mails.values()]
          .filter((mail) => mail.status === 'queued' && mail.nextAttemptAt <= now)
          .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt)
          .slice(0, Math.max(0, limit));
        for (const mail of due) {
          mail.claimedBy = claimant;
          mail.nextAttemptAt = now + leaseMs;
          mail.attempts += 1;
        }
        return due.map((mail) => ({ ...mail }));
      });
    },

    settleMail(id, claimant, outcome) {
      return run(() => {
        const mail = mails.get(id);
        if (mail?.status !== 'queued' || mail.claimedBy !== claimant) return false;
        mail.claimedBy = null;
        if (outcome.status === 'queued') {
          mail.nextAttemptAt = outcome.retryAt;
          mail.lastError = outcome.error;
        } else {
          mail.status = outcome.status;
          mail.settledAt = outcome.at;
          if (outcome.status === 'failed') mail.lastError = outcome.error;
        }
        return true;
      });
    },

    getMail(id) {
      return run(() => {
        const mail = mails.get(id);
        return mail === undefined ? null : { ...mail };
      });
    },

    listMails({ limit, status }) {
      return run(() =>
        [...mails.values()]
          .filter((mail) => status === undefined || mail.status === status)
          .sort(newestFirst)
          .slice(0, Math.max(0, limit))
          .map((mail) => ({ ...mail })),
      );
    },

    deleteExpiredMails(now) {
      return run(() => {
        let removed = 0;
        for (const mail of mails.values()) {
          if (mail.status === 'queued' || mail.expiresAt > now) continue;
          mails.delete(mail.id);
          removed += 1;
        }
        return removed;
      });
    },
  };
}
