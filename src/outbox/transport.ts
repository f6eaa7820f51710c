/**
 * The one thing the core needs from a mail transport (SMTP, the outbox directory, a test's
 * capture): deliver one message, or say whether a failure is worth retrying. Implementations
 * live at the edge (`src/mail/`); the core never imports a mail library.
 */

/** One message, ready to send. */
export interface OutgoingMail {
  /** The outbox record's id: also the Message-ID's local part and the outbox file's name. */
  id: string;
  kind: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface MailTransport {
  /** A short name for logs: `smtp`, `outbox`, ... */
  readonly name: string;
  /**
   * Delivers the message or rejects. A rejection with a {@link MailDeliveryError} whose
   * `permanent` is true (the server refused the recipient: an SMTP 5xx) is not retried; any
   * other rejection is (connection refused, timeout, 4xx).
   */
  send(mail: OutgoingMail): Promise<void>;
  close(): Promise<void>;
}

/** A delivery failure, described without the message or its links. */
export class MailDeliveryError extends Error {
  readonly permanent: boolean;
  constructor(message: string, options: { permanent: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'MailDeliveryError';
    this.permanent = options.permanent;
  }
}
