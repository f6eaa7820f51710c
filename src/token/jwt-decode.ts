/**
 * Strict decoding of the parts of a JWS Compact Serialization: canonical base64url in one pass
 * (no intermediate string), then UTF-8 JSON objects with no repeated member name.
 *
 * The hot path of verification: bytes are decoded into one module-level scratch buffer, which
 * the verifier reads (the signature) before the next decoding. Verification is synchronous, so
 * no other caller can run in between.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-2 base64url without padding
 * @see https://www.rfc-editor.org/rfc/rfc4648#section-5 the base64url alphabet
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.12 JSON with duplicate member names
 */

import { fail } from './jwt-checks.js';

/** Refuses malformed UTF-8 instead of replacing it, and keeps a BOM so that JSON.parse refuses it. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes `token[start, end)` as a JSON object: strict base64url, UTF-8 (malformed sequences
 * refused), JSON, an object, and no object in it repeating a member name. With `freeze`, the
 * object and everything in it are frozen. Throws `LatchkeyError('invalid_token')` naming `part`.
 * Leaves the decoded bytes in `scratch`.
 *
 * @example
 * const payload = decodeJSONObject(token, firstDot + 1, secondDot, 'payload', true);
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-5.2 steps 2 to 4
 */
export function decodeJSONObject(
  token: string,
  start: number,
  end: number,
  part: 'header' | 'payload',
  freeze: boolean,
): Record<string, unknown> {
  const length = decodeBase64url(token, start, end);
  if (length <= 0) fail(`${part} is not base64url`);
  const bytes = scratch;
  let value: unknown;
  try {
    const text = isASCII(bytes, length)
      ? bytes.toString('latin1', 0, length)
      : UTF8.decode(bytes.subarray(0, length));
    value = JSON.parse(text);
  } catch {
    fail(`${part} is not UTF-8 JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(`${part} is not a JSON object`);
  // Every member of every object has one `:` outside strings; JSON.parse keeps one property
  // per distinct name (after unescaping), so the counts differ exactly when a name repeats.
  if (countMembers(value, freeze) !== countNameSeparators(bytes, length)) {
    fail(`${part} has duplicate members`);
  }
  return value as Record<string, unknown>;
}

/** The `:` outside strings in the JSON text `bytes[0, length)` (known to be valid JSON). */
function countNameSeparators(bytes: Uint8Array, length: number): number {
  let count = 0;
  for (let i = 0; i < length; i++) {
    const byte = bytes[i];
    if (byte === 0x22 /* " */) {
      for (i++; i < length; i++) {
        const inner = bytes[i];
        if (inner === 0x5c /* \ */) i++;
        else if (inner === 0x22) break;
      }
    } else if (byte === 0x3a /* : */) {
      count++;
    }
  }
  return count;
}

/** The own properties of all the objects in a parsed JSON value; freezes them all with `freeze`. */
function countMembers(value: unknown, freeze: boolean): number {
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) count += countMembers(item, freeze);
  } else {
    const object = value as Record<string, unknown>;
    const names = Object.keys(object);
    count = names.length;
    for (const name of names) count += countMembers(object[name], freeze);
  }
  if (freeze) Object.freeze(value);
  return count;
}

function isASCII(bytes: Uint8Array, length: number): boolean {
  let bits = 0;
  for (let i = 0; i < length; i++) bits |= bytes[i] ?? 0;
  return bits < 0x80;
}

/** The value of each base64url character (RFC 4648 §5); 64 for every other ASCII character. */
const BASE64URL_VALUES: Uint8Array = (() => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const values = new Uint8Array(128).fill(64);
  for (let i = 0; i < alphabet.length; i++) values[alphabet.charCodeAt(i)] = i;
  return values;
})();

function sextet(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return code < 128 ? (BASE64URL_VALUES[code] ?? 64) : 64;
}

/**
 * Shared output of `decodeBase64url` (verification is synchronous, so one is enough); grown to
 * the longest segment seen. Read it before the next decoding. Exported as a live binding: the
 * signature check reads the bytes in place (see `decodeBase64url`).
 */
export let scratch: Buffer = Buffer.allocUnsafeSlow(6144);

/**
 * Decodes `text[start, end)` as strict base64url into `scratch`: only the URL-safe alphabet, no
 * padding, no whitespace, and canonical (a length that is not 1 mod 4, and the unused low bits
 * of the last character zero), so that one value has one spelling; exactly what
 * `fromBase64urlStrict` accepts. Returns the number of bytes, or -1.
 *
 * @example
 * const length = decodeBase64url(token, secondDot + 1, token.length);
 * if (length !== -1) useSignature(scratch.subarray(0, length));
 * @see https://www.rfc-editor.org/rfc/rfc4648#section-3.5 canonical encoding
 */
export function decodeBase64url(text: string, start: number, end: number): number {
  const tail = (end - start) & 3;
  if (tail === 1) return -1;
  const needed = ((end - start) >> 2) * 3 + 2;
  if (scratch.length < needed) scratch = Buffer.allocUnsafeSlow(needed);
  const out = scratch;
  const last = end - tail;
  let length = 0;
  for (let i = start; i < last; i += 4) {
    const a = sextet(text, i);
    const b = sextet(text, i + 1);
    const c = sextet(text, i + 2);
    const d = sextet(text, i + 3);
    if ((a | b | c | d) > 63) return -1;
    out[length] = (a << 2) | (b >> 4);
    out[length + 1] = ((b & 15) << 4) | (c >> 2);
    out[length + 2] = ((c & 3) << 6) | d;
    length += 3;
  }
  if (tail === 2) {
    const a = sextet(text, last);
    const b = sextet(text, last + 1);
    if ((a | b) > 63 || (b & 15) !== 0) return -1;
    out[length++] = (a << 2) | (b >> 4);
  } else if (tail === 3) {
    const a = sextet(text, last);
    const b = sextet(text, last + 1);
    const c = sextet(text, last + 2);
    if ((a | b | c) > 63 || (c & 3) !== 0) return -1;
    out[length++] = (a << 2) | (b >> 4);
    out[length++] = ((b & 15) << 4) | (c >> 2);
  }
  return length;
}
