/** Signing keys in the memory store, by kid. */

import { LatchkeyError } from '../../errors.js';
import type { SigningKeyRecord } from '../../records.js';
import type { KeyStore } from '../../store.js';
import { compareCodePoints } from '../ordering.js';
import type { RunOperation } from './runner.js';

/** Oldest first: `createdAt`, then `kid` (the order every store lists keys in). */
function oldestFirst(a: SigningKeyRecord, b: SigningKeyRecord): number {
  return a.createdAt - b.createdAt || compareCodePoints(a.kid, b.kid);
}

/**
 * Creates the signing-key operations of one memory store, over state of their own.
 *
 * @example
 * const keys = createMemorySigningKeys(run);
 * await keys.insertKey(key);
 */
export function createMemorySigningKeys(run: RunOperation): KeyStore {
  const keys = new Map<string, SigningKeyRecord>();

  return {
    listKeys(): Promise<SigningKeyRecord[]> {
      return run(() => [...keys.values()].sort(oldestFirst).map((key) => ({ ...key })));
    },

    insertKey(key: SigningKeyRecord): Promise<void> {
      return run(() => {
        if (keys.has(key.kid)) {
          throw new LatchkeyError('internal_error', 'A signing key with this kid already exists');
        }
        keys.set(key.kid, { ...key });
      });
    },

    updateKey(kid: string, patch: { retiredAt?: number | null; expiresAt?: number | null }): Promise<void> {
      return run(() => {
        const key = keys.get(kid);
        if (key === undefined) return;
        if (patch.retiredAt !== undefined) key.retiredAt = patch.retiredAt;
        if (patch.expiresAt !== undefined) key.expiresAt = patch.expiresAt;
      });
    },

    deleteKey(kid: string): Promise<void> {
      return run(() => {
        keys.delete(kid);
      });
    },
  };
}
