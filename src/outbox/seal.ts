/**
 * Sealing of queued mails: AES-256-GCM under a key derived from the master secret, with the
 * mail's id as additional data (a sealed body cannot be moved to another record), through the
 * one sealing helper (`../lib/seal.ts`). The store holds links that are secrets only in this form.
 */

import { LatchkeyError } from '../errors.js';
import { openSealed, seal } from '../lib/seal.js';
import type { RenderedMail } from './templates.js';

const label = (id: string): string => `mail:${id}`;

/**
 * @example
 * const sealed = sealMail(rendered, { id: mail.id, key: deriveKey(master, 'mail') });
 */
export function sealMail(mail: RenderedMail, options: { id: string; key: Uint8Array }): string {
  const plaintext = Buffer.from(JSON.stringify([mail.subject, mail.text, mail.html]), 'utf8');
  return seal(plaintext, { label: label(options.id), key: options.key });
}

/** Opens what {@link sealMail} sealed; `internal_error` for a wrong key, id or any tampering. */
export function openMail(sealed: string, options: { id: string; key: Uint8Array }): RenderedMail {
  const refused = (cause?: unknown): LatchkeyError =>
    new LatchkeyError('internal_error', `mail ${options.id} cannot be opened: wrong LATCHKEY_SECRET?`, {
      cause,
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(openSealed(sealed, { label: label(options.id), key: options.key }).toString('utf8'));
  } catch (cause) {
    throw refused(cause);
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || !parsed.every((part) => typeof part === 'string')) {
    throw refused();
  }
  const [subject, text, htmlBody] = parsed as [string, string, string];
  return { subject, text, html: htmlBody };
}
