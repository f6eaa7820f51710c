import {
  constants,
  createHmac,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  randomBytes,
  sign as cryptoSign,
  type KeyObject,
} from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AUD, claims, ISS, NOW, START } from '../helpers/claims.js';
import { createManualClock } from '../../src/clock.js';
import { LatchkeyError } from '../../src/errors.js';
import type { KeyAlgorithm } from '../../src/records.js';
import {
  createAccessTokenVerifier,
  signAccessToken,
  type AccessTokenClaims,
  type AccessTokenSigningKey,
  type AccessTokenVerifierOptions,
  type VerificationKey,
} from '../../src/token/jwt.js';

// Keys are made here with node:crypto directly, independent of src/keys.
const ed = generateKeyPairSync('ed25519');
const es = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rs = generateKeyPairSync('rsa', { modulusLength: 2048 });
const hsSecret = randomBytes(32);
const hs = createSecretKey(hsSecret);

const signers: Record<KeyAlgorithm, AccessTokenSigningKey> = {
  EdDSA: { kid: 'ed-1', alg: 'EdDSA', privateKey: ed.privateKey },
  ES256: { kid: 'es-1', alg: 'ES256', privateKey: es.privateKey },
  RS256: { kid: 'rs-1', alg: 'RS256', privateKey: rs.privateKey },
  HS256: { kid: 'hs-1', alg: 'HS256', privateKey: hs },
};
const verificationKeys: VerificationKey[] = [
  { kid: 'ed-1', alg: 'EdDSA', key: ed.publicKey },
  { kid: 'es-1', alg: 'ES256', key: es.publicKey },
  { kid: 'rs-1', alg: 'RS256', key: rs.publicKey },
  { kid: 'hs-1', alg: 'HS256', key: hs },
];
const ALL: KeyAlgorithm[] = ['EdDSA', 'ES256', 'RS256', 'HS256'];

function makeVerifier(overrides: Partial<AccessTokenVerifierOptions> = {}): {
  verify: (token: string) => ReturnType<ReturnType<typeof createAccessTokenVerifier>['verify']>;
  clock: ReturnType<typeof createManualClock>;
  keys: Map<string, VerificationKey>;
} {
  const clock = createManualClock(START);
  const keys = new Map(verificationKeys.map((k) => [k.kid, k]));
  const verifier = createAccessTokenVerifier({
    issuer: ISS,
    audience: AUD,
    algorithms: ALL,
    keys: (kid) => keys.get(kid),
    clock,
    cache: false,
    ...overrides,
  });
  return { verify: (token) => verifier.verify(token), clock, keys };
}

const b64 = (value: string | Uint8Array): string => Buffer.from(value).toString('base64url');

type RawSigner = (input: Buffer) => Buffer;

function rawSigner(alg: KeyAlgorithm, key: KeyObject | Uint8Array): RawSigner {
  switch (alg) {
    case 'EdDSA':
      return (input) => cryptoSign(null, input, key as KeyObject);
    case 'ES256':
      return (input) => cryptoSign('sha256', input, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
    case 'RS256':
      return (input) =>
        cryptoSign('sha256', input, { key: key as KeyObject, padding: constants.RSA_PKCS1_PADDING });
    case 'HS256':
      return (input) => createHmac('sha256', key).update(input).digest();
  }
}

/** Builds a correctly signed token from raw JSON texts, so that only the rule under test breaks. */
function forgeRaw(headerJSON: string, payloadJSON: string, signer: RawSigner): string {
  const input = `${b64(headerJSON)}.${b64(payloadJSON)}`;
  return `${input}.${b64(signer(Buffer.from(input)))}`;
}

function forge(
  header: Record<string, unknown>,
  payload: Record<string, unknown> = claims(),
  signer: RawSigner = rawSigner(String(header.alg) as KeyAlgorithm, ed.privateKey),
): string {
  return forgeRaw(JSON.stringify(header), JSON.stringify(payload), signer);
}

const edHeader = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  alg: 'EdDSA',
  kid: 'ed-1',
  typ: 'at+jwt',
  ...extra,
});
const edSigner = rawSigner('EdDSA', ed.privateKey);

function expectInvalid(run: () => unknown, detail: string | RegExp, token?: string): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(LatchkeyError);
  const error = caught as LatchkeyError;
  expect(error.code).toBe('invalid_token');
  expect(error.status).toBe(401);
  if (typeof detail === 'string') expect(error.message).toBe(detail);
  else expect(error.message).toMatch(detail);
  if (token !== undefined) {
    // Never echo the token, or any of its parts.
    for (const part of token.split('.')) {
      if (part.length >= 8) expect(error.message).not.toContain(part.slice(0, 8));
    }
  }
}

