/**
 * A real SMTP server in the test process (the `smtp-server` package): it accepts every mail and
 * keeps the raw messages, so that a test reads the link out of what was really delivered.
 */

import { SMTPServer } from 'smtp-server';

export interface TestSMTPServer {
  readonly port: number;
  readonly messages: string[];
  /** Quoted-printable undone: the text a reader sees. */
  readonly texts: () => string[];
  close(): Promise<void>;
}

export function decodeQuotedPrintable(raw: string): string {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Starts a server on `port` (0: any free one). */
export async function startSMTPServer(port = 0): Promise<TestSMTPServer> {
  const messages: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        messages.push(Buffer.concat(chunks).toString('utf8'));
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    messages,
    texts: () => messages.map(decodeQuotedPrintable),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The first `token=` value in the newest message that matches `subject`. */
export function tokenFrom(server: TestSMTPServer, subject: RegExp): string {
  const text = server
    .texts()
    .filter((message) => subject.test(message))
    .at(-1);
  const match = text === undefined ? null : /[?&]token=([A-Za-z0-9_-]+)/.exec(text);
  if (match?.[1] === undefined) throw new Error(`no mail matching ${String(subject)} with a token`);
  return match[1];
}
