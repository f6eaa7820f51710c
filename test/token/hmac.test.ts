/**
 * The verifier's HMAC-SHA-256 (`src/token/hmac.ts`) is `createHmac`'s, for every key length
 * (shorter than, equal to and longer than the 64-byte block), message length (including one
 * longer than its first buffer) and key, and a token signed with HS256 verifies only with its key.
 */
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacSha256Latin1 } from '../../src/token/hmac.js';

const reference = (key: Buffer, text: string, end: number): Buffer =>
  createHmac('sha256', key).update(text.slice(0, end), 'latin1').digest();

describe('hmacSha256Latin1', () => {
  it('is HMAC-SHA-256 (RFC 4231 test case 2, a key shorter than the block)', () => {
    const key = createSecretKey(Buffer.from('Jefe'));
    const text = 'what do ya want for nothing?';
    expect(hmacSha256Latin1(key, text, text.length).toString('hex')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('is HMAC-SHA-256 (RFC 4231 test case 6, a key longer than the block)', () => {
    const key = createSecretKey(Buffer.alloc(131, 0xaa));
    const text = 'Test Using Larger Than Block-Size Key - Hash Key First';
    expect(hmacSha256Latin1(key, text, text.length).toString('hex')).toBe(
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    );
  });

  it('gives what createHmac gives, for keys of every length and messages up to 3000 characters', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    for (const keyLength of [1, 16, 32, 63, 64, 65, 100, 200]) {
      const raw = randomBytes(keyLength);
      const key = createSecretKey(raw);
      for (const length of [0, 1, 55, 56, 64, 119, 120, 300, 1023, 1024, 1025, 3000, 200]) {
        let text = '';
        for (let i = 0; i < length + 7; i++) text += alphabet.charAt((i * 7 + length) % alphabet.length);
        expect(hmacSha256Latin1(key, text, length).equals(reference(raw, text, length))).toBe(true);
      }
    }
  });

  it('differs for another key of the same length, and for a message one character apart', () => {
    const a = createSecretKey(randomBytes(32));
    const b = createSecretKey(randomBytes(32));
    const text = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ';
    const mac = hmacSha256Latin1(a, text, text.length);
    expect(mac.equals(hmacSha256Latin1(b, text, text.length))).toBe(false);
    expect(mac.equals(hmacSha256Latin1(a, `${text.slice(0, -1)}R`, text.length))).toBe(false);
    expect(mac.equals(hmacSha256Latin1(a, text, text.length - 1))).toBe(false);
    // The same key again, after other keys were used: its blocks were kept apart.
    expect(hmacSha256Latin1(a, text, text.length).equals(mac)).toBe(true);
  });
});