describe('signAccessToken', () => {
  it.each(ALL)('%s tokens have header {alg, kid, typ: at+jwt} and verify', (alg) => {
    const token = signAccessToken(claims() as unknown as AccessTokenClaims, signers[alg]);
    const [header] = token.split('.');
    expect(JSON.parse(Buffer.from(header ?? '', 'base64url').toString())).toEqual({
      alg,
      kid: signers[alg].kid,
      typ: 'at+jwt',
    });
    const { verify } = makeVerifier();
    const result = verify(token);
    expect(result.header).toEqual({ alg, kid: signers[alg].kid, typ: 'at+jwt' });
    expect(result.claims).toMatchObject({
      iss: ISS,
      aud: AUD,
      sub: 'user-1',
      sid: 'session-1',
      jti: 'jti-1',
    });
    expect(result.claims.roles).toEqual(['admin']);
    expect(result.claims.scope).toBe('read write');
    expect(Object.isFrozen(result.claims)).toBe(true);
    expect(Object.isFrozen(result.claims.roles)).toBe(true);
  });

  it('ES256 signatures are raw R||S (64 bytes), not DER', () => {
    const token = signAccessToken(claims() as unknown as AccessTokenClaims, signers.ES256);
    expect(Buffer.from(token.split('.')[2] ?? '', 'base64url')).toHaveLength(64);
  });

  it('accepts machine-client claims without sid, with client_id', () => {
    const token = signAccessToken(
      claims({ client_id: 'svc-1', sid: undefined }) as unknown as AccessTokenClaims,
      signers.EdDSA,
    );
    const result = makeVerifier().verify(token);
    expect(result.claims.sid).toBeUndefined();
    expect(result.claims.client_id).toBe('svc-1');
  });

  it('refuses a key that does not fit its alg, and incomplete claims', () => {
    const c = claims() as unknown as AccessTokenClaims;
    expect(() => signAccessToken(c, { kid: 'x', alg: 'HS256', privateKey: ed.privateKey })).toThrow(
      TypeError,
    );
    expect(() => signAccessToken(c, { kid: 'x', alg: 'EdDSA', privateKey: es.privateKey })).toThrow(
      TypeError,
    );
    expect(() => signAccessToken(c, { kid: 'x', alg: 'EdDSA', privateKey: ed.publicKey })).toThrow(TypeError);
    expect(() =>
      signAccessToken(c, { kid: 'x', alg: 'HS256', privateKey: createSecretKey(randomBytes(16)) }),
    ).toThrow(/HS256/);
    expect(() => signAccessToken(claims({ sub: '' }) as unknown as AccessTokenClaims, signers.EdDSA)).toThrow(
      /claims.sub/,
    );
    expect(() =>
      signAccessToken(claims({ exp: NOW - 1 }) as unknown as AccessTokenClaims, signers.EdDSA),
    ).toThrow(/claims.exp/);
  });
});

describe('createAccessTokenVerifier: configuration', () => {
  const base = { issuer: ISS, audience: AUD, algorithms: ['EdDSA'] as KeyAlgorithm[], keys: () => undefined };
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['missing issuer', { issuer: undefined }, /"issuer"/],
    ['empty issuer', { issuer: '' }, /"issuer"/],
    ['missing audience', { audience: undefined }, /"audience"/],
    ['empty audience', { audience: '' }, /"audience"/],
    ['empty audience array', { audience: [] }, /"audience"/],
    ['missing algorithms', { algorithms: undefined }, /"algorithms"/],
    ['empty algorithms', { algorithms: [] }, /"algorithms"/],
    ['unknown algorithm', { algorithms: ['PS256'] }, /"algorithms"/],
    ['none', { algorithms: ['none'] }, /"algorithms" must not contain "none"/],
    ['NONE among others', { algorithms: ['EdDSA', 'NONE'] }, /"algorithms" must not contain "none"/],
    ['missing keys', { keys: undefined }, /"keys"/],
    ['negative clockTolerance', { clockTolerance: -1 }, /"clockTolerance"/],
    ['zero maxTokenLength', { maxTokenLength: 0 }, /"maxTokenLength"/],
    ['cache of 0 entries', { cache: { maxEntries: 0 } }, /"cache.maxEntries"/],
    ['empty typ', { typ: '' }, /"typ"/],
  ];
  it.each(cases)('%s throws a TypeError naming the option', (_name, patch, message) => {
    const options = { ...base, ...patch } as unknown as AccessTokenVerifierOptions;
    expect(() => createAccessTokenVerifier(options)).toThrow(TypeError);
    expect(() => createAccessTokenVerifier(options)).toThrow(message);
  });
});

