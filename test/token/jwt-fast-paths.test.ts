/**
 * Attacks on the shortcuts of the strict verifier: the cache of verified tokens (keyed by a hash
 * of the token's tail), the remembered header segments of verified tokens, the single-pass
 * base64url decoder and the counting duplicate-member check. Each shortcut must refuse exactly
 * what the full path refuses.
 */
import { createSecretKey, generateKeyPairSync, randomBytes, sign as cryptoSign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AUD, claims, ISS, START } from '../helpers/claims.js';
import { createManualClock } from '../../src/clock.js';
import { LatchkeyError } from '../../src/errors.js';
import { fromBase64urlStrict } from '../../src/lib/encoding.js';
import { createBoundedCache } from '../../src/token/jwt-cache.js';
import {
  createAccessTokenVerifier,
  signAccessToken,
  type AccessTokenClaims,
  type AccessTokenVerifierOptions,
  type VerificationKey,
} from '../../src/token/jwt.js';

const ed = generateKeyPairSync('ed25519');
const otherEd = generateKeyPairSync('ed25519');
const es = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const hs = createSecretKey(randomBytes(32));

const b64 = (value: string | Uint8Array): string => Buffer.from(value).toString('base64url');
const edSign = (input: string): string => b64(cryptoSign(null, Buffer.from(input, 'latin1'), ed.privateKey));

/** A token signed by `ed-1` over the given raw header and payload segments. */
function signed(header: string, payload: string): string {
  const input = `${header}.${payload}`;
  return `${input}.${edSign(input)}`;
}

const edHeader = (extra: Record<string, unknown> = {}): string =>
  b64(JSON.stringify({ alg: 'EdDSA', kid: 'ed-1', typ: 'at+jwt', ...extra }));

function token(overrides: Record<string, unknown> = {}): string {
  return signAccessToken(claims(overrides) as unknown as AccessTokenClaims, {
    kid: 'ed-1',
    alg: 'EdDSA',
    privateKey: ed.privateKey,
  });
}

function makeVerifier(overrides: Partial<AccessTokenVerifierOptions> = {}): {
  verify: (token: string) => ReturnType<ReturnType<typeof createAccessTokenVerifier>['verify']>;
  keys: Map<string, VerificationKey>;
} {
  const keys = new Map<string, VerificationKey>([
    ['ed-1', { kid: 'ed-1', alg: 'EdDSA', key: ed.publicKey }],
    ['es-1', { kid: 'es-1', alg: 'ES256', key: es.publicKey }],
    ['hs-1', { kid: 'hs-1', alg: 'HS256', key: hs }],
  ]);
  const verifier = createAccessTokenVerifier({
    issuer: ISS,
    audience: AUD,
    algorithms: ['EdDSA', 'ES256', 'HS256'],
    keys: (kid) => keys.get(kid),
    clock: createManualClock(START),
    ...overrides,
  });
  return { verify: (t) => verifier.verify(t), keys };
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(LatchkeyError);
    expect((error as LatchkeyError).code).toBe('invalid_token');
    return (error as LatchkeyError).message;
  }
  throw new Error('expected a refusal');
}

/** `text` with the character at `index` replaced by `char`. */
const replaceAt = (text: string, index: number, char: string): string =>
  `${text.slice(0, index)}${char}${text.slice(index + 1)}`;

/** Another base64url character than `char`. */
const otherChar = (char: string): string => (char === 'A' ? 'B' : 'A');

/** A new string with the same characters (not the same string object). */
const copy = (text: string): string => Buffer.from(text, 'latin1').toString('latin1');

