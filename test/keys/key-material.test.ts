import { createPublicKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LatchkeyError } from '../../src/errors.js';
import {
  decryptPrivateKey,
  encryptPrivateKey,
  exportPrivateKey,
  exportPublicJWK,
  fromSigningKeyRecord,
  generateSigningKey,
  importPrivateKey,
  importPublicJWK,
  toSigningKeyRecord,
  type GeneratedSigningKey,
} from '../../src/keys/key-material.js';
import { deriveKey } from '../../src/lib/secrets.js';
import type { KeyAlgorithm } from '../../src/records.js';
import { createAccessTokenVerifier, signAccessToken } from '../../src/token/jwt.js';

const ALL: KeyAlgorithm[] = ['EdDSA', 'ES256', 'RS256', 'HS256'];
const master = Buffer.from('a master secret of at least thirty-two characters');
const encryptionKey = deriveKey(master, 'signing-keys');
const keys = Object.fromEntries(
  await Promise.all(ALL.map(async (alg) => [alg, await generateSigningKey(alg)] as const)),
) as Record<KeyAlgorithm, GeneratedSigningKey>;

const PUBLIC_MEMBERS: Record<Exclude<KeyAlgorithm, 'HS256'>, string[]> = {
  EdDSA: ['alg', 'crv', 'kid', 'kty', 'use', 'x'],
  ES256: ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'],
  RS256: ['alg', 'e', 'kid', 'kty', 'n', 'use'],
};

function expectConfigInvalid(run: () => unknown, message: string | RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(LatchkeyError);
  expect((caught as LatchkeyError).code).toBe('config_invalid');
  expect((caught as LatchkeyError).message).toMatch(message);
}