describe('verify: structure', () => {
  const { verify } = makeVerifier();
  const good = signAccessToken(claims() as unknown as AccessTokenClaims, signers.EdDSA);
  const [h = '', p = '', s = ''] = good.split('.');

  const signed = (head: string, body: string): string => {
    const input = `${head}.${body}`;
    return `${input}.${b64(edSigner(Buffer.from(input)))}`;
  };

  it('accepts the well-formed token', () => {
    expect(verify(good).claims.sub).toBe('user-1');
  });

  it('refuses anything but exactly three parts', () => {
    expectInvalid(() => verify(`${h}.${p}`), 'token must have three parts', good);
    expectInvalid(() => verify(`${h}.${p}.${s}.`), 'token must have three parts', good);
    expectInvalid(() => verify(`${h}.${p}.${s}.${s}`), 'token must have three parts', good);
    expectInvalid(() => verify(h), 'token must have three parts');
    expectInvalid(() => verify(''), 'token missing');
    expectInvalid(() => verify(undefined as unknown as string), 'token missing');
  });

  it('refuses tokens longer than maxTokenLength before parsing them', () => {
    const small = makeVerifier({ maxTokenLength: good.length - 1 });
    expectInvalid(() => small.verify(good), 'token too long', good);
    const huge = forge(edHeader(), claims({ pad: 'x'.repeat(9000) }), edSigner);
    expectInvalid(() => verify(huge), 'token too long', huge);
  });

  it('refuses base64 padding in any part', () => {
    // An Ed25519 signature is 64 bytes: its base64 has one '=' of padding.
    expectInvalid(() => verify(`${h}.${p}.${s}=`), 'signature is not base64url', good);
    const headerJSON = [0, 1, 2]
      .map((n) => JSON.stringify(edHeader({ x: 'a'.repeat(n) })))
      .find((json) => Buffer.byteLength(json) % 3 !== 0);
    const paddedHeader = Buffer.from(headerJSON ?? '').toString('base64');
    expect(paddedHeader.endsWith('=')).toBe(true);
    const input = `${paddedHeader}.${p}`;
    const token = `${input}.${b64(edSigner(Buffer.from(input)))}`;
    expectInvalid(() => verify(token), 'header is not base64url', token);
    const paddedPayload = `${p}${'='.repeat((4 - (p.length % 4)) % 4 || 4)}`;
    expectInvalid(() => verify(signed(h, paddedPayload)), 'payload is not base64url');
  });

  it("refuses the standard alphabet ('+' and '/')", () => {
    // Header and payload texts chosen so that their base64 contains '+' or '/'.
    const headerJSON = JSON.stringify(edHeader({ n: '>>>???' }));
    const std = Buffer.from(headerJSON).toString('base64').replace(/=+$/, '');
    expect(std).toMatch(/[+/]/);
    const input = `${std}.${p}`;
    const token = `${input}.${b64(edSigner(Buffer.from(input)))}`;
    expectInvalid(() => verify(token), 'header is not base64url', token);
    const payloadStd = Buffer.from(JSON.stringify(claims({ scope: '>>>???' })))
      .toString('base64')
      .replace(/=+$/, '');
    expect(payloadStd).toMatch(/[+/]/);
    expectInvalid(() => verify(signed(h, payloadStd)), 'payload is not base64url');
    for (let jti = 0; jti < 50; jti++) {
      const other = signAccessToken(
        claims({ jti: String(jti) }) as unknown as AccessTokenClaims,
        signers.EdDSA,
      );
      const [oh = '', op = '', os = ''] = other.split('.');
      const sigStd = Buffer.from(os, 'base64url').toString('base64').replace(/=+$/, '');
      if (!/[+/]/.test(sigStd)) continue;
      expect(verify(other).claims.jti).toBe(String(jti));
      expectInvalid(() => verify(`${oh}.${op}.${sigStd}`), 'signature is not base64url', other);
      return;
    }
    throw new Error('no signature with + or / in 50 tries');
  });

  it('refuses whitespace anywhere', () => {
    expectInvalid(() => verify(`${h} .${p}.${s}`), 'header is not base64url');
    expectInvalid(() => verify(signed(h, `${p.slice(0, 8)}\n${p.slice(8)}`)), 'payload is not base64url');
    expectInvalid(() => verify(signed(h, `${p.slice(0, 8)}\t${p.slice(8)}`)), 'payload is not base64url');
    expectInvalid(() => verify(signed(`${h.slice(0, 8)} ${h.slice(8)}`, p)), 'header is not base64url');
    expectInvalid(() => verify(`${h}.${p}.${s.slice(0, 8)} ${s.slice(8)}`), 'signature is not base64url');
    expectInvalid(() => verify(` ${good}`), 'header is not base64url');
    expectInvalid(() => verify(`${good}\n`), 'signature is not base64url');
  });

  it('refuses non-canonical base64url (trailing bits set) that lenient decoders accept', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // In a segment of length 4k+2 or 4k+3 the last char has unused low bits, zero when canonical.
    const twin = (segment: string): string => {
      expect(segment.length % 4).not.toBe(0);
      const result = `${segment.slice(0, -1)}${alphabet[alphabet.indexOf(segment.at(-1) ?? 'A') + 1] ?? ''}`;
      expect(Buffer.from(result, 'base64url').equals(Buffer.from(segment, 'base64url'))).toBe(true);
      return result;
    };
    // 64-byte Ed25519 signature -> 86 chars.
    expectInvalid(() => verify(`${h}.${p}.${twin(s)}`), 'signature is not base64url');
    const header = [0, 1, 2]
      .map((n) => b64(JSON.stringify(edHeader({ x: 'a'.repeat(n) }))))
      .find((x) => x.length % 4 !== 0);
    const payload = [0, 1, 2]
      .map((n) => b64(JSON.stringify(claims({ x: 'a'.repeat(n) }))))
      .find((x) => x.length % 4 !== 0);
    expect(verify(signed(header ?? '', payload ?? '')).claims.sub).toBe('user-1');
    expectInvalid(() => verify(signed(twin(header ?? ''), payload ?? '')), 'header is not base64url');
    expectInvalid(() => verify(signed(header ?? '', twin(payload ?? ''))), 'payload is not base64url');
  });

  it('refuses header or payload that are not JSON objects', () => {
    expectInvalid(
      () => verify(forgeRaw('not json', JSON.stringify(claims()), edSigner)),
      'header is not UTF-8 JSON',
    );
    expectInvalid(
      () => verify(forgeRaw('["EdDSA"]', JSON.stringify(claims()), edSigner)),
      'header is not a JSON object',
    );
    expectInvalid(
      () => verify(forgeRaw('null', JSON.stringify(claims()), edSigner)),
      'header is not a JSON object',
    );
    expectInvalid(() => verify(`.${p}.${s}`), 'header is not base64url');
    const header = JSON.stringify(edHeader());
    expectInvalid(() => verify(forgeRaw(header, '"sub"', edSigner)), 'payload is not a JSON object');
    expectInvalid(() => verify(forgeRaw(header, '[1,2]', edSigner)), 'payload is not a JSON object');
    expectInvalid(() => verify(forgeRaw(header, '{"sub":', edSigner)), 'payload is not UTF-8 JSON');
    expectInvalid(
      () => verify(forgeRaw(header, `\ufeff${JSON.stringify(claims())}`, edSigner)),
      /payload is not/,
    );
  });

  it('refuses malformed UTF-8 instead of replacing it', () => {
    const headerBytes = Buffer.concat([
      Buffer.from(JSON.stringify(edHeader()).slice(0, -1)),
      Buffer.from(',"z":"\xff"}', 'latin1'),
    ]);
    const input = `${headerBytes.toString('base64url')}.${p}`;
    const token = `${input}.${b64(edSigner(Buffer.from(input)))}`;
    expectInvalid(() => verify(token), 'header is not UTF-8 JSON', token);
  });

  it('refuses duplicate member names in header and payload, even escaped', () => {
    const payload = JSON.stringify(claims());
    const dupHeader = '{"alg":"EdDSA","kid":"ed-1","typ":"at+jwt","alg":"EdDSA"}';
    expectInvalid(() => verify(forgeRaw(dupHeader, payload, edSigner)), 'header has duplicate members');
    const header = JSON.stringify(edHeader());
    const dupSub = payload.replace('{', '{"sub":"admin",');
    expectInvalid(() => verify(forgeRaw(header, dupSub, edSigner)), 'payload has duplicate members');
    const escaped = payload.replace('{', '{"s\\u0075b":"admin",');
    expectInvalid(() => verify(forgeRaw(header, escaped, edSigner)), 'payload has duplicate members');
    // The same name in different objects is not a duplicate.
    const nested = payload.replace('{', '{"a":{"sub":1,"x":[{"sub":2}]},"b":{"sub":"x,\\"sub\\""},');
    expect(verify(forgeRaw(header, nested, edSigner)).claims.sub).toBe('user-1');
  });
});

