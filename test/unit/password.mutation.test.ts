/**
 * The work `verifyDummy` does for an unknown account (`src/password/hash.ts`): one real argon2id
 * verification, against a hash with the hasher's own parameters, made once. Without it "no such
 * user" would answer faster than "wrong password". argon2 is observed, not replaced.
 */
import * as argon2 from '@node-rs/argon2';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPasswordHasher } from '../../src/password/hash.js';

vi.mock('@node-rs/argon2', async (importOriginal) => {
  const real = await importOriginal<typeof argon2>();
  return { ...real, hash: vi.fn(real.hash), verify: vi.fn(real.verify) };
});

const hash = vi.mocked(argon2.hash);
const verify = vi.mocked(argon2.verify);
const PARAMETERS = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

/** `$argon2id$v=19$m=...,t=...,p=...`: everything of a PHC string but its salt and output. */
const parametersOf = (phc: string): string => phc.split('$').slice(0, 4).join('$');

beforeEach(() => {
  hash.mockClear();
  verify.mockClear();
});

describe('verifyDummy', () => {
  it('runs one argon2id verification per call, with the parameters of a real hash', async () => {
    const hasher = createPasswordHasher(PARAMETERS);
    const real = await hasher.hash('correct horse battery staple');
    hash.mockClear();

    await expect(hasher.verifyDummy('guess one')).resolves.toBeUndefined();
    await expect(hasher.verifyDummy('guess two')).resolves.toBeUndefined();

    expect(verify).toHaveBeenCalledTimes(2);
    const [first, second] = verify.mock.calls;
    expect(first?.[1]).toBe('guess one');
    expect(second?.[1]).toBe('guess two');
    expect(parametersOf(String(first?.[0]))).toBe(parametersOf(real));
    expect(parametersOf(real)).toBe('$argon2id$v=19$m=1024,t=1,p=1');
  });

  it('makes its dummy hash once, not on every call', async () => {
    const hasher = createPasswordHasher(PARAMETERS);
    await hasher.verifyDummy('guess one');
    await hasher.verifyDummy('guess two');
    await hasher.verifyDummy('guess three');
    expect(hash).toHaveBeenCalledTimes(1);
    const [first, second] = verify.mock.calls;
    expect(first?.[0]).toBe(second?.[0]);
  });
});
