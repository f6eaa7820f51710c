/**
 * A software WebAuthn authenticator for HTTP tests without a browser: it makes a P-256 key per
 * credential, answers creation options with a `none` attestation and request options with a
 * signed assertion (user present and verified, the counter growing), as a platform authenticator
 * would. The browser tests use Chromium's virtual authenticator instead; this one lets the API's
 * rules be attacked in process. Its CBOR encoder knows only what these two documents need.
 */

import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

type CBOR = number | string | Uint8Array | Map<CBOR, CBOR>;

function head(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) return Buffer.from([(major << 5) | 25, length >> 8, length & 0xff]);
  const out = Buffer.alloc(5);
  out[0] = (major << 5) | 26;
  out.writeUInt32BE(length, 1);
  return out;
}

function cbor(value: CBOR): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  const parts = [head(5, value.size)];
  for (const [key, entry] of value) parts.push(cbor(key), cbor(entry));
  return Buffer.concat(parts);
}

const sha256 = (data: Buffer | string): Buffer => createHash('sha256').update(data).digest();
const b64u = (data: Buffer): string => data.toString('base64url');

interface Credential {
  id: Buffer;
  privateKey: KeyObject;
  userHandle: string;
  counter: number;
}

export interface SoftAuthenticator {
  /** Answers `navigator.credentials.create()` options (as the server sent them). */
  create(options: { challenge: string; rp: { id?: string }; user: { id: string } }): Record<string, unknown>;
  /** Answers `navigator.credentials.get()` options with the credential `id` (default: the last made). */
  get(options: { challenge: string; rpId?: string }, id?: string): Record<string, unknown>;
  /** The credential ids made so far, base64url. */
  readonly ids: string[];
}

/**
 * @example
 * const authenticator = createSoftAuthenticator('https://auth.example.test');
 * const response = authenticator.create(await (await post('/v1/passkeys/register/options')).json());
 */
export function createSoftAuthenticator(origin: string): SoftAuthenticator {
  const credentials = new Map<string, Credential>();
  const clientData = (type: string, challenge: string): Buffer =>
    Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }), 'utf8');
  const rpIdOf = (rpId: string | undefined): string => rpId ?? new URL(origin).hostname;
  // UP (0x01) | UV (0x04); AT (0x40) when credential data follows.
  const FLAGS = 0x05;

  return {
    get ids() {
      return [...credentials.keys()];
    },
    create(options) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = publicKey.export({ format: 'jwk' });
      const id = randomBytes(16);
      const coseKey = cbor(
        new Map<CBOR, CBOR>([
          [1, 2],
          [3, -7],
          [-1, 1],
          [-2, Buffer.from(jwk.x ?? '', 'base64url')],
          [-3, Buffer.from(jwk.y ?? '', 'base64url')],
        ]),
      );
      const length = Buffer.alloc(2);
      length.writeUInt16BE(id.length);
      const authData = Buffer.concat([
        sha256(rpIdOf(options.rp.id)),
        Buffer.from([FLAGS | 0x40]),
        Buffer.alloc(4),
        Buffer.alloc(16),
        length,
        id,
        coseKey,
      ]);
      const attestationObject = cbor(
        new Map<CBOR, CBOR>([
          ['fmt', 'none'],
          ['attStmt', new Map()],
          ['authData', authData],
        ]),
      );
      credentials.set(b64u(id), { id, privateKey, userHandle: options.user.id, counter: 0 });
      return {
        id: b64u(id),
        rawId: b64u(id),
        type: 'public-key',
        authenticatorAttachment: 'platform',
        clientExtensionResults: {},
        response: {
          clientDataJSON: b64u(clientData('webauthn.create', options.challenge)),
          attestationObject: b64u(attestationObject),
          transports: ['internal'],
        },
      };
    },
    get(options, id) {
      const credential = credentials.get(id ?? [...credentials.keys()].at(-1) ?? '');
      if (credential === undefined) throw new Error('no such credential');
      credential.counter += 1;
      const counter = Buffer.alloc(4);
      counter.writeUInt32BE(credential.counter);
      const authData = Buffer.concat([sha256(rpIdOf(options.rpId)), Buffer.from([FLAGS]), counter]);
      const data = clientData('webauthn.get', options.challenge);
      const signature = sign('sha256', Buffer.concat([authData, sha256(data)]), credential.privateKey);
      return {
        id: b64u(credential.id),
        rawId: b64u(credential.id),
        type: 'public-key',
        authenticatorAttachment: 'platform',
        clientExtensionResults: {},
        response: {
          clientDataJSON: b64u(data),
          authenticatorData: b64u(authData),
          signature: b64u(signature),
          userHandle: credential.userHandle,
        },
      };
    },
  };
}
