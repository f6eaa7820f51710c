/**
 * Signing-key material: generation, public JWK export and import, and encryption at rest.
 *
 * Private keys leave memory only as PKCS#8 DER (HS256: the raw secret) sealed with AES-256-GCM
 * under a key derived from the master secret, with the `kid` as additional authenticated data
 * so that a sealed key cannot be moved to another record.
 */

import {
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPair,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import { LatchkeyError } from '../errors.js';
import { seal, openSealed, SealError } from '../lib/seal.js';
import { randomId } from '../lib/secrets.js';
import type { KeyAlgorithm, SigningKeyRecord } from '../records.js';
import { getKeyAlgorithm, KEY_ALGORITHMS, type VerificationKey } from './algorithms.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** A public JSON Web Key as published in the JWKS: public members only, plus kid, use and alg. */
export interface PublicJWK {
  readonly kty: 'OKP' | 'EC' | 'RSA';
  readonly crv?: string;
  readonly x?: string;
  readonly y?: string;
  readonly n?: string;
  readonly e?: string;
  readonly kid: string;
  readonly use: 'sig';
  readonly alg: KeyAlgorithm;
}

/** A freshly generated key. `publicKey` and `publicJwk` are null for HS256 (never published). */
export interface GeneratedSigningKey {
  readonly kid: string;
  readonly alg: KeyAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject | null;
  readonly publicJwk: PublicJWK | null;
}

/** A key read back from its record: ready to sign (`privateKey`) and verify (`verificationKey`). */
export interface LoadedSigningKey {
  readonly kid: string;
  readonly alg: KeyAlgorithm;
  readonly privateKey: KeyObject;
  /** The public key; for HS256, the secret key itself. */
  readonly verificationKey: KeyObject;
  readonly publicJwk: PublicJWK | null;
}

/**
 * Options of `generateSigningKey`.
 *
 * @example
 * await generateSigningKey('RS256', { rsaModulusLength: 3072 });
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3.3 RSA keys of 2048 bits or more
 */
export interface GenerateSigningKeyOptions {
  /** Defaults to 16 random bytes, base64url. */
  kid?: string;
  /** RSA modulus length for RS256. Default 2048. */
  rsaModulusLength?: 2048 | 3072 | 4096;
}

const HS256_SECRET_BYTES = 32;

/**
 * Generates a signing key: Ed25519 for EdDSA, P-256 for ES256, RSA (2048 bits by default) for
 * RS256, 32 random bytes for HS256. Asynchronous so that RSA generation does not block the
 * event loop.
 *
 * @example
 * const key = await generateSigningKey('EdDSA');
 * key.publicJwk; // { kty: 'OKP', crv: 'Ed25519', x, kid, use: 'sig', alg: 'EdDSA' }
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3.1
 * @see https://www.rfc-editor.org/rfc/rfc8037#section-3.1
 */
export async function generateSigningKey(
  alg: KeyAlgorithm,
  options: GenerateSigningKeyOptions = {},
): Promise<GeneratedSigningKey> {
  assertAlgorithm(alg);
  const kid = options.kid ?? randomId();
  if (typeof kid !== 'string' || kid.length === 0)
    throw new TypeError('"options.kid" must be a non-empty string');
  if (alg === 'HS256') {
    return {
      kid,
      alg,
      privateKey: createSecretKey(randomBytes(HS256_SECRET_BYTES)),
      publicKey: null,
      publicJwk: null,
    };
  }
  let pair: { publicKey: KeyObject; privateKey: KeyObject };
  switch (alg) {
    case 'EdDSA':
      pair = await generateKeyPairAsync('ed25519');
      break;
    case 'ES256':
      pair = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
      break;
    case 'RS256':
      pair = await generateKeyPairAsync('rsa', {
        modulusLength: options.rsaModulusLength ?? 2048,
        publicExponent: 0x10001,
      });
      break;
  }
  return {
    kid,
    alg,
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    publicJwk: exportPublicJWK(pair.publicKey, { kid, alg }),
  };
}

/**
 * The public JWK of `publicKey` (a private key works too: its public half is taken), with only
 * the public members (`kty`, `crv`, `x`, `y`, `n`, `e`) plus `kid`, `use: 'sig'` and `alg`.
 *
 * @example
 * exportPublicJWK(key.publicKey, { kid: key.kid, alg: 'ES256' });
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-4
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-6
 */
export function exportPublicJWK(
  publicKey: KeyObject,
  options: { kid: string; alg: KeyAlgorithm },
): PublicJWK {
  const { kid, alg } = options;
  const key = publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey;
  if (key.type !== 'public' || getKeyAlgorithm(key) !== alg || alg === 'HS256') {
    throw new TypeError(`"publicKey" is not an ${alg} public key`);
  }
  const jwk = key.export({ format: 'jwk' });
  switch (alg) {
    case 'EdDSA':
      return { kty: 'OKP', crv: 'Ed25519', x: requireMember(jwk.x), kid, use: 'sig', alg };
    case 'ES256':
      return {
        kty: 'EC',
        crv: 'P-256',
        x: requireMember(jwk.x),
        y: requireMember(jwk.y),
        kid,
        use: 'sig',
        alg,
      };
    case 'RS256':
      return { kty: 'RSA', n: requireMember(jwk.n), e: requireMember(jwk.e), kid, use: 'sig', alg };
  }
}

/**
 * Turns a published JWK into a `VerificationKey` bound to its `alg`. Requires `kid` and `alg`,
 * checks that `kty`/`crv` fit the `alg`, refuses private members and symmetric keys, and keeps
 * only the public members when importing. Throws a `TypeError` naming the problem.
 *
 * @example
 * const keys = new Map(jwks.keys.map((jwk) => { const k = importPublicJWK(jwk); return [k.kid, k]; }));
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-4
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.1
 */
export function importPublicJWK(jwk: unknown): VerificationKey {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
    throw new TypeError('JWK must be an object');
  const { kty, crv, x, y, n, e, kid, alg, use, d } = jwk as Record<string, unknown>;
  if (typeof kid !== 'string' || kid.length === 0)
    throw new TypeError('JWK "kid" must be a non-empty string');
  if (typeof alg !== 'string' || !KEY_ALGORITHMS.includes(alg as KeyAlgorithm) || alg === 'HS256') {
    throw new TypeError('JWK "alg" must be EdDSA, ES256 or RS256');
  }
  if (use !== undefined && use !== 'sig') throw new TypeError('JWK "use" must be "sig"');
  if (d !== undefined) throw new TypeError('JWK must not contain private members');
  let members: Record<string, unknown>;
  if (alg === 'EdDSA' && kty === 'OKP' && crv === 'Ed25519') members = { kty, crv, x };
  else if (alg === 'ES256' && kty === 'EC' && crv === 'P-256') members = { kty, crv, x, y };
  else if (alg === 'RS256' && kty === 'RSA') members = { kty, n, e };
  else throw new TypeError(`JWK "kty"/"crv" do not fit "alg" ${alg}`);
  for (const [name, value] of Object.entries(members)) {
    if (typeof value !== 'string') throw new TypeError(`JWK "${name}" must be a string`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: members, format: 'jwk' });
  } catch (cause) {
    throw new TypeError(`JWK ${kid} is not a valid ${alg} public key`, { cause });
  }
  if (getKeyAlgorithm(key) !== alg) throw new TypeError(`JWK ${kid} is not a valid ${alg} public key`);
  return { kid, alg, key };
}

