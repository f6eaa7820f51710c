import { createHmac, hash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes from the CSPRNG, base64url: 256 bits. */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** A random identifier: 16 bytes (128 bits), base64url, 22 characters. Not a secret. */
export function randomId(): string {
  return randomBytes(16).toString('base64url');
}

/** SHA-256 of a UTF-8 string, base64url. Used to store only the hash of a high-entropy secret. */
export function sha256(value: string): string {
  // The one-shot `crypto.hash` (Node >= 20.12) costs a third of createHash().update().digest().
  return hash('sha256', value, 'base64url');
}

export function hmacSha256(key: Uint8Array, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('base64url');
}

/** Constant-time comparison of two strings; unequal lengths compare false without early exit on content. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

/**
 * The 32 bytes of a stored SHA-256 (`sha256`'s base64url), or null when `stored` is not exactly
 * that (canonical base64url of 32 bytes): such a value can never match, as the string compare
 * it replaces never would.
 */
export function sha256Bytes(stored: string): Buffer | null {
  const bytes = Buffer.from(stored, 'base64url');
  return bytes.length === 32 && bytes.toString('base64url') === stored ? bytes : null;
}

/**
 * Whether the SHA-256 of `secret` is `storedBytes` (from `sha256Bytes`), in constant time: what
 * `constantTimeEqual(sha256(secret), stored)` answers, without encoding the digest and copying
 * both strings into buffers on every call.
 */
export function sha256Matches(secret: string, storedBytes: Buffer | null): boolean {
  // The digest as a binary (latin1) string, one character per byte, and back: about half the cost of
  // asking `hash` for a Buffer (Node 20), whose output path is slow.
  const digest = Buffer.from(hash('sha256', secret, 'binary'), 'latin1');
  if (storedBytes === null) {
    timingSafeEqual(digest, digest);
    return false;
  }
  return timingSafeEqual(digest, storedBytes);
}

/** Derives a purpose-bound 32-byte subkey from the master secret (HKDF-SHA256). */
export function deriveKey(master: Uint8Array, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `latchkey:${purpose}`, 32));
}

/** `id.secret`: neither part can hold a dot, so there is exactly one. */
const CREDENTIAL = /^([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{22,128})$/;

/**
 * Splits a credential of the form `id.secret`. Both parts are base64url of bounded length;
 * returns null on anything else so that callers never look up attacker-shaped ids. One regular
 * expression for both parts (it runs on every cookie request): a third less than two.
 */
export function parseCredential(value: string): { id: string; secret: string } | null {
  if (value.length > 200) return null;
  const match = CREDENTIAL.exec(value);
  if (match === null) return null;
  return { id: match[1] as string, secret: match[2] as string };
}
