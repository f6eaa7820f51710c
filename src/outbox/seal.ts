/**
 * Sealing of queued mails: AES-256-GCM under a key derived from the master secret, with the
 * mail's id as additional data (a sealed body cannot be moved to another record). The store
 * holds links that are secrets only in this form.
 */

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { LatchkeyError } from '../errors.js';
import { fromBase64urlStrict } from '../lib/encoding.js';
import type { RenderedMail } from './templates.js';

const VERSION = 'm1';

/**
 * @example
 * const sealed = sealMail(rendered, { id: mail.id, key: deriveKey(master, 'mail') });
 */
export function sealMail(mail: RenderedMail, options: { id: string; key: Uint8Array }): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', options.key, iv);
  cipher.setAAD(Buffer.from(options.id, 'utf8'));
  const plaintext = Buffer.from(JSON.stringify([mail.subject, mail.text, mail.html]), 'utf8');
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [VERSION, iv, ciphertext, cipher.getAuthTag()]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

/** Opens what {@link sealMail} sealed; `internal_error` for a wrong key, id or any tampering. */
export function openMail(sealed: string, options: { id: string; key: Uint8Array }): RenderedMail {
  const [version, ivPart = '', dataPart = '', tagPart = '', extra] = sealed.split('.');
  const iv = fromBase64urlStrict(ivPart);
  const data = fromBase64urlStrict(dataPart);
  const tag = fromBase64urlStrict(tagPart);
  const refused = (cause?: unknown): LatchkeyError =>
    new LatchkeyError('internal_error', `mail ${options.id} cannot be opened: wrong LATCHKEY_SECRET?`, {
      cause,
    });
  if (
    version !== VERSION ||
    extra !== undefined ||
    iv?.length !== 12 ||
    data === null ||
    tag?.length !== 16
  ) {
    throw refused();
  }
  let parsed: unknown;
  try {
    const decipher = createDecipheriv('aes-256-gcm', options.key, iv, { authTagLength: 16 });
    decipher.setAAD(Buffer.from(options.id, 'utf8'));
    decipher.setAuthTag(tag);
    parsed = JSON.parse(Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8'));
  } catch (cause) {
    throw refused(cause);
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || !parsed.every((part) => typeof part === 'string')) {
    throw refused();
  }
  const [subject, text, htmlBody] = parsed as [string, string, string];
  return { subject, text, html: htmlBody };
}
