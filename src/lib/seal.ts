/**
 * Sealing of secrets at rest: AES-256-GCM under a key derived from the master secret, a random
 * 12-byte IV, and a label as additional authenticated data, so that a sealed value cannot be
 * moved to another record (a signing key's `kid`, a factor's user and id). Format:
 * `v1.<iv>.<ciphertext>.<tag>`, each part base64url.
 *
 * @see https://nvlpubs.nist.gov/nistpubs/Legacy/SP/nistspecialpublication800-38d.pdf
 */

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fromBase64urlStrict } from './encoding.js';

const SEALED_VERSION = 'v1';

/** Why `openSealed` failed: the value is not in the sealed format, or it does not authenticate. */
export class SealError extends Error {
  readonly reason: 'malformed' | 'unauthentic';
  constructor(reason: 'malformed' | 'unauthentic', options?: { cause?: unknown }) {
    super(reason === 'malformed' ? 'sealed value is malformed' : 'sealed value does not authenticate');
    this.name = 'SealError';
    this.reason = reason;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

function assertKey(key: Uint8Array): void {
  if (key.length !== 32) throw new TypeError('the sealing key must be 32 bytes (AES-256)');
}

/**
 * Seals `plaintext`, bound to `label`.
 *
 * @example
 * const sealed = seal(secret, { label: `totp:${userId}`, key: deriveKey(master, 'factors') });
 */
export function seal(plaintext: Uint8Array, options: { label: string; key: Uint8Array }): string {
  assertKey(options.key);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', options.key, iv);
  cipher.setAAD(Buffer.from(options.label, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [
    SEALED_VERSION,
    iv.toString('base64url'),
    ciphertext.toString('base64url'),
    tag.toString('base64url'),
  ].join('.');
}

/** Opens what `seal` sealed with the same key and label; throws a `SealError` otherwise. */
export function openSealed(sealed: string, options: { label: string; key: Uint8Array }): Buffer {
  assertKey(options.key);
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  const [version, ivPart, ciphertextPart, tagPart] = parts;
  const iv = ivPart === undefined ? null : fromBase64urlStrict(ivPart);
  const ciphertext = ciphertextPart === undefined ? null : fromBase64urlStrict(ciphertextPart);
  const tag = tagPart === undefined ? null : fromBase64urlStrict(tagPart);
  if (
    parts.length !== 4 ||
    version !== SEALED_VERSION ||
    iv?.length !== 12 ||
    ciphertext === null ||
    ciphertext.length === 0 ||
    tag?.length !== 16
  ) {
    throw new SealError('malformed');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', options.key, iv, { authTagLength: 16 });
    decipher.setAAD(Buffer.from(options.label, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (cause) {
    throw new SealError('unauthentic', { cause });
  }
}