describe('verify: header rules', () => {
  const { verify } = makeVerifier();

  it.each(['none', 'None', 'NONE', 'nOnE'])('refuses alg %s, with or without a signature', (alg) => {
    const input = `${b64(JSON.stringify(edHeader({ alg })))}.${b64(JSON.stringify(claims()))}`;
    expectInvalid(() => verify(`${input}.`), 'alg none refused');
    expectInvalid(() => verify(`${input}.${b64(edSigner(Buffer.from(input)))}`), 'alg none refused');
  });

  it('refuses an alg outside the allow-list', () => {
    const edOnly = makeVerifier({ algorithms: ['EdDSA'] });
    const token = signAccessToken(claims() as unknown as AccessTokenClaims, signers.ES256);
    expectInvalid(() => edOnly.verify(token), 'alg not allowed', token);
    expectInvalid(() => verify(forge(edHeader({ alg: 'PS256' }), claims(), edSigner)), 'alg not allowed');
    expectInvalid(() => verify(forge(edHeader({ alg: 'eddsa' }), claims(), edSigner)), 'alg not allowed');
    expectInvalid(() => verify(forge(edHeader({ alg: undefined }), claims(), edSigner)), 'alg missing');
  });

  it("refuses an alg that is allowed but is not the resolved key's alg", () => {
    // Signed by the ES256 key, but kid names the EdDSA key.
    const token = forge(
      { alg: 'ES256', kid: 'ed-1', typ: 'at+jwt' },
      claims(),
      rawSigner('ES256', es.privateKey),
    );
    expectInvalid(() => verify(token), 'alg does not match key', token);
  });

  describe('algorithm confusion: HS256 with the public key as the HMAC secret', () => {
    const publicKeys: [string, KeyObject][] = [
      ['ed-1', ed.publicKey],
      ['es-1', es.publicKey],
      ['rs-1', rs.publicKey],
    ];
    for (const [kid, publicKey] of publicKeys) {
      const jwk = publicKey.export({ format: 'jwk' });
      const encodings: [string, Uint8Array][] = [
        ['PEM', Buffer.from(publicKey.export({ format: 'pem', type: 'spki' }))],
        ['DER/SPKI', publicKey.export({ format: 'der', type: 'spki' })],
        ['JWK JSON', Buffer.from(JSON.stringify(jwk))],
        ['JWK JSON with kid/alg', Buffer.from(JSON.stringify({ ...jwk, kid, use: 'sig' }))],
        [
          'raw bytes',
          kid === 'rs-1'
            ? publicKey.export({ format: 'der', type: 'pkcs1' })
            : kid === 'es-1'
              ? Buffer.concat([
                  Buffer.from([4]),
                  Buffer.from(jwk.x ?? '', 'base64url'),
                  Buffer.from(jwk.y ?? '', 'base64url'),
                ])
              : Buffer.from(jwk.x ?? '', 'base64url'),
        ],
        ['raw x coordinate', Buffer.from(jwk.x ?? jwk.n ?? '', 'base64url')],
      ];
      for (const [encoding, secret] of encodings) {
        it(`${kid} as ${encoding}`, () => {
          const hmac = rawSigner('HS256', secret);
          const asKid = forge({ alg: 'HS256', kid, typ: 'at+jwt' }, claims(), hmac);
          expectInvalid(() => verify(asKid), 'alg does not match key', asKid);
          const asHsKid = forge({ alg: 'HS256', kid: 'hs-1', typ: 'at+jwt' }, claims(), hmac);
          expectInvalid(() => verify(asHsKid), 'signature invalid', asHsKid);
          const pemString = forge(
            { alg: 'HS256', kid, typ: 'at+jwt' },
            claims(),
            rawSigner('HS256', Buffer.from(secret.toString())),
          );
          expectInvalid(() => verify(pemString), 'alg does not match key');
        });
      }
    }

    it('a resolver that binds HS256 to a public KeyObject is refused', () => {
      const confused = makeVerifier({
        keys: (kid) => (kid === 'x' ? { kid, alg: 'HS256', key: ed.publicKey } : undefined),
      });
      const token = forge(
        { alg: 'HS256', kid: 'x', typ: 'at+jwt' },
        claims(),
        rawSigner('HS256', ed.publicKey.export({ format: 'der', type: 'spki' })),
      );
      expectInvalid(() => confused.verify(token), 'key does not fit alg', token);
    });
  });

  it.each(['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256'])('refuses the %s header', (name) => {
    const values: Record<string, unknown> = {
      jwk: ed.publicKey.export({ format: 'jwk' }),
      jku: 'https://attacker.example/jwks.json',
      x5u: 'https://attacker.example/cert.pem',
      x5c: ['MIIB'],
      x5t: 'dGh1bWI',
      'x5t#S256': 'dGh1bWI',
    };
    const token = forge(edHeader({ [name]: values[name] }), claims(), edSigner);
    expectInvalid(() => verify(token), `${name} header refused`, token);
  });

  it('refuses crit with any member, and an empty crit', () => {
    expectInvalid(
      () => verify(forge(edHeader({ crit: ['exp'], exp: 1 }), claims(), edSigner)),
      'crit not supported',
    );
    expectInvalid(() => verify(forge(edHeader({ crit: [] }), claims(), edSigner)), 'crit not supported');
    expectInvalid(
      () => verify(forge(edHeader({ crit: ['b64'], b64: false }), claims(), edSigner)),
      'crit not supported',
    );
  });

  it('refuses b64 (RFC 7797 unencoded payload)', () => {
    expectInvalid(() => verify(forge(edHeader({ b64: false }), claims(), edSigner)), 'b64 not supported');
    expectInvalid(() => verify(forge(edHeader({ b64: true }), claims(), edSigner)), 'b64 not supported');
  });

  it('requires typ at+jwt, case-insensitively, with or without application/', () => {
    for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/At+Jwt']) {
      expect(verify(forge(edHeader({ typ }), claims(), edSigner)).header.typ).toBe(typ);
    }
    for (const typ of [
      undefined,
      'JWT',
      'jwt',
      'application/jwt',
      'at+jwt ',
      'application/application/at+jwt',
      1,
    ]) {
      expectInvalid(() => verify(forge(edHeader({ typ }), claims(), edSigner)), 'typ not allowed');
    }
  });

  it('requires a string kid and looks it up only through the resolver', () => {
    const seen: string[] = [];
    const keys = new Map(verificationKeys.map((k) => [k.kid, k]));
    const spy = makeVerifier({
      keys: (kid) => {
        seen.push(kid);
        return keys.get(kid);
      },
    });
    expectInvalid(
      () => spy.verify(forge(edHeader({ kid: undefined }), claims(), edSigner)),
      'kid missing or invalid',
    );
    expectInvalid(
      () => spy.verify(forge(edHeader({ kid: 7 }), claims(), edSigner)),
      'kid missing or invalid',
    );
    expectInvalid(
      () => spy.verify(forge(edHeader({ kid: '' }), claims(), edSigner)),
      'kid missing or invalid',
    );
    expectInvalid(
      () => spy.verify(forge(edHeader({ kid: ['ed-1'] }), claims(), edSigner)),
      'kid missing or invalid',
    );
    expectInvalid(
      () => spy.verify(forge(edHeader({ kid: 'k'.repeat(300) }), claims(), edSigner)),
      'kid missing or invalid',
    );
    expect(seen).toEqual([]);
    expectInvalid(
      () => spy.verify(forge(edHeader({ kid: '../../etc/passwd' }), claims(), edSigner)),
      'unknown kid',
    );
    expectInvalid(
      () => spy.verify(forge(edHeader({ kid: 'https://attacker.example/k' }), claims(), edSigner)),
      'unknown kid',
    );
    expect(seen).toEqual(['../../etc/passwd', 'https://attacker.example/k']);
  });
});

