/**
 * Second factors in the memory store: one map of factors per user (a user has a handful).
 */

import { LatchkeyError } from '../../errors.js';
import type { FactorRecord } from '../../records.js';
import type { FactorStore } from '../../store.js';
import type { RunOperation } from './runner.js';

/**
 * Creates the factor operations of one memory store, over state of their own.
 *
 * @example
 * const factors = createMemoryFactors(run);
 * await factors.createFactor(record);
 * await factors.useFactorStep(record.userId, record.id, 1234, Date.now()); // true, once
 */
export function createMemoryFactors(run: RunOperation): FactorStore {
  const byUser = new Map<string, Map<string, FactorRecord>>();
  const ids = new Set<string>();

  return {
    createFactor(factor) {
      return run(() => {
        if (ids.has(factor.id))
          throw new LatchkeyError('internal_error', 'A factor with this id already exists');
        ids.add(factor.id);
        let factors = byUser.get(factor.userId);
        if (factors === undefined) byUser.set(factor.userId, (factors = new Map<string, FactorRecord>()));
        factors.set(factor.id, { ...factor });
      });
    },

    listFactors(userId) {
      return run(() =>
        [...(byUser.get(userId)?.values() ?? [])]
          .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
          .map((factor) => ({ ...factor })),
      );
    },

    confirmFactor(userId, id, at) {
      return run(() => {
        const factor = byUser.get(userId)?.get(id);
        if (factor === undefined || factor.confirmedAt !== null) return false;
        factor.confirmedAt = at;
        return true;
      });
    },

    useFactorStep(userId, id, step, at) {
      return run(() => {
        const factor = byUser.get(userId)?.get(id);
        if (factor === undefined) return false;
        if (factor.lastUsedStep !== null && factor.lastUsedStep >= step) return false;
        factor.lastUsedStep = step;
        factor.lastUsedAt = at;
        return true;
      });
    },

    deleteFactor(userId, id) {
      return run(() => {
        const factors = byUser.get(userId);
        if (factors?.delete(id) !== true) return false;
        ids.delete(id);
        if (factors.size === 0) byUser.delete(userId);
        return true;
      });
    },
  };
}
