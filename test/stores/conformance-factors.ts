/**
 * The second-factor part of the store conformance suite (`./conformance.ts` runs it on every
 * store): the contract of `FactorStore` in `src/store.ts`, and its one atomic operation attacked
 * with concurrent calls.
 */

import { describe, expect, it } from 'vitest';
import { LatchkeyError } from '../../src/errors.js';
import type { FactorRecord } from '../../src/records.js';
import type { Store } from '../../src/store.js';

const T0 = Date.UTC(2026, 0, 1);

function factor(overrides: Partial<FactorRecord> = {}): FactorRecord {
  return {
    id: 'factor-1',
    userId: 'u1',
    kind: 'totp',
    label: 'Phone ☎ "work"',
    secret: 'v1.aaaaaaaaaaaaaaaa.bbbb.cccccccccccccccccccccc',
    lastUsedStep: null,
    createdAt: T0,
    confirmedAt: null,
    lastUsedAt: null,
    ...overrides,
  };
}

/** Registers the factor tests; `store` gives the store of the current test. */
export function describeFactorConformance(store: () => Store): void {
  describe('second factors', () => {
    it('creates, lists oldest first, and keeps every field as written', async () => {
      const b = factor({
        id: 'b',
        createdAt: T0 + 2,
        confirmedAt: T0 + 3,
        lastUsedStep: 58_000_000,
        lastUsedAt: T0 + 4,
      });
      const a = factor({ id: 'a', createdAt: T0 + 2 });
      const c = factor({ id: 'c', createdAt: T0 + 1 });
      for (const record of [b, a, c, factor({ id: 'other', userId: 'u2' })])
        await store().createFactor(record);
      expect(await store().listFactors('u1')).toEqual([c, a, b]);
      expect(await store().listFactors('nobody')).toEqual([]);
    });

    it('refuses a duplicate id', async () => {
      await store().createFactor(factor());
      const error = await store()
        .createFactor(factor({ label: 'again' }))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LatchkeyError);
      expect((error as LatchkeyError).code).toBe('internal_error');
      expect((await store().listFactors('u1')).map((f) => f.label)).toEqual(['Phone ☎ "work"']);
    });

    it('confirms once, and only the factor of that user', async () => {
      await store().createFactor(factor());
      expect(await store().confirmFactor('u2', 'factor-1', T0 + 5)).toBe(false);
      expect(await store().confirmFactor('u1', 'missing', T0 + 5)).toBe(false);
      expect(await store().confirmFactor('u1', 'factor-1', T0 + 5)).toBe(true);
      expect(await store().confirmFactor('u1', 'factor-1', T0 + 9)).toBe(false);
      expect((await store().listFactors('u1'))[0]?.confirmedAt).toBe(T0 + 5);
    });

    it('accepts each step once and never an earlier one', async () => {
      await store().createFactor(factor());
      const step = 58_934_112;
      expect(await store().useFactorStep('u1', 'factor-1', step, T0 + 1)).toBe(true);
      expect(await store().useFactorStep('u1', 'factor-1', step, T0 + 2)).toBe(false);
      expect(await store().useFactorStep('u1', 'factor-1', step - 1, T0 + 3)).toBe(false);
      expect(await store().useFactorStep('u2', 'factor-1', step + 1, T0 + 4)).toBe(false);
      expect(await store().useFactorStep('u1', 'missing', step + 1, T0 + 4)).toBe(false);
      expect((await store().listFactors('u1'))[0]).toMatchObject({ lastUsedStep: step, lastUsedAt: T0 + 1 });
      expect(await store().useFactorStep('u1', 'factor-1', step + 1, T0 + 5)).toBe(true);
      expect((await store().listFactors('u1'))[0]).toMatchObject({
        lastUsedStep: step + 1,
        lastUsedAt: T0 + 5,
      });
    });

    it('accepts a step for exactly one of 20 concurrent calls', async () => {
      await store().createFactor(factor());
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store().useFactorStep('u1', 'factor-1', 1000, T0 + i)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('deletes a factor of its user only, with its state', async () => {
      await store().createFactor(factor());
      await store().useFactorStep('u1', 'factor-1', 7, T0);
      expect(await store().deleteFactor('u2', 'factor-1')).toBe(false);
      expect(await store().deleteFactor('u1', 'factor-1')).toBe(true);
      expect(await store().deleteFactor('u1', 'factor-1')).toBe(false);
      expect(await store().listFactors('u1')).toEqual([]);
      // A new factor under the same id starts afresh: no step, not confirmed.
      await store().createFactor(factor());
      expect((await store().listFactors('u1'))[0]).toMatchObject({ lastUsedStep: null, confirmedAt: null });
    });
  });
}
