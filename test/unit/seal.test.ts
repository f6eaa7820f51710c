import { describe, expect, it } from 'vitest';
import { openSealed, seal, SealError } from '../../src/lib/seal.js';
import { deriveKey } from '../../src/lib/secrets.js';

const key = deriveKey(Buffer.from('k'.repeat(32)), 'factors');

describe('seal / openSealed', () => {
  it('round-trips, with a fresh IV each time', () => {
    const plaintext = Buffer.from('totp secret bytes');
    const a = seal(plaintext, { label: 'totp:u1', key });
    const b = seal(plaintext, { label: 'totp:u1', key });
    expect(a).not.toBe(b);
    expect(openSealed(a, { label: 'totp:u1', key }).equals(plaintext)).toBe(true);
  });

  it('refuses another label (a value moved to another record), another key and tampering', () => {
    const sealed = seal(Buffer.from('secret'), { label: 'totp:u1', key });
    const attempt = (value: string, label = 'totp:u1', k = key): unknown => {
      try {
        openSealed(value, { label, key: k });
        return 'opened';
      } catch (error) {
        return error instanceof SealError ? error.reason : error;
      }
    };
    expect(attempt(sealed, 'totp:u2')).toBe('unauthentic');
    expect(attempt(sealed, 'totp:u1', deriveKey(Buffer.from('j'.repeat(32)), 'factors'))).toBe('unauthentic');
    const parts = sealed.split('.');
    const ciphertext = Buffer.from(parts[2] ?? '', 'base64url');
    ciphertext[0] = (ciphertext[0] ?? 0) ^ 1;
    parts[2] = ciphertext.toString('base64url');
    expect(attempt(parts.join('.'))).toBe('unauthentic');
    for (const bad of ['', 'v1', 'v2.a.b.c', `${sealed}.x`, sealed.replace(/^v1/, 'v0')]) {
      expect(attempt(bad)).toBe('malformed');
    }
  });
});