/**
 * Serializes a private key for storage: PKCS#8 DER, or the raw secret for HS256. The caller
 * seals the result with `encryptPrivateKey` and should zero it afterwards.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5208
 */
export function exportPrivateKey(privateKey: KeyObject, options: { alg: KeyAlgorithm }): Buffer {
  const { alg } = options;
  const expectedType = alg === 'HS256' ? 'secret' : 'private';
  if (privateKey.type !== expectedType || getKeyAlgorithm(privateKey) !== alg) {
    throw new TypeError(`"privateKey" is not an ${alg} ${expectedType} key`);
  }
  return alg === 'HS256' ? privateKey.export() : privateKey.export({ format: 'der', type: 'pkcs8' });
}

/**
 * Parses what `exportPrivateKey` produced and checks that it fits `alg` (an HS256 secret must be
 * exactly 32 bytes). Throws a `TypeError` otherwise.
 */
export function importPrivateKey(bytes: Uint8Array, options: { alg: KeyAlgorithm }): KeyObject {
  const { alg } = options;
  assertAlgorithm(alg);
  if (alg === 'HS256') {
    if (bytes.length !== HS256_SECRET_BYTES) throw new TypeError('HS256 secret must be 32 bytes');
    return createSecretKey(Buffer.from(bytes));
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(bytes), format: 'der', type: 'pkcs8' });
  } catch (cause) {
    throw new TypeError(`not a PKCS#8 ${alg} private key`, { cause });
  }
  if (getKeyAlgorithm(key) !== alg) throw new TypeError(`not a PKCS#8 ${alg} private key`);
  return key;
}

/**
 * Seals key material with AES-256-GCM: random 12-byte IV, `kid` as additional authenticated
 * data. Returns `v1.<iv>.<ciphertext>.<tag>`, each part base64url.
 *
 * @example
 * const sealed = encryptPrivateKey(der, { kid, encryptionKey: deriveKey(master, 'signing-keys') });
 * @see https://nvlpubs.nist.gov/nistpubs/Legacy/SP/nistspecialpublication800-38d.pdf
 */