describe('the bounded cache', () => {
  it('finds a value only under the identical key, even when hashes collide', () => {
    const cache = createBoundedCache<number>({ maxEntries: 10 });
    // Same length and same last 24 characters: the same hash.
    const tail = 'x'.repeat(24);
    const a = `aaaa${tail}`;
    const b = `bbbb${tail}`;
    cache.set(a, 1);
    expect(cache.get(copy(a))).toBe(1);
    expect(cache.get(b)).toBeUndefined();
    // A colliding key replaces the other one: never answers for it.
    cache.set(b, 2);
    expect(cache.get(b)).toBe(2);
    expect(cache.get(a)).toBeUndefined();
    expect(cache.size).toBe(1);
    // Deleting a key that collides with the held one leaves the held one alone.
    cache.delete(a);
    expect(cache.get(b)).toBe(2);
    cache.delete(b);
    expect(cache.get(b)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('evicts in insertion order and never holds more than maxEntries, through deletes and replacements', () => {
    const maxEntries = 7;
    const cache = createBoundedCache<string>({ maxEntries });
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}-${'z'.repeat(i % 3)}`);
    for (const key of keys) cache.set(key, key);
    expect(cache.size).toBe(maxEntries);
    expect(keys.filter((key) => cache.get(key) !== undefined)).toEqual(keys.slice(-maxEntries));

    // A random walk against a model: get() returns the last value set for that key, or nothing.
    let seed = 42;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const tail = 'q'.repeat(30);
    const space = Array.from({ length: 12 }, (_, i) => (i < 6 ? `k${i}${tail}` : `key-${i}`));
    const model = new Map<string, string>();
    cache.clear();
    for (let step = 0; step < 5000; step++) {
      const key = space[random(space.length)] ?? '';
      const op = random(3);
      if (op === 0) {
        const value = `${key}@${step}`;
        cache.set(key, value);
        model.set(key, value);
      } else if (op === 1) {
        cache.delete(key);
        model.delete(key);
      } else {
        const got = cache.get(copy(key));
        if (got !== undefined) expect(got).toBe(model.get(key));
      }
      expect(cache.size).toBeLessThanOrEqual(maxEntries);
    }
  });
});

describe('the cache of verified tokens', () => {
  it('serves a token only to the identical string: one character off (same length and tail) is verified in full', () => {
    const { verify } = makeVerifier();
    const good = token();
    const first = verify(good);
    expect(verify(copy(good))).toBe(first);
    const [h = '', p = '', s = ''] = good.split('.');
    // Same length and same last characters as the cached token: the same slot of the cache.
    for (const index of [0, 5, h.length + 3, h.length + 1 + p.length - 2, good.length - s.length + 3]) {
      const char = good[index] ?? 'A';
      const forged = replaceAt(good, index, otherChar(char));
      expect(forged).toHaveLength(good.length);
      expect(refusal(() => verify(forged))).toMatch(
        /signature invalid|header is not|payload is not|unknown kid|alg|typ|kid/,
      );
    }
    // A change in the tail (the signature) misses too.
    const last = good.length - 2;
    expect(refusal(() => verify(replaceAt(good, last, otherChar(good[last] ?? 'A'))))).toBe(
      'signature invalid',
    );
    // The failures left the cached entry alone.
    expect(verify(copy(good))).toBe(first);
  });

  it('serves the payload claims of the cached token, never those of a look-alike', () => {
    const { verify } = makeVerifier();
    const good = token({ sub: 'alice' });
    expect(verify(good).claims.sub).toBe('alice');
    const [h = '', , s = ''] = good.split('.');
    const evil = `${h}.${b64(JSON.stringify(claims({ sub: 'admin' })))}.${s}`;
    expect(refusal(() => verify(evil))).toBe('signature invalid');
  });

  it('keeps results deeply frozen, cached or not', () => {
    for (const cache of [undefined, false] as const) {
      const { verify } = makeVerifier(cache === false ? { cache } : {});
      const result = verify(token({ nested: { list: [{ a: 1 }], deeper: { x: ['y'] } } }));
      expect(Object.isFrozen(result)).toBe(true);
      expect(Object.isFrozen(result.header)).toBe(true);
      expect(Object.isFrozen(result.claims)).toBe(true);
      expect(Object.isFrozen(result.claims.roles)).toBe(true);
      const nested = result.claims.nested as { list: { a: number }[]; deeper: { x: string[] } };
      expect(Object.isFrozen(nested)).toBe(true);
      expect(Object.isFrozen(nested.list)).toBe(true);
      expect(Object.isFrozen(nested.list[0])).toBe(true);
      expect(Object.isFrozen(nested.deeper.x)).toBe(true);
    }
  });
});

describe('remembered headers of verified tokens', () => {
  it('checks in full any header that differs from a remembered one', () => {
    const { verify } = makeVerifier();
    expect(verify(token()).header.kid).toBe('ed-1');
    const payload = b64(JSON.stringify(claims()));
    const cases: [string, string][] = [
      [edHeader({ alg: 'none' }), 'alg none refused'],
      [edHeader({ alg: 'NONE' }), 'alg none refused'],
      [edHeader({ crit: ['exp'] }), 'crit not supported'],
      [edHeader({ b64: false }), 'b64 not supported'],
      [edHeader({ jku: 'https://evil.example/jwks' }), 'jku header refused'],
      [edHeader({ jwk: { kty: 'OKP' } }), 'jwk header refused'],
      [edHeader({ typ: 'JWT' }), 'typ not allowed'],
      [edHeader({ alg: 'HS256' }), 'alg does not match key'],
      [edHeader({ kid: 'ed-2' }), 'unknown kid'],
      [b64('{"alg":"EdDSA","kid":"ed-1","typ":"at+jwt","x":1,"x":2}'), 'header has duplicate members'],
    ];
    for (const [header, message] of cases) {
      const forged = signed(header, payload);
      expect(refusal(() => verify(forged))).toBe(message);
    }
    // A header of the same length as the remembered one, one character off.
    const known = edHeader();
    const twin = replaceAt(known, 3, otherChar(known[3] ?? 'A'));
    expect(refusal(() => verify(signed(twin, payload)))).toBe('alg missing');
  });

  it('still resolves the key, checks its binding and the signature for a remembered header', () => {
    const { verify, keys } = makeVerifier();
    const good = token();
    verify(good);
    const [h = ''] = good.split('.');
    const payload = b64(JSON.stringify(claims({ jti: 'other' })));
    // Remembered header, signature by another key.
    const input = `${h}.${payload}`;
    const foreign = `${input}.${b64(cryptoSign(null, Buffer.from(input), otherEd.privateKey))}`;
    expect(refusal(() => verify(foreign))).toBe('signature invalid');
    // Remembered header, payload with a duplicate member.
    expect(refusal(() => verify(signed(h, b64(JSON.stringify(claims()).replace('{', '{"sub":"x",')))))).toBe(
      'payload has duplicate members',
    );
    // Remembered header, its kid now gone, then bound to another algorithm.
    const fresh = signed(h, b64(JSON.stringify(claims({ jti: 'later' }))));
    keys.delete('ed-1');
    expect(refusal(() => verify(signed(h, payload)))).toBe('unknown kid');
    keys.set('ed-1', { kid: 'ed-1', alg: 'ES256', key: es.publicKey });
    expect(refusal(() => verify(signed(h, payload)))).toBe('alg does not match key');
    keys.set('ed-1', { kid: 'ed-1', alg: 'EdDSA', key: es.publicKey });
    expect(refusal(() => verify(signed(h, payload)))).toBe('key does not fit alg');
    keys.set('ed-1', { kid: 'ed-1', alg: 'EdDSA', key: ed.publicKey });
    expect(verify(fresh).claims.sub).toBe('user-1');
  });

  it('are not shared between verifiers', () => {
    const strictTyp = makeVerifier({ typ: 'application/custom+jwt' });
    const loose = makeVerifier();
    const good = token();
    expect(loose.verify(good).claims.sub).toBe('user-1');
    expect(refusal(() => strictTyp.verify(good))).toBe('typ not allowed');
    const narrow = makeVerifier({ algorithms: ['ES256'] });
    expect(refusal(() => narrow.verify(good))).toBe('alg not allowed');
  });

  it('are never learnt from a refused token', () => {
    let resolutions = 0;
    const keys = new Map<string, VerificationKey>([
      ['ed-1', { kid: 'ed-1', alg: 'EdDSA', key: ed.publicKey }],
    ]);
    const verifier = createAccessTokenVerifier({
      issuer: ISS,
      audience: AUD,
      algorithms: ['EdDSA'],
      keys: (kid) => {
        resolutions += 1;
        return keys.get(kid);
      },
      clock: createManualClock(START),
      cache: false,
    });
    // A header with a refused member, then the same header on a forged token: both refused in full.
    const header = edHeader({ x5t: 'abc' });
    const payload = b64(JSON.stringify(claims()));
    for (let i = 0; i < 3; i++) {
      expect(refusal(() => verifier.verify(signed(header, payload)))).toBe('x5t header refused');
    }
    expect(resolutions).toBe(0);
    // A well-formed header on a badly signed token is not remembered as good either.
    const h = edHeader({ n: 1 });
    const bad = `${h}.${payload}.${b64(randomBytes(64))}`;
    expect(refusal(() => verifier.verify(bad))).toBe('signature invalid');
    expect(refusal(() => verifier.verify(signed(h, b64('{"sub":'))))).toBe('payload is not UTF-8 JSON');
  });

  it('remain correct when more headers are in use than are remembered', () => {
    const { verify } = makeVerifier();
    const payload = b64(JSON.stringify(claims()));
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20; i++) {
        expect(verify(signed(edHeader({ n: i }), payload)).header.kid).toBe('ed-1');
        expect(refusal(() => verify(signed(edHeader({ n: i, crit: [] }), payload)))).toBe(
          'crit not supported',
        );
      }
    }
  });
});

describe('the base64url decoder', () => {
  const { verify } = makeVerifier({ cache: false });
  const good = token();
  const [h = '', p = '', s = ''] = good.split('.');

  it('refuses characters beyond ASCII whose low bits spell a base64url character', () => {
    // Latin-1 conversion keeps only the low byte: U+0141 becomes 0x41 ('A'). The signing input
    // is the same bytes, so the signature verifies; the payload must still be refused.
    for (const delta of [0x100, 0x80, 0xff00]) {
      const shift = (segment: string, index: number): string =>
        replaceAt(segment, index, String.fromCharCode((segment.charCodeAt(index) + delta) & 0xffff));
      const payload = shift(p, 7);
      const input = `${h}.${payload}`;
      const sameBytes = `${input}.${edSign(input)}`;
      expect(refusal(() => verify(sameBytes))).toBe('payload is not base64url');
      expect(refusal(() => verify(`${shift(h, 4)}.${p}.${s}`))).toBe('header is not base64url');
      expect(refusal(() => verify(`${h}.${p}.${shift(s, 9)}`))).toBe('signature is not base64url');
    }
  });

  it('refuses every ASCII character outside the alphabet, in each part', () => {
    const alphabet = /[A-Za-z0-9_-]/;
    for (let code = 0; code < 128; code++) {
      const char = String.fromCharCode(code);
      if (alphabet.test(char) || char === '.') continue;
      expect(refusal(() => verify(signed(h, replaceAt(p, 11, char))))).toBe('payload is not base64url');
      expect(refusal(() => verify(`${replaceAt(h, 2, char)}.${p}.${s}`))).toBe('header is not base64url');
      expect(refusal(() => verify(`${h}.${p}.${replaceAt(s, 20, char)}`))).toBe('signature is not base64url');
    }
  });

  it('accepts and refuses header segments exactly as fromBase64urlStrict does', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed % n;
    };
    const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=';
    for (let i = 0; i < 3000; i++) {
      const length = random(12);
      let segment = '';
      for (let j = 0; j < length; j++) segment += chars[random(i % 5 === 0 ? chars.length : 64)] ?? '';
      const reference = fromBase64urlStrict(segment);
      const message = refusal(() => verify(`${segment}.${p}.${s}`));
      if (reference === null || reference.length === 0) expect(message).toBe('header is not base64url');
      else expect(message).not.toBe('header is not base64url');
    }
  });

  it('decodes UTF-8 claims, and refuses a payload of length 1 mod 4', () => {
    const sub = 'Zoë ✓ 😀 \u0000 "quoted" \\ : ,';
    expect(verify(token({ sub })).claims.sub).toBe(sub);
    const odd = [0, 1, 2, 3, 4]
      .map((n) => b64(JSON.stringify(claims({ x: 'a'.repeat(n) }))))
      .find((segment) => segment.length % 4 === 0);
    expect(refusal(() => verify(signed(h, `${odd ?? ''}A`)))).toBe('payload is not base64url');
  });
});

describe('duplicate member names', () => {
  const { verify } = makeVerifier({ cache: false });
  const h = edHeader();

  /** The previous implementation, as the reference: a scan of names per object. */
  function hasDuplicateMembers(json: string): boolean {
    const stack: (Set<string> | null)[] = [];
    let expectName = false;
    for (let i = 0; i < json.length; i++) {
      const c = json[i];
      if (c === '"') {
        const start = i + 1;
        let escaped = false;
        for (i++; i < json.length && json[i] !== '"'; i++) {
          if (json[i] === '\\') {
            escaped = true;
            i++;
          }
        }
        if (expectName) {
          const raw = json.slice(start, i);
          const name = escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
          const names = stack.at(-1);
          if (names) {
            if (names.has(name)) return true;
            names.add(name);
          }
          expectName = false;
        }
      } else if (c === '{') {
        stack.push(new Set());
        expectName = true;
      } else if (c === '[') {
        stack.push(null);
      } else if (c === '}' || c === ']') {
        stack.pop();
        expectName = false;
      } else if (c === ',') {
        expectName = stack.at(-1) instanceof Set;
      }
    }
    return false;
  }

  it('refuses exactly the payloads with a repeated name in some object', () => {
    let seed = 99;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 22695477) + 1) >>> 0;
      return (seed >>> 8) % n;
    };
    const names = ['a', 'b', 'sub', 's\\u0075b', '\\u0061', 'x:y', 'q\\"', '\\\\', '__proto__', '{', ','];
    const value = (depth: number): string => {
      const kind = random(depth > 2 ? 3 : 6);
      if (kind === 0) return JSON.stringify(['1', ':', '"', '\\', '{"a":1,"a":2}'][random(5)]);
      if (kind === 1) return String(random(100));
      if (kind === 2) return 'null';
      if (kind === 3) return `[${Array.from({ length: random(3) }, () => value(depth + 1)).join(',')}]`;
      return object(depth + 1);
    };
    const object = (depth: number): string =>
      `{${Array.from({ length: random(4) }, () => `"${names[random(names.length)] ?? 'a'}" : ${value(depth)}`).join(' , ')}}`;
    let refused = 0;
    for (let i = 0; i < 400; i++) {
      const extra = object(1);
      const base = JSON.stringify(claims());
      const payload = `${base.slice(0, -1)},"extra":${extra}}`;
      if (hasDuplicateMembers(payload)) {
        refused += 1;
        expect(refusal(() => verify(signed(h, b64(payload))))).toBe('payload has duplicate members');
      } else {
        expect(verify(signed(h, b64(payload))).claims.sub).toBe('user-1');
      }
    }
    expect(refused).toBeGreaterThan(20);
    expect(refused).toBeLessThan(380);
  });

  it('catches repeats hidden by escapes, in nested objects, and of __proto__', () => {
    const base = JSON.stringify(claims()).slice(0, -1);
    for (const extra of [
      ',"o":{"__proto__":1,"__proto__":2}',
      ',"o":[{"k":1},{"k":1,"\\u006b":2}]',
      ',"o":{"a":{"b":{"c":1,"c":1}}}',
      ',"j\\u0074i":"again"',
    ]) {
      expect(refusal(() => verify(signed(h, b64(`${base}${extra}}`))))).toBe('payload has duplicate members');
    }
    for (const extra of [
      ',"o":{"__proto__":1}',
      ',"o":"a\\":\\"b","p":"\\\\","q":":"',
      ',"o":[{"k":1},{"k":1}]',
      ',"k:":{"k":1}',
    ]) {
      expect(verify(signed(h, b64(`${base}${extra}}`))).claims.sub).toBe('user-1');
    }
    const dupHeader = b64('{"alg":"EdDSA","kid":"ed-1","typ":"at+jwt","x":{"y":1,"y":2}}');
    expect(refusal(() => verify(signed(dupHeader, b64(`${base}}`))))).toBe('header has duplicate members');
  });
});
