import * as OTPAuth from 'otpauth';
import { describe, expect, it } from 'vitest';
import {
  generateTotpSecret,
  hotp,
  normalizeTotpCode,
  totpCode,
  totpStep,
  totpURI,
  verifyTotp,
} from '../../src/factors/totp.js';
import { fromBase32, toBase32 } from '../../src/lib/base32.js';

const RFC_SECRET = Buffer.from('12345678901234567890', 'ascii');

describe('HOTP and TOTP against the RFCs', () => {
  it('gives the HOTP values of RFC 4226 appendix D', () => {
    const expected = [
      '755224',
      '287082',
      '359152',
      '969429',
      '338314',
      '254676',
      '287922',
      '162583',
      '399871',
      '520489',
    ];
    expect(expected.map((_, counter) => hotp(RFC_SECRET, counter))).toEqual(expected);
  });

  it('gives the SHA-1 TOTP values of RFC 6238 appendix B (8 digits)', () => {
    const vectors: [number, string][] = [
      [59, '94287082'],
      [1111111109, '07081804'],
      [1111111111, '14050471'],
      [1234567890, '89005924'],
      [2000000000, '69279037'],
      [20000000000, '65353130'],
    ];
    for (const [seconds, code] of vectors) {
      expect(hotp(RFC_SECRET, totpStep(seconds * 1000), 8)).toBe(code);
    }
  });
});

describe('TOTP against an independent implementation (otpauth)', () => {
  it('agrees on the code at many instants and on the URI an app scans', () => {
    const secret = generateTotpSecret();
    const reference = new OTPAuth.TOTP({
      issuer: 'Latchkey',
      label: 'ada@example.com',
      secret: OTPAuth.Secret.fromBase32(toBase32(secret)),
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    });
    for (let i = 0; i < 200; i++) {
      const now = Date.UTC(2026, 0, 1) + i * 7_919_000;
      expect(totpCode(secret, now)).toBe(reference.generate({ timestamp: now }));
    }
    const parsed = OTPAuth.URI.parse(totpURI({ issuer: 'Latchkey', account: 'ada@example.com', secret }));
    expect(parsed).toBeInstanceOf(OTPAuth.TOTP);
    expect(parsed.issuer).toBe('Latchkey');
    expect(parsed.label).toBe('ada@example.com');
    expect(parsed.secret.base32).toBe(toBase32(secret));
    const now = Date.UTC(2026, 5, 1, 12);
    expect((parsed as OTPAuth.TOTP).generate({ timestamp: now })).toBe(totpCode(secret, now));
  });

  it('escapes an issuer and account with separators in the URI label', () => {
    const secret = generateTotpSecret();
    const uri = totpURI({ issuer: 'Acme: Prod', account: 'a+b@x.test', secret });
    const parsed = OTPAuth.URI.parse(uri);
    expect(parsed.issuer).toBe('Acme: Prod');
    expect(uri).toContain('otpauth://totp/Acme%20Prod:');
    expect(parsed.label).toBe('a+b@x.test');
  });
});

describe('verifyTotp', () => {
  const secret = generateTotpSecret();
  const start = Date.UTC(2026, 0, 1, 0, 0, 0);

  it('accepts the current step and one either side, not two', () => {
    const step = totpStep(start);
    for (const offset of [-1, 0, 1]) {
      const code = hotp(secret, step + offset);
      expect(verifyTotp(secret, code, { now: start, lastUsedStep: null })).toBe(step + offset);
    }
    for (const offset of [-2, 2, -10]) {
      const code = hotp(secret, step + offset);
      // A code of another step may collide with one in the window by chance (1 in 10^6 each).
      const collides = [-1, 0, 1].some((o) => hotp(secret, step + o) === code);
      expect(verifyTotp(secret, code, { now: start, lastUsedStep: null })).toBe(
        collides ? expect.any(Number) : null,
      );
    }
  });

  it('finds the window edges at the step boundaries of an independent clock', () => {
    const reference = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(toBase32(secret)) });
    const boundary = Math.ceil(start / 30_000) * 30_000;
    const code = reference.generate({ timestamp: boundary - 1 });
    // Made in the last millisecond of a step: still good 30 s later, refused once two steps on.
    expect(verifyTotp(secret, code, { now: boundary + 29_999, lastUsedStep: null })).not.toBeNull();
    expect(verifyTotp(secret, code, { now: boundary + 30_000, lastUsedStep: null })).toBeNull();
  });

  it('refuses a replay: a step at or before the last one accepted', () => {
    const step = totpStep(start);
    const code = hotp(secret, step);
    const used = verifyTotp(secret, code, { now: start, lastUsedStep: null });
    expect(used).toBe(step);
    expect(verifyTotp(secret, code, { now: start, lastUsedStep: used })).toBeNull();
    // An older code in the window is refused too once a newer step was used.
    expect(verifyTotp(secret, hotp(secret, step - 1), { now: start, lastUsedStep: used })).toBeNull();
    expect(verifyTotp(secret, hotp(secret, step + 1), { now: start, lastUsedStep: used })).toBe(step + 1);
  });

  it("refuses another secret's code, malformed input and a changed digit", () => {
    const other = generateTotpSecret();
    const step = totpStep(start);
    const code = hotp(secret, step);
    const foreign = hotp(other, step);
    if (![-1, 0, 1].some((o) => hotp(secret, step + o) === foreign)) {
      expect(verifyTotp(secret, foreign, { now: start, lastUsedStep: null })).toBeNull();
    }
    const changed = code.slice(0, 5) + String((Number(code[5]) + 1) % 10);
    if (![-1, 0, 1].some((o) => hotp(secret, step + o) === changed)) {
      expect(verifyTotp(secret, changed, { now: start, lastUsedStep: null })).toBeNull();
    }
    for (const bad of ['', '12345', '1234567', 'abcdef', '12345a', null, 123456, '１２３４５６']) {
      expect(verifyTotp(secret, bad, { now: start, lastUsedStep: null })).toBeNull();
    }
  });

  it('accepts a code typed with a space or a dash', () => {
    expect(normalizeTotpCode('123 456')).toBe('123456');
    expect(normalizeTotpCode('123-456')).toBe('123456');
    expect(normalizeTotpCode(' 123456 ')).toBe('123456');
    expect(normalizeTotpCode('1'.repeat(17))).toBeNull();
  });
});

describe('base32', () => {
  it('round-trips and matches RFC 4648 test vectors', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ];
    for (const [plain, encoded] of vectors) {
      expect(toBase32(Buffer.from(plain))).toBe(encoded);
      expect(fromBase32(encoded)?.toString()).toBe(plain);
      expect(fromBase32(`${encoded.toLowerCase()}======`)?.toString()).toBe(plain);
    }
    expect(fromBase32('MZXW1')).toBeNull();
    expect(fromBase32('MZ')).toBeNull(); // non-zero leftover bits
  });
});
