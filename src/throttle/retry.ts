import { LatchkeyError } from '../errors.js';

/** Whole seconds from `now` until `expiresAt`, at least 1 (the `Retry-After` of a 429). */
export function retryAfterSeconds(expiresAt: number, now: number): number {
  return Math.max(1, Math.ceil((expiresAt - now) / 1000));
}

/**
 * The refusal of a throttled attempt: `too_many_requests` (429) with `Retry-After`. The message
 * is the catalogue's; it never names the key that was counted.
 */
export function tooManyRequests(expiresAt: number, now: number): LatchkeyError {
  return new LatchkeyError('too_many_requests', undefined, {
    retryAfter: retryAfterSeconds(expiresAt, now),
  });
}
