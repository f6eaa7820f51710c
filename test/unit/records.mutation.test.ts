/**
 * `isSessionLive`, the one rule for a live session (`src/records.ts`), at its edges: a session
 * is dead at the very millisecond either of its expiries is reached, and once revoked.
 */
import { describe, expect, it } from 'vitest';
import { isSessionLive } from '../../src/records.js';

const NOW = Date.UTC(2026, 0, 1);

describe('isSessionLive', () => {
  const live = { revokedAt: null, idleExpiresAt: NOW + 1_000, absoluteExpiresAt: NOW + 5_000 };

  it('is live before both expiries', () => {
    expect(isSessionLive(live, NOW)).toBe(true);
    expect(isSessionLive(live, NOW + 999)).toBe(true);
  });

  it('is dead from the millisecond of its idle expiry', () => {
    expect(isSessionLive(live, NOW + 1_000)).toBe(false);
    expect(isSessionLive(live, NOW + 1_001)).toBe(false);
  });

  it('is dead from the millisecond of its absolute expiry, whatever its idle expiry says', () => {
    const absoluteFirst = { revokedAt: null, idleExpiresAt: NOW + 9_000, absoluteExpiresAt: NOW + 5_000 };
    expect(isSessionLive(absoluteFirst, NOW + 4_999)).toBe(true);
    expect(isSessionLive(absoluteFirst, NOW + 5_000)).toBe(false);
    expect(isSessionLive(absoluteFirst, NOW + 6_000)).toBe(false);
  });

  it('is dead once revoked, even before its expiries', () => {
    expect(isSessionLive({ ...live, revokedAt: NOW }, NOW)).toBe(false);
    expect(isSessionLive({ ...live, revokedAt: NOW - 60_000 }, NOW)).toBe(false);
  });
});
