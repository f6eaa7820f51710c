/**
 * The primitives every stored secret goes through (`src/lib/secrets.ts`): the exact digests and
 * their encoding, the constant-time comparison, key derivation by purpose, and the shape of an
 * `id.secret` credential.
 */
import { describe, expect, it } from 'vitest';
import {
  constantTimeEqual,
  deriveKey,
  hmacSha256,
  parseCredential,
  randomId,
  randomSecret,
  sha256,
  sha256Bytes,
  sha256Matches,
} from '../../src/lib/secrets.js';

const base64url = (hex: string): string => Buffer.from(hex, 'hex').toString('base64url');

describe('digests', () => {
  it('sha256 is SHA-256 of the UTF-8 text, base64url without padding (FIPS 180-2 "abc")', () => {
    expect(sha256('abc')).toBe(base64url('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'));
    expect(sha256('abc')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('hmacSha256 is HMAC-SHA-256, base64url (RFC 4231, test case 1)', () => {
    const key = new Uint8Array(20).fill(0x0b);
    expect(hmacSha256(key, 'Hi There')).toBe(
      base64url('b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'),
    );
  });
});

describe('constantTimeEqual', () => {
  it('is true only for the same string', () => {
    expect(constantTimeEqual('secret', 'secret')).toBe(true);
    expect(constantTimeEqual('secret', 'secreT')).toBe(false);
  });

  it('answers false for strings of different lengths, without throwing', () => {
    expect(constantTimeEqual('secret', 'secret!')).toBe(false);
    expect(constantTimeEqual('', 'x')).toBe(false);
    // Same number of characters, different number of UTF-8 bytes.
    expect(constantTimeEqual('é', 'e')).toBe(false);
  });
});

describe('sha256Matches', () => {
  it('is true only for the secret whose SHA-256 was stored', () => {
    const stored = sha256Bytes(sha256('the secret'));
    expect(stored?.length).toBe(32);
    expect(sha256Matches('the secret', stored)).toBe(true);
    expect(sha256Matches('the secreT', stored)).toBe(false);
    expect(sha256Matches('', stored)).toBe(false);
  });

  it('never matches a stored value that is not exactly a base64url SHA-256', () => {
    const hash = sha256('the secret');
    // The last of 43 characters carries 2 unused bits: another spelling of the same 32 bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const other = alphabet[alphabet.indexOf(hash.at(-1) ?? 'A') ^ 1] ?? 'A';
    const respelled = hash.slice(0, -1) + other;
    expect(Buffer.from(respelled, 'base64url').equals(Buffer.from(hash, 'base64url'))).toBe(true);
    for (const stored of [respelled, `${hash}=`, hash.slice(0, -1), `${hash}A`, '', 'not base64 at all!']) {
      expect(sha256Bytes(stored)).toBeNull();
      expect(sha256Matches('the secret', sha256Bytes(stored))).toBe(false);
    }
  });
});

describe('deriveKey', () => {
  const master = new Uint8Array(32).fill(7);

  it('gives 32 bytes, the same for the same purpose and another for each purpose', () => {
    const csrf = deriveKey(master, 'csrf');
    expect(csrf).toHaveLength(32);
    expect(deriveKey(master, 'csrf').equals(csrf)).toBe(true);
    expect(deriveKey(master, 'refresh').equals(csrf)).toBe(false);
    expect(deriveKey(new Uint8Array(32).fill(8), 'csrf').equals(csrf)).toBe(false);
  });
});

describe('random values', () => {
  it('randomSecret is 256 bits and randomId 128 bits, base64url, never repeated', () => {
    expect(randomSecret()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomSecret(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(randomId()).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(randomSecret()).not.toBe(randomSecret());
  });
});

describe('parseCredential', () => {
  const id = 'A'.repeat(22);
  const secret = 'b'.repeat(43);

  it('splits a well-formed id.secret', () => {
    expect(parseCredential(`${id}.${secret}`)).toEqual({ id, secret });
    // The bounds of each part.
    expect(parseCredential(`${'i'.repeat(16)}.${'s'.repeat(22)}`)).not.toBeNull();
    expect(parseCredential(`${'i'.repeat(64)}.${'s'.repeat(128)}`)).not.toBeNull();
  });

  it('refuses a value without a dot, however long and well-formed its characters', () => {
    expect(parseCredential('A'.repeat(40))).toBeNull();
    expect(parseCredential(`${id}${secret}`)).toBeNull();
  });

  it('refuses an empty id, an empty secret and more than one dot', () => {
    expect(parseCredential(`.${secret}`)).toBeNull();
    expect(parseCredential(`${id}.`)).toBeNull();
    expect(parseCredential(`${id}.${secret}.${secret}`)).toBeNull();
  });

  it('refuses parts out of their bounds', () => {
    expect(parseCredential(`${'i'.repeat(15)}.${secret}`)).toBeNull();
    expect(parseCredential(`${'i'.repeat(65)}.${secret}`)).toBeNull();
    expect(parseCredential(`${id}.${'s'.repeat(21)}`)).toBeNull();
    expect(parseCredential(`${id}.${'s'.repeat(129)}`)).toBeNull();
  });

  it('refuses any character outside base64url, at either end of either part', () => {
    for (const bad of [
      `*${id}.${secret}`,
      `${id}*.${secret}`,
      `${id}.*${secret}`,
      `${id}.${secret}*`,
      `${id}.${secret} `,
      `${id}.${secret}\n`,
      `${id}=.${secret}`,
      `${id}.${secret.slice(1)}/`,
    ]) {
      expect(parseCredential(bad), JSON.stringify(bad)).toBeNull();
    }
  });

  it('refuses a well-formed id with a bad secret, and a bad id with a well-formed secret', () => {
    expect(parseCredential(`${id}.${'s'.repeat(10)}`)).toBeNull();
    expect(parseCredential(`${'i'.repeat(10)}.${secret}`)).toBeNull();
  });
});
