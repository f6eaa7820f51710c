/** Strict base64url helpers (RFC 4648 §5, no padding). */

const BASE64URL = /^[A-Za-z0-9_-]*$/;

export function toBase64url(data: Uint8Array | string): string {
  return Buffer.from(typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64url');
}

/**
 * Decodes base64url strictly: only the URL-safe alphabet, no padding, no whitespace, and the
 * encoding must be canonical (re-encoding gives the same string), so that one value has one
 * spelling. Returns null on any violation.
 */
export function fromBase64urlStrict(input: string): Buffer | null {
  if (!BASE64URL.test(input) || input.length % 4 === 1) return null;
  const bytes = Buffer.from(input, 'base64url');
  if (bytes.toString('base64url') !== input) return null;
  return bytes;
}