describe('verify: signature', () => {
  const { verify } = makeVerifier();

  it.each(ALL)('%s: refuses a flipped bit in signature, header or payload', (alg) => {
    const token = signAccessToken(claims() as unknown as AccessTokenClaims, signers[alg]);
    const [h = '', p = '', s = ''] = token.split('.');
    const sig = Buffer.from(s, 'base64url');
    sig[5] = (sig[5] ?? 0) ^ 1;
    expectInvalid(() => verify(`${h}.${p}.${b64(sig)}`), 'signature invalid', token);
    const tampered = b64(JSON.stringify(claims({ sub: 'admin' })));
    expectInvalid(() => verify(`${h}.${tampered}.${s}`), 'signature invalid', token);
    expectInvalid(() => verify(`${h}.${p}.`), 'signature invalid', token);
    expectInvalid(() => verify(`${h}.${p}.${s.slice(0, -4)}`), /signature/, token);
  });

  it('refuses an all-zero ES256 signature (r = s = 0)', () => {
    const token = signAccessToken(claims() as unknown as AccessTokenClaims, signers.ES256);
    const [h = '', p = ''] = token.split('.');
    expectInvalid(() => verify(`${h}.${p}.${b64(Buffer.alloc(64))}`), 'signature invalid');
  });

  it('refuses a token signed by another key under a known kid', () => {
    const other = generateKeyPairSync('ed25519');
    const token = forge(edHeader(), claims(), rawSigner('EdDSA', other.privateKey));
    expectInvalid(() => verify(token), 'signature invalid', token);
  });

  it('refuses keys too weak for their alg', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const v = makeVerifier({ keys: (kid) => ({ kid, alg: 'RS256', key: weak.publicKey }) });
    const token = forge(
      { alg: 'RS256', kid: 'weak', typ: 'at+jwt' },
      claims(),
      rawSigner('RS256', weak.privateKey),
    );
    expectInvalid(() => v.verify(token), 'key does not fit alg', token);
    const shortSecret = createSecretKey(randomBytes(16));
    const hv = makeVerifier({ keys: (kid) => ({ kid, alg: 'HS256', key: shortSecret }) });
    const hToken = forge(
      { alg: 'HS256', kid: 's', typ: 'at+jwt' },
      claims(),
      rawSigner('HS256', shortSecret),
    );
    expectInvalid(() => hv.verify(hToken), 'key does not fit alg', hToken);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const ev = makeVerifier({ keys: (kid) => ({ kid, alg: 'ES256', key: p384.publicKey }) });
    expectInvalid(
      () => ev.verify(forge({ alg: 'ES256', kid: 'e', typ: 'at+jwt' }, claims(), edSigner)),
      'key does not fit alg',
    );
  });
});

