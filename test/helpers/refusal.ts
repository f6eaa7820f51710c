import { LatchkeyError } from '../../src/errors.js';

/** The LatchkeyError a promise rejects with; fails when it resolves or rejects with anything else. */
export async function refusal(promise: Promise<unknown>): Promise<LatchkeyError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LatchkeyError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}