export function encryptPrivateKey(
  plaintext: Uint8Array,
  options: { kid: string; encryptionKey: Uint8Array },
): string {
  assertEncryptionKey(options.encryptionKey);
  return seal(plaintext, { label: options.kid, key: options.encryptionKey });
}

/**
 * Opens what `encryptPrivateKey` sealed. A wrong key, a different `kid` or any tampering fails
 * with `LatchkeyError('config_invalid')` naming the kid and the likely cause.
 */
export function decryptPrivateKey(
  sealed: string,
  options: { kid: string; encryptionKey: Uint8Array },
): Buffer {
  const { kid, encryptionKey } = options;
  assertEncryptionKey(encryptionKey);
  try {
    return openSealed(sealed, { label: kid, key: encryptionKey });
  } catch (cause) {
    if (cause instanceof SealError && cause.reason === 'malformed') {
      throw new LatchkeyError('config_invalid', `signing key ${kid} is malformed in the store`);
    }
    throw new LatchkeyError('config_invalid', `cannot decrypt signing key ${kid}: wrong LATCHKEY_SECRET?`, {
      cause,
    });
  }
}

/**
 * The store record of a generated key, its private material sealed with `encryptionKey`.
 * `retiredAt` and `expiresAt` start null.
 *
 * @example
 * await store.insertKey(toSigningKeyRecord(key, { encryptionKey, createdAt: now, activatesAt: now }));
 */
export function toSigningKeyRecord(
  key: GeneratedSigningKey,
  options: { encryptionKey: Uint8Array; createdAt: number; activatesAt: number },
): SigningKeyRecord {
  const plaintext = exportPrivateKey(key.privateKey, { alg: key.alg });
  try {
    return {
      kid: key.kid,
      alg: key.alg,
      publicJwk: key.publicJwk === null ? null : JSON.stringify(key.publicJwk),
      encryptedPrivateKey: encryptPrivateKey(plaintext, {
        kid: key.kid,
        encryptionKey: options.encryptionKey,
      }),
      createdAt: options.createdAt,
      activatesAt: options.activatesAt,
      retiredAt: null,
      expiresAt: null,
    };
  } finally {
    plaintext.fill(0);
  }
}

/**
 * Reads a record back: decrypts and parses the private key, derives the public key from it and
 * checks that the stored public JWK matches (so a tampered `publicJwk` column is detected
 * rather than published). Fails with `LatchkeyError('config_invalid')`.
 */
export function fromSigningKeyRecord(record: SigningKeyRecord, encryptionKey: Uint8Array): LoadedSigningKey {
  const { kid, alg } = record;
  if (!KEY_ALGORITHMS.includes(alg)) {
    throw new LatchkeyError('config_invalid', `signing key ${kid} has an unsupported alg`);
  }
  const plaintext = decryptPrivateKey(record.encryptedPrivateKey, { kid, encryptionKey });
  let privateKey: KeyObject;
  try {
    privateKey = importPrivateKey(plaintext, { alg });
  } catch (cause) {
    throw new LatchkeyError('config_invalid', `signing key ${kid} is not a valid ${alg} key`, { cause });
  } finally {
    plaintext.fill(0);
  }
  if (alg === 'HS256') {
    if (record.publicJwk !== null) {
      throw new LatchkeyError('config_invalid', `signing key ${kid} is HS256 but has a public JWK`);
    }
    return { kid, alg, privateKey, verificationKey: privateKey, publicJwk: null };
  }
  const verificationKey = createPublicKey(privateKey);
  const publicJwk = exportPublicJWK(verificationKey, { kid, alg });
  if (record.publicJwk === null || !sameJWK(record.publicJwk, publicJwk)) {
    throw new LatchkeyError(
      'config_invalid',
      `signing key ${kid}: stored public key does not match its private key`,
    );
  }
  return { kid, alg, privateKey, verificationKey, publicJwk };
}

function sameJWK(stored: string, derived: PublicJWK): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return false;
  }
  if (typeof parsed !== 'object' || parsed === null) return false;
  const record = parsed as Record<string, unknown>;
  return (['kty', 'crv', 'x', 'y', 'n', 'e', 'kid', 'alg'] as const).every(
    (name) => record[name] === derived[name],
  );
}

function requireMember(value: string | undefined): string {
  if (typeof value !== 'string') throw new TypeError('exported JWK lacks a member');
  return value;
}

function assertAlgorithm(alg: KeyAlgorithm): void {
  if (!KEY_ALGORITHMS.includes(alg)) throw new TypeError(`"alg" must be one of ${KEY_ALGORITHMS.join(', ')}`);
}

function assertEncryptionKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== 32)
    throw new TypeError('"encryptionKey" must be 32 bytes');
}
