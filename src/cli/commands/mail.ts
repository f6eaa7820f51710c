import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Latchkey } from '../../app/latchkey.js';
import { openLatchkey } from '../../app/open.js';
import { isLatchkeyError } from '../../errors.js';
import { createLogger } from '../../log.js';
import { lockEmbeddedStore } from '../serve.js';
import { table, usageError, type Command, type CommandContext } from './command.js';

const USAGE = `  mail list [--failed]       List queued, sent and failed mails, newest first
  mail show <id>             Print one mail (headers and text; it holds live links)`;

/** The queue in the store: every mail, its status and attempts, and any one in full. */
async function fromQueue(latchkey: Latchkey, { sub, positionals, values }: CommandContext): Promise<number> {
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
  if (sub !== 'show' || id === undefined) return usageError(mailCommand);
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

function header(message: string, name: string): string {
  return new RegExp(`^${name}: (.*)$`, 'mi').exec(message)?.[1] ?? '';
}

function readable(message: string): string {
  return message
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * While a server holds the embedded store, the outbox directory it writes (`<data dir>/outbox/`):
 * the mails it has delivered there.
 */
async function fromDirectory({ config, sub, positionals, values }: CommandContext): Promise<number> {
  const directory = join(config.dataDir, 'outbox');
  if (values.failed) {
    console.error(
      'A server holds the store: failed mails are listed once it stops (the outbox directory has only delivered mails).',
    );
    return 1;
  }
  const files = await readdir(directory).catch(() => [] as string[]);
  const ids = files.filter((file) => /^[A-Za-z0-9_-]+\.eml$/.test(file)).map((file) => file.slice(0, -4));
  if (sub === 'list') {
    const rows = await Promise.all(
      ids.map(async (id) => {
        const path = join(directory, `${id}.eml`);
        const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
        return {
          id,
          kind: header(text, 'X-Latchkey-Mail'),
          to: header(text, 'To'),
          status: 'sent',
          written: info.mtime.toISOString(),
        };
      }),
    );
    console.log(table(rows.sort((a, b) => b.written.localeCompare(a.written))));
    return 0;
  }
  const id = positionals[0];
  if (sub !== 'show' || id === undefined) return usageError(mailCommand);
  if (!ids.includes(id)) {
    console.error(`No mail ${id} in ${directory}`);
    return 1;
  }
  console.log(readable(await readFile(join(directory, `${id}.eml`), 'utf8')));
  return 0;
}

/**
 * `latchkey mail list [--failed] | show <id>`: the queue in the store; while a server holds the
 * embedded store, the `.eml` files of its outbox directory instead.
 */
export const mailCommand: Command = {
  name: 'mail',
  usage: USAGE,
  opensCore: false,
  async run(context) {
    let lock: Awaited<ReturnType<typeof lockEmbeddedStore>>;
    try {
      lock = await lockEmbeddedStore(context.config, 'mail');
    } catch (error) {
      if (!isLatchkeyError(error, 'store_unavailable')) throw error;
      return fromDirectory(context);
    }
    try {
      const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
      const latchkey = await openLatchkey(context.config, { logger, channels: false });
      try {
        return await fromQueue(latchkey, context);
      } finally {
        await latchkey.close();
      }
    } finally {
      await lock?.release();
    }
  },
};
