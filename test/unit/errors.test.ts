import { describe, expect, it } from 'vitest';
import { BearerError } from '../../src/http/authenticate.js';
import type * as errors from '../../src/errors.js';
import { isLatchkeyError, LatchkeyError } from '../../src/errors.js';

/**
 * The server (`latchkey`) and the SDK (`@latchkey/verify`) are compiled from the same
 * `src/errors.ts` into two packages: an application with both holds two copies of the class.
 * A second instance of the module (a query string makes Vite load it again) stands for the
 * other package's copy.
 */
async function otherCopy(): Promise<typeof errors> {
  // A specifier in a variable: TypeScript does not resolve it, Vite loads it as another module.
  const specifier = '../../src/errors.js?other-package';
  const copy = (await import(specifier)) as typeof errors;
  expect(copy.LatchkeyError).not.toBe(LatchkeyError);
  return copy;
}

describe('LatchkeyError across copies of the module', () => {
  it('an error of one copy is an instance of the other, both ways', async () => {
    const other = await otherCopy();
    const fromSDK = new other.LatchkeyError('invalid_token');
    expect(fromSDK instanceof LatchkeyError).toBe(true);
    expect(isLatchkeyError(fromSDK, 'invalid_token')).toBe(true);
    expect(isLatchkeyError(fromSDK, 'session_revoked')).toBe(false);
    expect(new LatchkeyError('forbidden') instanceof other.LatchkeyError).toBe(true);
  });

  it('refuses what is not one: a plain Error, a look-alike, null, a primitive', () => {
    const lookAlike = Object.assign(new Error('x'), {
      name: 'LatchkeyError',
      code: 'invalid_token',
      status: 401,
    });
    for (const value of [new Error('x'), lookAlike, null, undefined, 'LatchkeyError', 401, {}])
      expect(value instanceof LatchkeyError).toBe(false);
  });

  it('a subclass keeps the ordinary check', () => {
    const bearer = new BearerError('invalid_token');
    expect(bearer instanceof BearerError).toBe(true);
    expect(bearer instanceof LatchkeyError).toBe(true);
    expect(new LatchkeyError('invalid_token') instanceof BearerError).toBe(false);
  });
});
