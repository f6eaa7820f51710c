import { hash as argon2Hash, type Algorithm } from '@node-rs/argon2';
import { describe, expect, it, vi } from 'vitest';
import { createPasswordHasher, OWASP_ARGON2ID } from '../../src/password/hash.js';
import { assertPasswordPolicy, normalizeEmail } from '../../src/password/policy.js';
import { hasPassword, NO_PASSWORD } from '../../src/records.js';

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

  it('spends the work of a real verification on a malformed hash, the no-password marker among them', async () => {
    const spied = createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
    const dummy = vi.spyOn(spied, 'verifyDummy');
    expect(await spied.verify(NO_PASSWORD, 'correct horse battery staple')).toBe(false);
    expect(await spied.verify('not a hash', '')).toBe(false);
    expect(dummy).toHaveBeenCalledTimes(2);
    expect(hasPassword({ passwordHash: NO_PASSWORD })).toBe(false);
  });

  it('asks for a rehash when any one parameter differs, and for any string that is not a whole PHC hash', () => {
    const phc = (m: number, t: number, p: number): string =>
      `$argon2id$v=19$m=${m},t=${t},p=${p}$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA`;
    expect(hasher.needsRehash(phc(19456, 2, 1))).toBe(false);
    expect(hasher.needsRehash(phc(19457, 2, 1))).toBe(true);
    expect(hasher.needsRehash(phc(19456, 3, 1))).toBe(true);
    expect(hasher.needsRehash(phc(19456, 2, 2))).toBe(true);
    // Multi-digit parameters are read whole.
    const heavy = createPasswordHasher({ memoryCost: 65536, timeCost: 12, parallelism: 16 });
    expect(heavy.needsRehash(phc(65536, 12, 16))).toBe(false);
    // Anything before or after the hash makes it another format.
    expect(hasher.needsRehash(`$scrypt${phc(19456, 2, 1)}`)).toBe(true);
    expect(hasher.needsRehash(`${phc(19456, 2, 1)}$extra`)).toBe(true);
    expect(hasher.needsRehash(phc(19456, 2, 1).replace('argon2id', 'argon2i'))).toBe(true);
  });

  it('verifies only argon2id: an argon2i or argon2d hash of the right password is refused', async () => {
    const parameters = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
    // `Algorithm` is an ambient const enum (not importable as a value): 0 is Argon2d, 1 is Argon2i.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
    const argon2d = 0 as Algorithm;
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
    const argon2iAlgorithm = 1 as Algorithm;
    const password = 'correct horse battery staple';
    const argon2i = await argon2Hash(password, { ...parameters, algorithm: argon2iAlgorithm });
    const argon2dHash = await argon2Hash(password, { ...parameters, algorithm: argon2d });
    expect(argon2i).toMatch(/^\$argon2i\$/);
    expect(await hasher.verify(argon2i, password)).toBe(false);
    expect(await hasher.verify(argon2dHash, password)).toBe(false);
  });

  it('answers false, without throwing, for an argon2id hash that argon2 cannot read', async () => {
    for (const unreadable of [
      // Memory cost below the minimum.
      '$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA',
      // A salt too short.
      '$argon2id$v=19$m=1024,t=1,p=1$c2E$aGFzaGhhc2hoYXNoaGFzaA',
      // An output too short.
      '$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$AAAA',
    ]) {
      await expect(hasher.verify(unreadable, 'x'), unreadable).resolves.toBe(false);
    }
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

  it("refuses the email's local part as the password, in any case, and accepts others", () => {
    const email = 'alice.liddell@example.com';
    expect(() => assertPasswordPolicy('Alice.Liddell', { email })).toThrow(
      'The password must not be the email address',
    );
    expect(() => assertPasswordPolicy('alice.liddell@example', { email })).not.toThrow();
    expect(() => assertPasswordPolicy('a'.repeat(12), { email })).not.toThrow();
  });

  it('refuses a NUL anywhere in the password', () => {
    for (const password of ['correct\u0000horse', '\u0000correcthorse', 'correcthorse\u0000']) {
      expect(() => assertPasswordPolicy(password), JSON.stringify(password)).toThrow(
        'The password must not contain NUL characters',
      );
    }
  });

  it('says which rule a refused password broke, with the weak_password code', () => {
    for (const [password, message] of [
      ['short', 'The password must be at least 8 characters'],
      ['y'.repeat(1025), 'The password must be at most 1024 characters'],
      ['password', 'The password is one of the most commonly used passwords'],
    ] as const) {
      expect(() => assertPasswordPolicy(password)).toThrow(
        expect.objectContaining({ code: 'weak_password', message }) as Error,
      );
    }
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

  it('accepts up to 254 characters, none beyond', () => {
    const address = (length: number): string => `alice@${'d'.repeat(length - 10)}.com`;
    expect(address(254)).toHaveLength(254);
    expect(normalizeEmail(address(254))).toBe(address(254));
    expect(normalizeEmail(address(255))).toBeNull();
    expect(normalizeEmail('a@b.c')).toBe('a@b.c');
  });

  it('refuses control characters, which the address pattern alone would let through', () => {
    for (const bad of ['ali\u0001ce@example.com', 'alice@exa\u001fmple.com', 'alice@example.com\u0000']) {
      expect(normalizeEmail(bad), JSON.stringify(bad)).toBeNull();
    }
  });

  it('refuses anything after the domain: a second @ or a space', () => {
    for (const bad of ['alice@example.com@evil.example', 'alice@example.com x', 'alice@example.com\tx']) {
      expect(normalizeEmail(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});
