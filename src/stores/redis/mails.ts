/**
 * The mail outbox in Redis, in one slot (`{mail}`): a hash per mail and three sorted sets (due
 * mails, every mail by creation, settled mails by expiry). Layout and scripts:
 * `./mail-scripts.ts`.
 *
 * `queueMail` with a token writes the token first (after removing the ones it supersedes) and
 * the mail after it: the token's slot is not the outbox's, so the two cannot share one script
 * on a Cluster. A failure between the steps rejects the call and leaves a token that no mail
 * carries and nobody holds, which expires unused. The composite store (Postgres + Redis) keeps
 * both on the SQL side, in one transaction.
 */

import type { MailRecord, MailStatus } from '../../records.js';
import type { MailStore } from '../../store.js';
import { malformed, numberOrNull, oneOf, parseTuple, requiredNumber } from './codec.js';
import { duplicate, mapInChunks, sweepDue, type RedisContext } from './context.js';
import { claimMail, queueMail, settleMail, sweepMail } from './mail-scripts.js';
import { deleteOneTimeTokens, putOneTimeToken } from './one-time-tokens.js';

const WHAT = 'mail';
const STATUSES: readonly MailStatus[] = ['queued', 'sent', 'failed'];

function decodeMail(id: string, hash: Record<string, string>): MailRecord | null {
  if (hash.r === undefined) return null;
  const [kind, to, message, createdAt] = parseTuple(hash.r, 4, WHAT);
  if (
    typeof kind !== 'string' ||
    typeof to !== 'string' ||
    typeof message !== 'string' ||
    typeof createdAt !== 'number'
  ) {
    throw malformed(WHAT);
  }
  return {
    id,
    kind,
    to,
    message,
    createdAt,
    status: oneOf(hash.s ?? '', STATUSES, WHAT),
    attempts: requiredNumber(hash.a, WHAT),
    nextAttemptAt: requiredNumber(hash.n, WHAT),
    claimedBy: hash.c === undefined || hash.c === '' ? null : hash.c,
    settledAt: hash.t === '' ? null : numberOrNull(hash.t, WHAT),
    lastError: hash.e === undefined || hash.e === '' ? null : hash.e,
    expiresAt: requiredNumber(hash.x, WHAT),
  };
}

async function getMail(context: RedisContext, id: string): Promise<MailRecord | null> {
  return decodeMail(id, await context.client.hgetall(context.keys.mail(id)));
}

/**
 * The mail operations of one Redis store.
 *
 * @example
 * const mails = createRedisMails(context);
 * await mails.queueMail(mail, { token, supersede: true });
 */
export function createRedisMails(context: RedisContext): MailStore {
  const { run, keys, client } = context;
  return {
    queueMail: (mail, options = {}) =>
      run(async () => {
        const { token } = options;
        if (token !== undefined) {
          if (options.supersede === true) await deleteOneTimeTokens(context, token.subject, token.purpose);
          await putOneTimeToken(context, token);
        }
        const stored = await context.runScript(
          queueMail,
          [keys.mail(mail.id), keys.mailsDue, keys.mailsByCreation],
          [
            mail.id,
            JSON.stringify([mail.kind, mail.to, mail.message, mail.createdAt]),
            mail.expiresAt,
            mail.status,
            mail.attempts,
            mail.nextAttemptAt,
            mail.createdAt,
          ],
        );
        if (stored !== 1) throw duplicate(WHAT);
      }),

    claimMails: ({ now, leaseMs, limit, claimant }) =>
      run(async () => {
        if (limit <= 0) return [];
        const due = await client.zrangebyscore(keys.mailsDue, '-inf', now, 'LIMIT', 0, limit);
        const claimed = await mapInChunks(due, async (id) => {
          const won = await context.runScript(
            claimMail,
            [keys.mail(id), keys.mailsDue],
            [id, now, now + leaseMs, claimant],
          );
          return won === 1 ? getMail(context, id) : null;
        });
        return claimed.filter((mail): mail is MailRecord => mail?.claimedBy === claimant);
      }),

    settleMail: (id, claimant, outcome) =>
      run(async () => {
        const at = outcome.status === 'queued' ? outcome.retryAt : outcome.at;
        const error = outcome.status === 'sent' ? '' : outcome.error;
        const settled = await context.runScript(
          settleMail,
          [keys.mail(id), keys.mailsDue, keys.mailSweep],
          [id, claimant, outcome.status, at, error],
        );
        return settled === 1;
      }),

    getMail: (id) => run(() => getMail(context, id)),

    listMails: ({ limit, status }) =>
      run(async () => {
        const page: MailRecord[] = [];
        const batch = Math.max(limit, 100);
        for (let start = 0; page.length < limit; start += batch) {
          const ids = await client.zrevrange(keys.mailsByCreation, start, start + batch - 1);
          const mails = await mapInChunks(ids, (id) => getMail(context, id));
          for (const mail of mails) {
            if (mail !== null && (status === undefined || mail.status === status)) page.push(mail);
          }
          if (ids.length < batch) break;
        }
        return page.slice(0, Math.max(0, limit));
      }),

    deleteExpiredMails: (now) =>
      run(() =>
        sweepDue(context, keys.mailSweep, now, async (id) => {
          const swept = await context.runScript(
            sweepMail,
            [keys.mail(id), keys.mailSweep, keys.mailsByCreation],
            [id, now],
          );
          return swept === 1;
        }),
      ),
  };
}
