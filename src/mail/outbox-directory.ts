/**
 * The outbox directory: without SMTP, each mail becomes one `.eml` file (RFC 5322, built by
 * nodemailer) in `<data dir>/outbox/`, named by the mail's id. `latchkey mail show ID` prints
 * the same message from the store; a mail client opens the file.
 */

import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { MailDeliveryError, type MailTransport, type OutgoingMail } from '../outbox/transport.js';
import { message } from './smtp.js';

/**
 * @example
 * const transport = createOutboxDirectoryTransport({ directory: join(dataDir, 'outbox'), from });
 */
export function createOutboxDirectoryTransport(options: { directory: string; from: string }): MailTransport {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    name: 'outbox',
    async send(mail: OutgoingMail) {
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(mail.id)) {
        throw new MailDeliveryError('mail id is not a file name', { permanent: true });
      }
      try {
        const info = await composer.sendMail(message(mail, options.from));
        const bytes: unknown = info.message;
        if (!Buffer.isBuffer(bytes)) throw new Error('nodemailer returned no message buffer');
        await mkdir(options.directory, { recursive: true, mode: 0o700 });
        const file = join(options.directory, `${mail.id}.eml`);
        // Written whole, then renamed: a reader never sees half a mail.
        await writeFile(`${file}.tmp`, bytes, { mode: 0o600 });
        await rename(`${file}.tmp`, file);
      } catch (error) {
        throw new MailDeliveryError('writing the outbox file failed', { permanent: false, cause: error });
      }
    },
    close: () => Promise.resolve(),
  };
}
