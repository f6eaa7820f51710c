import { describe, expect, it } from 'vitest';
import {
  generateRecoveryCodes,
  hashRecoveryCode,
  matchRecoveryCode,
  normalizeRecoveryCode,
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

  it('match as typed (case, spaces, dashes) and only for their own user', () => {
    const codes = generateRecoveryCodes();
    const hashes = codes.map((code) => hashRecoveryCode(code, { userId: 'u1', key }));
    const typed = (codes[3] ?? '').toLowerCase().replace(/-/g, ' ');
    expect(matchRecoveryCode(typed, hashes, { userId: 'u1', key })).toBe(3);
    expect(matchRecoveryCode(codes[3], hashes, { userId: 'u2', key })).toBe(-1);
    const otherKey = deriveKey(Buffer.from('n'.repeat(32)), 'recovery-codes');
    expect(matchRecoveryCode(codes[3], hashes, { userId: 'u1', key: otherKey })).toBe(-1);
  });

  it('refuses a changed character and malformed input', () => {
    const [code = ''] = generateRecoveryCodes(1);
    const hashes = [hashRecoveryCode(code, { userId: 'u1', key })];
    const first = code[0] === '2' ? '3' : '2';
    expect(matchRecoveryCode(first + code.slice(1), hashes, { userId: 'u1', key })).toBe(-1);
    for (const bad of ['', 'x'.repeat(41), null, 42, code.slice(1), `${code}2`, code.replace(/^./, '0')]) {
      expect(matchRecoveryCode(bad, hashes, { userId: 'u1', key })).toBe(-1);
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