describe('verify: claims', () => {
  const { verify, clock } = makeVerifier();
  const t = (overrides: Record<string, unknown>): string => forge(edHeader(), claims(overrides), edSigner);

  it('iss must equal the issuer', () => {
    expectInvalid(() => verify(t({ iss: undefined })), 'iss missing');
    expectInvalid(() => verify(t({ iss: 'https://evil.example.com' })), 'iss mismatch');
    expectInvalid(() => verify(t({ iss: `${ISS}/` })), 'iss mismatch');
    expectInvalid(() => verify(t({ iss: [ISS] })), 'iss missing');
  });

  it('aud must contain the audience (string or array)', () => {
    expect(verify(t({ aud: [AUD] })).claims.aud).toEqual([AUD]);
    expect(verify(t({ aud: ['other', AUD] })).claims.sub).toBe('user-1');
    expectInvalid(() => verify(t({ aud: undefined })), 'aud missing');
    expectInvalid(() => verify(t({ aud: 'https://other.example.com' })), 'aud mismatch');
    expectInvalid(() => verify(t({ aud: ['a', 'b'] })), 'aud mismatch');
    expectInvalid(() => verify(t({ aud: [] })), 'aud invalid');
    expectInvalid(() => verify(t({ aud: [AUD, 3] })), 'aud invalid');
    expectInvalid(() => verify(t({ aud: 42 })), 'aud missing');
  });

  it('accepts any of several configured audiences', () => {
    const multi = makeVerifier({ audience: ['https://a.example', 'https://b.example'] });
    expect(multi.verify(t({ aud: 'https://b.example' })).claims.sub).toBe('user-1');
    expect(multi.verify(t({ aud: ['x', 'https://a.example'] })).claims.sub).toBe('user-1');
    expectInvalid(() => multi.verify(t({ aud: AUD })), 'aud mismatch');
  });

  it('exp is required, a number, and not past beyond the leeway', () => {
    expectInvalid(() => verify(t({ exp: undefined })), 'exp missing');
    expectInvalid(() => verify(t({ exp: String(NOW + 900) })), 'exp missing');
    expectInvalid(() => verify(t({ exp: null })), 'exp missing');
    expectInvalid(() => verify(t({ exp: NOW - 31 })), 'token expired');
    expectInvalid(() => verify(t({ exp: NOW - 30 })), 'token expired');
    expect(verify(t({ exp: NOW - 29 })).claims.sub).toBe('user-1');
    const strict = makeVerifier({ clockTolerance: 0 });
    expectInvalid(() => strict.verify(t({ exp: NOW })), 'token expired');
    expect(strict.verify(t({ exp: NOW + 1 })).claims.sub).toBe('user-1');
  });

  it('nbf, if present, is a number and not in the future beyond the leeway', () => {
    expect(verify(t({ nbf: NOW + 30 })).claims.nbf).toBe(NOW + 30);
    expectInvalid(() => verify(t({ nbf: NOW + 31 })), 'token not yet valid');
    expectInvalid(() => verify(t({ nbf: 'soon' })), 'nbf invalid');
  });

  it('iat is required, a number, and not in the future beyond the leeway', () => {
    expectInvalid(() => verify(t({ iat: undefined })), 'iat missing');
    expectInvalid(() => verify(t({ iat: 'now' })), 'iat missing');
    expectInvalid(() => verify(t({ iat: NOW + 31, exp: NOW + 900 })), 'iat in the future');
    expect(verify(t({ iat: NOW + 30 })).claims.sub).toBe('user-1');
  });

  it('sub and jti are required non-empty strings', () => {
    expectInvalid(() => verify(t({ sub: undefined })), 'sub missing');
    expectInvalid(() => verify(t({ sub: '' })), 'sub missing');
    expectInvalid(() => verify(t({ sub: 12 })), 'sub missing');
    expectInvalid(() => verify(t({ jti: undefined })), 'jti missing');
    expectInvalid(() => verify(t({ jti: 1 })), 'jti missing');
  });

  it('optional claims have their types', () => {
    expectInvalid(() => verify(t({ sid: 1 })), 'sid invalid');
    expectInvalid(() => verify(t({ scope: ['read'] })), 'scope invalid');
    expectInvalid(() => verify(t({ roles: 'admin' })), 'roles invalid');
    expectInvalid(() => verify(t({ roles: ['admin', 1] })), 'roles invalid');
    expectInvalid(() => verify(t({ client_id: {} })), 'client_id invalid');
  });

  it('uses the injected clock', () => {
    const token = t({});
    expect(verify(token).claims.sub).toBe('user-1');
    clock.advance(930_000);
    expectInvalid(() => verify(token), 'token expired', token);
    clock.set(START);
  });
});

