/**
 * The mail outbox in SQL (`latchkey_mails`). `queueMail` writes the mail and the one-time token
 * its link carries in one transaction. A claim is a compare-and-set per mail (`UPDATE ... WHERE
 * status = 'queued' AND next_attempt_at <= now`): the row lock makes a second claimer's update
 * match nothing once the first one moved `next_attempt_at` past `now`, on every engine, without
 * `SKIP LOCKED` or `UPDATE ... RETURNING`.
 */

import type { MailRecord, OneTimeTokenRecord } from '../../records.js';
import type { MailStore } from '../../store.js';
import type { SqlClient } from './client.js';
import type { SqlContext } from './context.js';
import { rowCountOf, run } from './context.js';
import type { MailRow } from './rows.js';
import { COLUMNS, toMail } from './rows.js';

function mailValues(mail: MailRecord): (string | number | null)[] {
  return [
    mail.id,
    mail.kind,
    mail.to,
    mail.message,
    mail.status,
    mail.attempts,
    mail.createdAt,
    mail.nextAttemptAt,
    mail.claimedBy,
    mail.settledAt,
    mail.lastError,
    mail.expiresAt,
  ];
}

function tokenValues(token: OneTimeTokenRecord): (string | number | null)[] {
  return [token.id, token.purpose, token.subject, token.data, token.createdAt, token.expiresAt];
}

/**
 * The mail methods of the SQL store.
 *
 * @example
 * const mails = createMailStore(createSqlContext(client, postgresDialect));
 * await mails.queueMail(mail, { token, supersede: true });
 */
export function createMailStore(context: SqlContext): MailStore {
  const { client, dialect: d, guarded } = context;
  const columns = COLUMNS.mails.join(', ');
  const settled = "status = 'queued' AND claimed_by = $2 AND id = $1";
  const statements = {
    insert: d.prepare(d.insert({ table: 'latchkey_mails', columns: COLUMNS.mails })),
    insertToken: d.prepare(d.insert({ table: 'latchkey_one_time_tokens', columns: COLUMNS.oneTimeTokens })),
    deleteTokens: d.prepare('DELETE FROM latchkey_one_time_tokens WHERE subject = $1 AND purpose = $2'),
    due: d.prepare(
      "SELECT id FROM latchkey_mails WHERE status = 'queued' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
    ),
    claim: d.prepare(
      `UPDATE latchkey_mails SET claimed_by = $2, next_attempt_at = ${d.cast('$3', 'bigint')}, attempts = attempts + 1
       WHERE id = $1 AND status = 'queued' AND next_attempt_at <= $4`,
    ),
    claimed: d.prepare(`SELECT ${columns} FROM latchkey_mails WHERE id = $1 AND claimed_by = $2`),
    sent: d.prepare(
      `UPDATE latchkey_mails SET status = 'sent', settled_at = $3, claimed_by = NULL WHERE ${settled}`,
    ),
    failed: d.prepare(
      `UPDATE latchkey_mails SET status = 'failed', settled_at = $3, last_error = $4, claimed_by = NULL WHERE ${settled}`,
    ),
    retry: d.prepare(
      `UPDATE latchkey_mails SET next_attempt_at = $3, last_error = $4, claimed_by = NULL WHERE ${settled}`,
    ),
    byId: d.prepare(`SELECT ${columns} FROM latchkey_mails WHERE id = $1`),
    newest: d.prepare(`SELECT ${columns} FROM latchkey_mails ORDER BY created_at DESC, id DESC LIMIT $1`),
    newestOf: d.prepare(
      `SELECT ${columns} FROM latchkey_mails WHERE status = $2 ORDER BY created_at DESC, id DESC LIMIT $1`,
    ),
    deleteExpired: d.prepare("DELETE FROM latchkey_mails WHERE status <> 'queued' AND expires_at <= $1"),
  };

  async function queue(
    tx: SqlClient,
    mail: MailRecord,
    token: OneTimeTokenRecord | undefined,
    supersede: boolean,
  ): Promise<void> {
    if (token !== undefined) {
      if (supersede) await run(tx, statements.deleteTokens, [token.subject, token.purpose]);
      await run(tx, statements.insertToken, tokenValues(token));
    }
    await run(tx, statements.insert, mailValues(mail));
  }

  return {
    queueMail: (mail, options = {}) =>
      guarded(() => client.transaction((tx) => queue(tx, mail, options.token, options.supersede === true))),

    claimMails: ({ now, leaseMs, limit, claimant }) =>
      guarded(async () => {
        if (limit <= 0) return [];
        const { rows } = await run<{ id: string }>(client, statements.due, [now, limit]);
        const claimed: MailRecord[] = [];
        for (const { id } of rows) {
          const won = rowCountOf(await run(client, statements.claim, [id, claimant, now + leaseMs, now])) > 0;
          if (!won) continue;
          const row = (await run<MailRow>(client, statements.claimed, [id, claimant])).rows[0];
          if (row !== undefined) claimed.push(toMail(row, d));
        }
        return claimed;
      }),

    settleMail: (id, claimant, outcome) =>
      guarded(async () => {
        const result =
          outcome.status === 'sent'
            ? await run(client, statements.sent, [id, claimant, outcome.at])
            : outcome.status === 'failed'
              ? await run(client, statements.failed, [id, claimant, outcome.at, outcome.error])
              : await run(client, statements.retry, [id, claimant, outcome.retryAt, outcome.error]);
        return rowCountOf(result) > 0;
      }),

    getMail: (id) =>
      guarded(async () => {
        const row = (await run<MailRow>(client, statements.byId, [id])).rows[0];
        return row === undefined ? null : toMail(row, d);
      }),

    listMails: ({ limit, status }) =>
      guarded(async () => {
        if (limit <= 0) return [];
        const { rows } =
          status === undefined
            ? await run<MailRow>(client, statements.newest, [limit])
            : await run<MailRow>(client, statements.newestOf, [limit, status]);
        return rows.map((row) => toMail(row, d));
      }),

    deleteExpiredMails: (now) =>
      guarded(async () => rowCountOf(await run(client, statements.deleteExpired, [now]))),
  };
}
