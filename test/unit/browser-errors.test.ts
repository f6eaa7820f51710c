import { describe, expect, it } from 'vitest';
import { SERVER_ERROR_CODES } from '../../src/browser/errors.js';
import { ERROR_CATALOGUE } from '../../src/errors.js';

describe('latchkey/browser error codes', () => {
  it('are exactly the codes of the server catalogue, so a new code cannot be forgotten in the SDK', () => {
    expect([...SERVER_ERROR_CODES].sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort());
  });
});