describe('verify: cache', () => {
  function cached(maxEntries = 100): ReturnType<typeof makeVerifier> {
    return makeVerifier({ cache: { maxEntries } });
  }
  const token = signAccessToken(claims() as unknown as AccessTokenClaims, signers.EdDSA);

  it('returns the same frozen result on a hit; an uncached verifier does not', () => {
    const v = cached();
    const first = v.verify(token);
    expect(v.verify(token)).toBe(first);
    const cold = makeVerifier();
    expect(cold.verify(token)).not.toBe(cold.verify(token));
  });

  it('re-checks exp and nbf against the clock on a hit', () => {
    const v = cached();
    v.verify(token);
    v.clock.advance((900 + 30) * 1000);
    expectInvalid(() => v.verify(token), 'token expired', token);
    v.clock.set(START);
    expect(v.verify(token).claims.sub).toBe('user-1');

    const early = forge(edHeader(), claims({ nbf: NOW + 20 }), edSigner);
    v.verify(early);
    v.clock.set(START - 20_000);
    expectInvalid(() => v.verify(early), 'token not yet valid');
  });

  it('a removed or replaced key invalidates cached tokens', () => {
    const v = cached();
    v.verify(token);
    const original = v.keys.get('ed-1');
    v.keys.delete('ed-1');
    expectInvalid(() => v.verify(token), 'unknown kid', token);
    if (original === undefined) throw new Error('missing key');
    v.keys.set('ed-1', original);
    expect(v.verify(token).claims.sub).toBe('user-1');
    v.keys.set('ed-1', { kid: 'ed-1', alg: 'EdDSA', key: generateKeyPairSync('ed25519').publicKey });
    expectInvalid(() => v.verify(token), 'signature invalid', token);
    v.keys.set('ed-1', { kid: 'ed-1', alg: 'ES256', key: es.publicKey });
    expectInvalid(() => v.verify(token), 'alg does not match key', token);
  });

  it('a resolver returning an equal but new KeyObject still hits', () => {
    const keys = new Map(verificationKeys.map((k) => [k.kid, k]));
    const spki = ed.publicKey.export({ format: 'der', type: 'spki' });
    let fresh = 0;
    const v = createAccessTokenVerifier({
      issuer: ISS,
      audience: AUD,
      algorithms: ['EdDSA'],
      clock: createManualClock(START),
      keys: (kid) => {
        fresh += 1;
        const k = keys.get(kid);
        return (
          k && {
            ...k,
            key: ed.publicKey.equals(k.key)
              ? createPublicKey({ key: spki, format: 'der', type: 'spki' })
              : k.key,
          }
        );
      },
    });
    const first = v.verify(token);
    expect(v.verify(token)).toBe(first);
    expect(fresh).toBe(2);
  });

  it('never caches failures: a forged token fails every time, the genuine one still passes', () => {
    const v = cached();
    const [h = '', p = '', s = ''] = token.split('.');
    const forged = `${h}.${b64(JSON.stringify(claims({ sub: 'admin' })))}.${s}`;
    expectInvalid(() => v.verify(forged), 'signature invalid');
    expectInvalid(() => v.verify(forged), 'signature invalid');
    expect(v.verify(token).claims.sub).toBe('user-1');
    expectInvalid(() => v.verify(forged), 'signature invalid');
    const otherSig = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    expectInvalid(() => v.verify(`${h}.${p}.${otherSig}`), 'signature invalid');
    expect(v.verify(`${h}.${p}.${s}`).claims.sub).toBe('user-1');
  });

  it('evicts the oldest entry when full', () => {
    const v = cached(2);
    const tokens = ['a', 'b', 'c'].map((jti) =>
      signAccessToken(claims({ jti }) as unknown as AccessTokenClaims, signers.EdDSA),
    );
    const [a = '', b = '', c = ''] = tokens;
    const ra = v.verify(a);
    const rb = v.verify(b);
    const rc = v.verify(c);
    expect(v.verify(c)).toBe(rc);
    expect(v.verify(b)).toBe(rb);
    expect(v.verify(a)).not.toBe(ra);
  });

  it('clearCache() forgets verified tokens', () => {
    const clock = createManualClock(START);
    const v = createAccessTokenVerifier({
      issuer: ISS,
      audience: AUD,
      algorithms: ['EdDSA'],
      keys: (kid) => verificationKeys.find((k) => k.kid === kid),
      clock,
    });
    const first = v.verify(token);
    v.clearCache();
    expect(v.verify(token)).not.toBe(first);
  });
});

