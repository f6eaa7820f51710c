/**
 * The options of the access-token verifier (`src/token/jwt-options.ts`): each misconfiguration
 * is a `TypeError` naming the option at creation, never a surprise at the first token; and the
 * accepted `typ` values. `test/token/jwt.test.ts` holds the first cases of each option.
 */
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AUD, claims, ISS, START } from '../helpers/claims.js';
import { createManualClock } from '../../src/clock.js';
import { LatchkeyError } from '../../src/errors.js';
import {
  createAccessTokenVerifier,
  signAccessToken,
  type AccessTokenClaims,
  type AccessTokenVerifierOptions,
} from '../../src/token/jwt.js';

const ed = generateKeyPairSync('ed25519');
const base: AccessTokenVerifierOptions = {
  issuer: ISS,
  audience: AUD,
  algorithms: ['EdDSA'],
  keys: (kid) => (kid === 'ed-1' ? { kid, alg: 'EdDSA', key: ed.publicKey } : undefined),
  clock: createManualClock(START),
};

function create(patch: Record<string, unknown>): ReturnType<typeof createAccessTokenVerifier> {
  return createAccessTokenVerifier({ ...base, ...patch });
}

/** A token signed by `ed-1` whose header carries `typ`. */
function tokenWithTyp(typ: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: 'ed-1', typ })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims())).toString('base64url');
  const input = `${header}.${payload}`;
  return `${input}.${cryptoSign(null, Buffer.from(input), ed.privateKey).toString('base64url')}`;
}

describe('options that are not an object', () => {
  it.each([
    ['null', null],
    ['a string', 'https://auth.example.com'],
    ['a number', 42],
  ])('%s is refused as such', (_name, options) => {
    expect(() => createAccessTokenVerifier(options as unknown as AccessTokenVerifierOptions)).toThrow(
      new TypeError('"options" must be an object'),
    );
  });
});

describe('each option, refused with its name', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['an empty audience among others', { audience: [AUD, ''] }, '"audience"'],
    ['an audience that is not a string', { audience: [42] }, '"audience"'],
    ['an audience that is an array', { audience: [[AUD]] }, '"audience"'],
    [
      'an algorithm that is not a string',
      { algorithms: [42] },
      '"algorithms" contains an unsupported algorithm',
    ],
    ['NaN clockTolerance', { clockTolerance: Number.NaN }, '"clockTolerance"'],
    ['infinite clockTolerance', { clockTolerance: Number.POSITIVE_INFINITY }, '"clockTolerance"'],
    ['a clockTolerance in a string', { clockTolerance: '30' }, '"clockTolerance"'],
    ['a fractional maxTokenLength', { maxTokenLength: 1.5 }, '"maxTokenLength"'],
    ['a clock that is not a function', { clock: 1_767_225_600_000 }, '"clock" must be a function'],
    ['cache: true', { cache: true }, '"cache" must be { maxEntries } or false'],
    ['cache: a number', { cache: 100 }, '"cache" must be { maxEntries } or false'],
    ['typ that is not a string', { typ: 42 }, '"typ" must be a non-empty string'],
  ];
  it.each(cases)('%s', (_name, patch, message) => {
    expect(() => create(patch)).toThrow(TypeError);
    expect(() => create(patch)).toThrow(message);
  });

  it('names the supported algorithms', () => {
    expect(() => create({ algorithms: ['PS256'] })).toThrow(
      '"algorithms" contains an unsupported algorithm; allowed: EdDSA, ES256, RS256, HS256',
    );
  });
});

describe('the edges of valid options', () => {
  it('accepts a clockTolerance of 0 and a maxTokenLength of 1', () => {
    expect(() => create({ clockTolerance: 0 })).not.toThrow();
    const tiny = create({ maxTokenLength: 1 });
    expect(() => tiny.verify('ab')).toThrow(expect.objectContaining({ message: 'token too long' }) as Error);
  });

  it('cache: false verifies without a cache; clearCache() is then harmless', () => {
    const token = signAccessToken(claims() as unknown as AccessTokenClaims, {
      kid: 'ed-1',
      alg: 'EdDSA',
      privateKey: ed.privateKey,
    });
    const uncached = create({ cache: false });
    expect(uncached.verify(token)).not.toBe(uncached.verify(token));
    expect(() => uncached.clearCache()).not.toThrow();
    const cached = create({ cache: { maxEntries: 10 } });
    expect(cached.verify(token)).toBe(cached.verify(token));
  });
});

describe('typ', () => {
  const refusal = (verifier: ReturnType<typeof create>, token: string): string | undefined => {
    try {
      verifier.verify(token);
      return undefined;
    } catch (error) {
      return error instanceof LatchkeyError ? error.message : String(error);
    }
  };

  it('a short typ is accepted as itself or with application/, in any case', () => {
    const verifier = create({ typ: 'custom+jwt' });
    expect(refusal(verifier, tokenWithTyp('custom+jwt'))).toBeUndefined();
    expect(refusal(verifier, tokenWithTyp('Application/Custom+JWT'))).toBeUndefined();
    expect(refusal(verifier, tokenWithTyp('at+jwt'))).toBe('typ not allowed');
  });

  it('a full media type is accepted as written only', () => {
    const verifier = create({ typ: 'application/custom+jwt' });
    expect(refusal(verifier, tokenWithTyp('application/custom+jwt'))).toBeUndefined();
    expect(refusal(verifier, tokenWithTyp('APPLICATION/CUSTOM+JWT'))).toBeUndefined();
    expect(refusal(verifier, tokenWithTyp('application/application/custom+jwt'))).toBe('typ not allowed');
  });
});
