import { table, usageError, type Command } from './command.js';

/** `latchkey mail list [--failed] | show <id>`: the outbox queue, and one message in full. */
export const mailCommand: Command = {
  name: 'mail',
  usage: `  mail list [--failed]       List queued, sent and failed mails, newest first
  mail show <id>             Print one mail (headers and text; it holds live links)`,
  opensCore: true,
  async run(latchkey, { sub, positionals, values }) {
    if (sub === 'list') {
      const mails = await latchkey.store.listMails({
        limit: Number(values.limit) || 100,
        status: values.failed ? 'failed' : undefined,
      });
      console.log(
        table(
          mails.map((m) => ({
            id: m.id,
            kind: m.kind,
            to: m.to,
            status: m.status,
            attempts: m.attempts,
            created: new Date(m.createdAt).toISOString(),
            error: m.lastError ?? '',
          })),
        ),
      );
      return 0;
    }
    const id = positionals[0];
    if (sub === 'show' && id !== undefined) {
      const mail = await latchkey.store.getMail(id);
      if (mail === null) {
        console.error(`No mail ${id}`);
        return 1;
      }
      const message = latchkey.outbox.open(mail);
      console.log(
        [
          `To: ${mail.to}`,
          `Subject: ${message.subject}`,
          `Kind: ${mail.kind}`,
          `Status: ${mail.status} (${mail.attempts} attempts)`,
          '',
          message.text,
        ].join('\n'),
      );
      return 0;
    }
    return usageError(mailCommand);
  },
};