describe('verify: edges of the rules', () => {
  const { verify, keys } = makeVerifier();
  /** A token signed by `ed-1` over the raw payload JSON `payloadJSON`. */
  const raw = (payloadJSON: string): string => forgeRaw(JSON.stringify(edHeader()), payloadJSON, edSigner);
  const withNumber = (claim: string, literal: string): string =>
    raw(JSON.stringify(claims({ [claim]: 0 })).replace(`"${claim}":0`, `"${claim}":${literal}`));

  it('refuses times that JSON spells as infinite numbers (1e400)', () => {
    expectInvalid(() => verify(withNumber('exp', '1e400')), 'exp missing');
    expectInvalid(() => verify(withNumber('iat', '1e400')), 'iat missing');
    expectInvalid(() => verify(withNumber('iat', '-1e400')), 'iat missing');
    expectInvalid(() => verify(withNumber('nbf', '-1e400')), 'nbf invalid');
    expectInvalid(() => verify(withNumber('nbf', '1e400')), 'nbf invalid');
  });

  it('refuses an empty jti', () => {
    expectInvalid(() => verify(forge(edHeader(), claims({ jti: '' }), edSigner)), 'jti missing');
  });

  it('accepts a kid of 256 characters, not 257', () => {
    for (const kid of ['k'.repeat(256), 'k'.repeat(257)]) {
      keys.set(kid, { kid, alg: 'EdDSA', key: ed.publicKey });
    }
    expect(verify(forge(edHeader({ kid: 'k'.repeat(256) }), claims(), edSigner)).header.kid).toHaveLength(
      256,
    );
    expectInvalid(
      () => verify(forge(edHeader({ kid: 'k'.repeat(257) }), claims(), edSigner)),
      'kid missing or invalid',
    );
  });

  it('accepts a token of exactly maxTokenLength characters', () => {
    const token = forge(edHeader(), claims(), edSigner);
    expect(makeVerifier({ maxTokenLength: token.length }).verify(token).claims.sub).toBe('user-1');
    expectInvalid(() => makeVerifier({ maxTokenLength: token.length - 1 }).verify(token), 'token too long');
  });

  it('refuses a one-character header segment for its encoding, not its structure', () => {
    const token = forge(edHeader(), claims(), edSigner);
    const [, p = '', s = ''] = token.split('.');
    expectInvalid(() => verify(`e.${p}.${s}`), 'header is not base64url');
  });

  it('refuses a key the resolver hands out as a private key: only public keys verify', () => {
    const v = makeVerifier({ keys: (kid) => ({ kid, alg: 'EdDSA', key: ed.privateKey }) });
    expectInvalid(() => v.verify(forge(edHeader(), claims(), edSigner)), 'key does not fit alg');
  });

  it('verifies tokens far larger than the default limit when maxTokenLength allows them', () => {
    const large = makeVerifier({ maxTokenLength: 200_000 });
    const roles = Array.from({ length: 4_000 }, (_, i) => `role-${i}-${'r'.repeat(i % 7)}`);
    for (const alg of ['EdDSA', 'HS256'] as const) {
      const token = signAccessToken(claims({ roles }) as unknown as AccessTokenClaims, signers[alg]);
      expect(token.length).toBeGreaterThan(50_000);
      expect(large.verify(token).claims.roles).toEqual(roles);
    }
  });

  it('decodes a signature whose last characters are the top of the alphabet ("_")', () => {
    // ES256 signatures (r || s, 64 bytes, 86 characters) end in a uniformly random byte: about one
    // in 64 ends in "_" followed by the last, 2-bit character. (Ed25519's last byte never does.)
    let found: string | undefined;
    for (let i = 0; found === undefined && i < 5_000; i++) {
      const token = signAccessToken(
        claims({ jti: `grind-${i}` }) as unknown as AccessTokenClaims,
        signers.ES256,
      );
      if (/_[AQgw]$/.test(token)) found = token;
    }
    if (found === undefined) throw new Error('no signature ending in "_" in 5000 tries');
    expect(verify(found).claims.jti).toMatch(/^grind-/);
  });

  it('refuses a character outside the alphabet at the very end of the signature for its encoding', () => {
    const token = forge(edHeader(), claims(), edSigner);
    expect((token.split('.')[2] ?? '').length % 4).toBe(2);
    for (const bad of ['*', '=', '~', '\u00e9']) {
      expectInvalid(() => verify(`${token.slice(0, -1)}${bad}`), 'signature is not base64url');
    }
  });

  it('a non-base64url payload is refused for its encoding, even under a signature made over it', () => {
    const input = (token: string): string => token.slice(0, token.lastIndexOf('.'));
    for (const alg of ['EdDSA', 'HS256'] as const) {
      const good = signAccessToken(claims() as unknown as AccessTokenClaims, signers[alg]);
      const tampered = `${input(good)}\u00e9`;
      const signature = rawSigner(
        alg,
        alg === 'HS256' ? hsSecret : signers[alg].privateKey,
      )(Buffer.from(tampered, 'latin1'));
      expectInvalid(() => verify(`${tampered}.${b64(signature)}`), 'payload is not base64url');
    }
  });
});

describe('verify: cache, binding', () => {
  it('forgets a cached token once its kid is bound to another algorithm, even with the same key', () => {
    const v = makeVerifier({ cache: { maxEntries: 10 } });
    const token = forge(edHeader(), claims(), edSigner);
    v.verify(token);
    v.keys.set('ed-1', { kid: 'ed-1', alg: 'ES256', key: ed.publicKey });
    expectInvalid(() => v.verify(token), 'alg does not match key', token);
  });
});
