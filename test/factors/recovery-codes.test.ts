import { describe, expect, it } from 'vitest';
import {
  generateRecoveryCodes,
  hashRecoveryCode,
  normalizeRecoveryCode,
  recoveryCodeHash,
} from '../../src/factors/recovery-codes.js';
import { deriveKey } from '../../src/lib/secrets.js';

const key = deriveKey(Buffer.from('m'.repeat(32)), 'recovery-codes');

describe('recovery codes', () => {
  it('are ten distinct codes of 16 characters without look-alikes', () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[2-9A-HJKMNP-Z]{4}(-[2-9A-HJKMNP-Z]{4}){3}$/);
  });

  it('hash as typed (case, spaces, dashes) to what was stored, for their own user and key only', () => {
    const [code = ''] = generateRecoveryCodes(1);
    const stored = hashRecoveryCode(code, { userId: 'u1', key });
    const typed = code.toLowerCase().replace(/-/g, ' ');
    expect(recoveryCodeHash(typed, { userId: 'u1', key })).toBe(stored);
    expect(recoveryCodeHash(code, { userId: 'u2', key })).not.toBe(stored);
    const otherKey = deriveKey(Buffer.from('n'.repeat(32)), 'recovery-codes');
    expect(recoveryCodeHash(code, { userId: 'u1', key: otherKey })).not.toBe(stored);
  });

  it('refuses malformed input, and a changed character hashes elsewhere', () => {
    const [code = ''] = generateRecoveryCodes(1);
    const stored = hashRecoveryCode(code, { userId: 'u1', key });
    const first = code.startsWith('2') ? '3' : '2';
    expect(recoveryCodeHash(first + code.slice(1), { userId: 'u1', key })).not.toBe(stored);
    for (const bad of ['', 'x'.repeat(41), null, 42, code.slice(1), `${code}2`, code.replace(/^./, '0')]) {
      expect(recoveryCodeHash(bad, { userId: 'u1', key })).toBeNull();
    }
    expect(normalizeRecoveryCode('abcd efgh jkmn pqrs')).toBe('ABCD-EFGH-JKMN-PQRS');
  });

  it('stores nothing that contains the code', () => {
    const [code = ''] = generateRecoveryCodes(1);
    const hash = hashRecoveryCode(code, { userId: 'u1', key });
    expect(hash).not.toContain(code.replace(/-/g, ''));
    expect(hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
