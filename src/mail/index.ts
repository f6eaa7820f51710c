/**
 * The mail edge: the transports that deliver what the outbox queued (`src/outbox/`). The only
 * folder that imports nodemailer. `createConfiguredTransport` picks one from the configuration.
 */

import { join } from 'node:path';
import type { LatchkeyConfig } from '../config/config.js';
import type { MailTransport } from '../outbox/transport.js';
import { createOutboxDirectoryTransport } from './outbox-directory.js';
import { createSMTPTransport } from './smtp.js';

export { createOutboxDirectoryTransport } from './outbox-directory.js';
export { createSMTPTransport } from './smtp.js';

/**
 * SMTP when `LATCHKEY_SMTP_URL` is set, else the outbox directory in the data directory.
 *
 * @example
 * const transport = createConfiguredTransport(loadConfig());
 */
export function createConfiguredTransport(config: LatchkeyConfig): MailTransport {
  const { mail } = config;
  if (mail.smtpURL !== null) {
    return createSMTPTransport({ url: mail.smtpURL, password: mail.smtpPassword, from: mail.from });
  }
  return createOutboxDirectoryTransport({ directory: join(config.dataDir, 'outbox'), from: mail.from });
}