describe('generateSigningKey', () => {
  it('gives each key a random base64url kid of 16 bytes', async () => {
    const kids = new Set(Object.values(keys).map((k) => k.kid));
    expect(kids.size).toBe(4);
    for (const kid of kids) expect(kid).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect((await generateSigningKey('EdDSA', { kid: 'chosen' })).kid).toBe('chosen');
  });

  it('EdDSA is Ed25519, ES256 is P-256, RS256 is RSA 2048, HS256 is a 32-byte secret', () => {
    expect(keys.EdDSA.privateKey.asymmetricKeyType).toBe('ed25519');
    expect(keys.ES256.privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(keys.RS256.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(keys.RS256.privateKey.asymmetricKeyDetails?.publicExponent).toBe(65537n);
    expect(keys.HS256.privateKey.type).toBe('secret');
    expect(keys.HS256.privateKey.symmetricKeySize).toBe(32);
    expect(keys.HS256.publicKey).toBeNull();
    expect(keys.HS256.publicJwk).toBeNull();
  });

  it('RS256 modulus length can be raised', async () => {
    const big = await generateSigningKey('RS256', { rsaModulusLength: 3072 });
    expect(big.privateKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
  });

  it.each(['EdDSA', 'ES256', 'RS256'] as const)('%s public JWK has only public members', (alg) => {
    const { publicJwk, kid } = keys[alg];
    expect(Object.keys(publicJwk ?? {}).sort()).toEqual(PUBLIC_MEMBERS[alg]);
    expect(publicJwk).toMatchObject({ kid, alg, use: 'sig' });
    // And it is the same key.
    const imported = createPublicKey({ key: { ...publicJwk }, format: 'jwk' });
    expect(imported.equals(keys[alg].publicKey ?? imported)).toBe(true);
    // exportPublicJWK takes the public half of a private key.
    expect(exportPublicJWK(keys[alg].privateKey, { kid, alg })).toEqual(publicJwk);
  });

  it('refuses unknown algorithms', async () => {
    await expect(generateSigningKey('none' as KeyAlgorithm)).rejects.toThrow(TypeError);
  });
});

describe('encryptPrivateKey / decryptPrivateKey', () => {
  const plaintext = randomBytes(48);

  it('round-trips, as v1.<iv>.<ciphertext>.<tag> with a fresh IV each time', () => {
    const a = encryptPrivateKey(plaintext, { kid: 'k1', encryptionKey });
    const b = encryptPrivateKey(plaintext, { kid: 'k1', encryptionKey });
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{64}\.[A-Za-z0-9_-]{22}$/);
    expect(a).not.toBe(b);
    expect(decryptPrivateKey(a, { kid: 'k1', encryptionKey }).equals(plaintext)).toBe(true);
  });

  it('a wrong master secret fails clearly', () => {
    const sealed = encryptPrivateKey(plaintext, { kid: 'k1', encryptionKey });
    const wrong = deriveKey(Buffer.from('another master secret, also long enough'), 'signing-keys');
    expectConfigInvalid(
      () => decryptPrivateKey(sealed, { kid: 'k1', encryptionKey: wrong }),
      'cannot decrypt signing key k1: wrong LATCHKEY_SECRET?',
    );
    // A key derived for another purpose is wrong too.
    expectConfigInvalid(
      () => decryptPrivateKey(sealed, { kid: 'k1', encryptionKey: deriveKey(master, 'csrf') }),
      /wrong LATCHKEY_SECRET/,
    );
  });

  it('binds the kid (AAD): a sealed key cannot be moved to another record', () => {
    const sealed = encryptPrivateKey(plaintext, { kid: 'k1', encryptionKey });
    expectConfigInvalid(() => decryptPrivateKey(sealed, { kid: 'k2', encryptionKey }), /signing key k2/);
  });

  it('detects tampering and malformed values', () => {
    const sealed = encryptPrivateKey(plaintext, { kid: 'k1', encryptionKey });
    const [v, iv, ct = '', tag] = sealed.split('.');
    const flipped = `${ct.slice(0, 5)}${ct[5] === 'A' ? 'B' : 'A'}${ct.slice(6)}`;
    expectConfigInvalid(
      () => decryptPrivateKey(`${v}.${iv}.${flipped}.${tag}`, { kid: 'k1', encryptionKey }),
      /k1/,
    );
    for (const bad of [
      '',
      'v1',
      `v2.${iv}.${ct}.${tag}`,
      `${v}.${iv}.${ct}`,
      `${v}.${iv}.${ct}.${tag}=`,
      `${sealed}.x`,
    ]) {
      expectConfigInvalid(
        () => decryptPrivateKey(bad, { kid: 'k1', encryptionKey }),
        'signing key k1 is malformed in the store',
      );
    }
  });

  it('requires a 32-byte encryption key', () => {
    expect(() => encryptPrivateKey(plaintext, { kid: 'k', encryptionKey: randomBytes(16) })).toThrow(
      /"encryptionKey"/,
    );
    expect(() => decryptPrivateKey('v1.a.b.c', { kid: 'k', encryptionKey: randomBytes(31) })).toThrow(
      TypeError,
    );
  });
});

describe('exportPrivateKey / importPrivateKey', () => {
  it.each(ALL)('%s round-trips (PKCS#8 DER, raw secret for HS256)', (alg) => {
    const bytes = exportPrivateKey(keys[alg].privateKey, { alg });
    if (alg === 'HS256') expect(bytes).toHaveLength(32);
    else expect(bytes[0]).toBe(0x30); // DER SEQUENCE
    expect(importPrivateKey(bytes, { alg }).equals(keys[alg].privateKey)).toBe(true);
  });

  it('refuses material that does not fit the alg', () => {
    const ed = exportPrivateKey(keys.EdDSA.privateKey, { alg: 'EdDSA' });
    expect(() => importPrivateKey(ed, { alg: 'ES256' })).toThrow(TypeError);
    expect(() => importPrivateKey(ed, { alg: 'HS256' })).toThrow(TypeError);
    expect(() => importPrivateKey(randomBytes(32), { alg: 'RS256' })).toThrow(TypeError);
    expect(() => exportPrivateKey(keys.EdDSA.publicKey ?? keys.EdDSA.privateKey, { alg: 'EdDSA' })).toThrow(
      TypeError,
    );
  });
});

describe('toSigningKeyRecord / fromSigningKeyRecord', () => {
  it.each(ALL)('%s: the record seals the private key, and the loaded key signs and verifies', (alg) => {
    const key = keys[alg];
    const record = toSigningKeyRecord(key, { encryptionKey, createdAt: 1000, activatesAt: 2000 });
    expect(record).toMatchObject({
      kid: key.kid,
      alg,
      createdAt: 1000,
      activatesAt: 2000,
      retiredAt: null,
      expiresAt: null,
    });
    expect(record.publicJwk === null).toBe(alg === 'HS256');
    // Nothing of the private key in clear.
    const serialized = JSON.stringify(record);
    const der = exportPrivateKey(key.privateKey, { alg });
    expect(serialized).not.toContain(der.toString('base64url').slice(-24));
    expect(serialized).not.toContain(der.toString('base64').slice(-24));
    expect(serialized).not.toContain('"d"');
    expect(serialized).not.toContain('PRIVATE');

    const loaded = fromSigningKeyRecord(record, encryptionKey);
    expect(loaded.kid).toBe(key.kid);
    expect(loaded.privateKey.equals(key.privateKey)).toBe(true);
    expect(loaded.publicJwk).toEqual(key.publicJwk);
    const now = 1_800_000_000;
    const token = signAccessToken(
      { iss: 'i', aud: 'a', sub: 's', iat: now, exp: now + 60, jti: 'j' },
      { kid: loaded.kid, alg, privateKey: loaded.privateKey },
    );
    const verifier = createAccessTokenVerifier({
      issuer: 'i',
      audience: 'a',
      algorithms: [alg],
      keys: (kid) => (kid === loaded.kid ? { kid, alg, key: loaded.verificationKey } : undefined),
      clock: () => now * 1000,
    });
    expect(verifier.verify(token).claims.sub).toBe('s');
  });

  it('a wrong master secret fails with the kid and a hint', () => {
    const record = toSigningKeyRecord(keys.EdDSA, { encryptionKey, createdAt: 0, activatesAt: 0 });
    const wrong = deriveKey(Buffer.from('not the master secret that sealed it!!'), 'signing-keys');
    expectConfigInvalid(
      () => fromSigningKeyRecord(record, wrong),
      `cannot decrypt signing key ${keys.EdDSA.kid}: wrong LATCHKEY_SECRET?`,
    );
  });

  it('detects a publicJwk swapped for another key, and a changed alg', async () => {
    const record = toSigningKeyRecord(keys.EdDSA, { encryptionKey, createdAt: 0, activatesAt: 0 });
    const o = await generateSigningKey('EdDSA');
    const swapped = { ...record, publicJwk: JSON.stringify({ ...o.publicJwk, kid: record.kid }) };
    expectConfigInvalid(() => fromSigningKeyRecord(swapped, encryptionKey), /does not match its private key/);
    expectConfigInvalid(
      () => fromSigningKeyRecord({ ...record, publicJwk: null }, encryptionKey),
      /does not match/,
    );
    expectConfigInvalid(
      () => fromSigningKeyRecord({ ...record, alg: 'RS256' }, encryptionKey),
      /not a valid RS256 key/,
    );
    expectConfigInvalid(
      () => fromSigningKeyRecord({ ...record, alg: 'HS256' }, encryptionKey),
      /not a valid HS256 key/,
    );
    expectConfigInvalid(
      () => fromSigningKeyRecord({ ...record, alg: 'none' as KeyAlgorithm }, encryptionKey),
      /unsupported alg/,
    );
  });
});

describe('importPublicJWK', () => {
  it.each(['EdDSA', 'ES256', 'RS256'] as const)('imports a published %s JWK, bound to its alg', (alg) => {
    const imported = importPublicJWK(keys[alg].publicJwk);
    expect(imported.alg).toBe(alg);
    expect(imported.kid).toBe(keys[alg].kid);
    expect(imported.key.type).toBe('public');
    expect(imported.key.equals(keys[alg].publicKey ?? imported.key)).toBe(true);
  });

  it('refuses private members, symmetric keys, mismatched kty/alg, and missing kid/alg', () => {
    const ed = keys.EdDSA.publicJwk ?? {};
    const privateJwk = { ...keys.EdDSA.privateKey.export({ format: 'jwk' }), kid: 'k', alg: 'EdDSA' };
    expect(() => importPublicJWK(privateJwk)).toThrow(/private members/);
    expect(() => importPublicJWK({ kty: 'oct', k: 'AAAA', kid: 'k', alg: 'HS256' })).toThrow(TypeError);
    expect(() => importPublicJWK({ ...ed, alg: 'ES256' })).toThrow(/do not fit/);
    expect(() => importPublicJWK({ ...ed, kid: undefined })).toThrow(/"kid"/);
    expect(() => importPublicJWK({ ...ed, alg: undefined })).toThrow(/"alg"/);
    expect(() => importPublicJWK({ ...ed, use: 'enc' })).toThrow(/"use"/);
    expect(() => importPublicJWK({ ...ed, x: 'AAAA' })).toThrow(TypeError);
    expect(() => importPublicJWK(null)).toThrow(TypeError);
  });
});
