/**
 * HMAC-SHA-256 (RFC 2104) for the verifier's hot path: two one-shot `crypto.hash` calls over
 * buffers holding the key's padded blocks, instead of a `createHmac` object per token (whose
 * construction alone costs more than hashing a token: ~1.8 µs against ~1.7 µs for the whole
 * computation here, Node 20). The same function: H((K ^ opad) || H((K ^ ipad) || m)), with K
 * hashed first when longer than the 64-byte block and zero-padded to it. The caller compares
 * the result in constant time. `test/token/hmac.test.ts` checks it against `createHmac`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc2104#section-2
 */

import { hash, type KeyObject } from 'node:crypto';

const BLOCK = 64;
const DIGEST = 32;

/** Per secret key: its inner block, followed by room for the message, and its outer block. */
interface Pads {
  inner: Buffer;
  readonly outer: Buffer;
}

const padsByKey = new WeakMap<KeyObject, Pads>();

function padsOf(key: KeyObject): Pads {
  let pads = padsByKey.get(key);
  if (pads === undefined) {
    const exported = key.export();
    const secret =
      exported.length > BLOCK ? Buffer.from(hash('sha256', exported, 'binary'), 'latin1') : exported;
    const inner = Buffer.allocUnsafeSlow(BLOCK + 1024);
    const outer = Buffer.allocUnsafeSlow(BLOCK + DIGEST);
    for (let i = 0; i < BLOCK; i++) {
      const byte = secret[i] ?? 0;
      inner[i] = byte ^ 0x36;
      outer[i] = byte ^ 0x5c;
    }
    secret.fill(0);
    exported.fill(0);
    pads = { inner, outer };
    padsByKey.set(key, pads);
  }
  return pads;
}

/**
 * HMAC-SHA-256 under the secret `key` of `text[0, end)` taken as Latin-1 bytes (the characters
 * of a JWS signing input, which are ASCII), as `createHmac('sha256', key).update(text.slice(0,
 * end), 'latin1').digest()` gives it.
 */
export function hmacSha256Latin1(key: KeyObject, text: string, end: number): Buffer {
  const pads = padsOf(key);
  if (pads.inner.length < BLOCK + end) {
    const grown = Buffer.allocUnsafeSlow(BLOCK + end);
    pads.inner.copy(grown, 0, 0, BLOCK);
    pads.inner = grown;
  }
  const { inner, outer } = pads;
  inner.write(text, BLOCK, end, 'latin1');
  outer.write(hash('sha256', inner.subarray(0, BLOCK + end), 'binary'), BLOCK, DIGEST, 'latin1');
  return Buffer.from(hash('sha256', outer, 'binary'), 'latin1');
}
