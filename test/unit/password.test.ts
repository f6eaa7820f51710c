import { describe, expect, it } from 'vitest';
import { createPasswordHasher, OWASP_ARGON2ID } from '../../src/password/hash.js';
import { assertPasswordPolicy, normalizeEmail } from '../../src/password/policy.js';

describe('password hashing', () => {
  const hasher = createPasswordHasher();

  it('uses argon2id with the OWASP parameters (m=19456, t=2, p=1)', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verify(hash, 'correct horse battery staple')).toBe(true);
    expect(await hasher.verify(hash, 'correct horse battery stapl')).toBe(false);
    expect(OWASP_ARGON2ID).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
  });

  it('normalizes to NFKC, so composed and decomposed input verify alike', async () => {
    const composed = 'caf\u00e9 au lait, s\u2019il vous pla\u00eet';
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    const hash = await hasher.hash(composed);
    expect(await hasher.verify(hash, decomposed)).toBe(true);
    // Full-width letters fold to ASCII under NFKC.
    const fullWidth = await hasher.hash('\uff50\uff41\uff53\uff53phrase-long');
    expect(await hasher.verify(fullWidth, 'passphrase-long')).toBe(true);
  });

  it('never truncates: the last character of a 1024-character password matters', async () => {
    const long = 'x'.repeat(1023);
    const hash = await hasher.hash(`${long}a`);
    expect(await hasher.verify(hash, `${long}b`)).toBe(false);
    expect(await hasher.verify(hash, `${long}a`)).toBe(true);
  });

  it('asks for a rehash when the parameters change', async () => {
    const weak = createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
    const old = await weak.hash('correct horse battery staple');
    expect(hasher.needsRehash(old)).toBe(true);
    expect(weak.needsRehash(old)).toBe(false);
    expect(hasher.needsRehash('$2b$10$abcdefghijklmnopqrstuv')).toBe(true);
    expect(await hasher.verify('not a hash', 'x')).toBe(false);
  });
});

describe('password policy', () => {
  it('accepts 8 to 1024 characters, counted as code points after normalization', () => {
    expect(() => assertPasswordPolicy('1234567')).toThrow(/at least 8/);
    expect(() => assertPasswordPolicy('tolerable')).not.toThrow();
    expect(() => assertPasswordPolicy('\u{1F600}'.repeat(8))).not.toThrow();
    expect(() => assertPasswordPolicy('\u{1F600}'.repeat(7))).toThrow(/at least 8/);
    expect(() => assertPasswordPolicy('y'.repeat(1024))).not.toThrow();
    expect(() => assertPasswordPolicy('y'.repeat(1025))).toThrow(/at most 1024/);
  });

  it('refuses common passwords in any case, and the email itself', () => {
    for (const password of ['password', 'PASSWORD1', '12345678', 'Qwerty123', 'iloveyou']) {
      expect(() => assertPasswordPolicy(password), password).toThrow(/commonly used/);
    }
    expect(() => assertPasswordPolicy('Alice@Example.com', { email: 'alice@example.com' })).toThrow(/email/);
  });
});

describe('email normalization', () => {
  it('trims, lower-cases and NFKC-normalizes; refuses non-addresses', () => {
    expect(normalizeEmail('  Alice@Example.COM ')).toBe('alice@example.com');
    expect(normalizeEmail('\uff41lice@example.com')).toBe('alice@example.com');
    for (const bad of [
      '',
      'alice',
      'alice@',
      '@example.com',
      'a b@example.com',
      'a@b',
      `${'a'.repeat(300)}@example.com`,
    ]) {
      expect(normalizeEmail(bad), bad).toBeNull();
    }
  });
});
