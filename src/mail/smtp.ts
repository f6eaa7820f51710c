/**
 * The SMTP transport, through nodemailer: `smtp://` (STARTTLS when the server offers it) or
 * `smtps://` (TLS from the start), the password in the URL or given apart.
 */

import nodemailer, { type SendMailOptions } from 'nodemailer';
import { MailDeliveryError, type MailTransport, type OutgoingMail } from '../outbox/transport.js';

/** SMTP replies that are about the server's configuration (authentication), not the recipient. */
const RETRYABLE_5XX = new Set([530, 534, 535, 538]);

/**
 * A nodemailer failure as a {@link MailDeliveryError}: permanent for a 5xx about the mail or its
 * recipient, temporary for anything else (no connection, timeout, 4xx, authentication). The
 * message names the code only: nodemailer's own may quote the envelope.
 */
export function toDeliveryError(error: unknown): MailDeliveryError {
  const details = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
  const responseCode = typeof details.responseCode === 'number' ? details.responseCode : null;
  const code = typeof details.code === 'string' ? details.code : 'unknown';
  const permanent = responseCode !== null && responseCode >= 500 && !RETRYABLE_5XX.has(responseCode);
  const summary = responseCode === null ? `SMTP ${code}` : `SMTP ${code} ${responseCode}`;
  return new MailDeliveryError(summary, { permanent, cause: error });
}

export interface SMTPTransportOptions {
  url: string;
  password?: string | null | undefined;
  from: string;
  /** Connection, greeting and socket timeouts (ms). Default 20 s. */
  timeoutMs?: number;
}

/**
 * @example
 * const transport = createSMTPTransport({ url: 'smtps://mailer@smtp.example.com', password, from });
 */
export function createSMTPTransport(options: SMTPTransportOptions): MailTransport {
  const url = new URL(options.url);
  const timeout = options.timeoutMs ?? 20_000;
  const auth =
    url.username === ''
      ? undefined
      : {
          user: decodeURIComponent(url.username),
          pass: options.password ?? decodeURIComponent(url.password),
        };
  const secure = url.protocol === 'smtps:';
  const transporter = nodemailer.createTransport({
    host: url.hostname,
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
    ...(auth === undefined ? {} : { auth }),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  return {
    name: 'smtp',
    async send(mail: OutgoingMail) {
      try {
        await transporter.sendMail(message(mail, options.from));
      } catch (error) {
        throw toDeliveryError(error);
      }
    },
    close() {
      transporter.close();
      return Promise.resolve();
    },
  };
}

/** The nodemailer message of an outgoing mail. */
export function message(mail: OutgoingMail, from: string): SendMailOptions {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'latchkey.invalid';
  return {
    from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    messageId: `<${mail.id}@${domain}>`,
    headers: { 'X-Latchkey-Mail': mail.kind, 'Auto-Submitted': 'auto-generated' },
  };
}
