/** Revocation records in the memory store: an array kept in `seq` order. */

import type { NewRevocation, RevocationRecord } from '../../records.js';
import type { RevocationStore } from '../../store.js';
import type { RunOperation } from './runner.js';

/** The live records after `afterSeq`, at most `limit` of them, copied. */
function listLive(
  revocations: readonly RevocationRecord[],
  options: { now: number; afterSeq?: number; limit?: number },
): RevocationRecord[] {
  const { now, afterSeq, limit } = options;
  const result: RevocationRecord[] = [];
  if (limit !== undefined && limit <= 0) return result;
  for (const record of revocations) {
    if (afterSeq !== undefined && record.seq <= afterSeq) continue;
    if (record.expiresAt <= now) continue;
    result.push({ ...record });
    if (limit !== undefined && result.length >= limit) break;
  }
  return result;
}

/**
 * Creates the revocation operations of one memory store, over state of their own.
 *
 * @example
 * const revocations = createMemoryRevocations(run);
 * const { seq } = await revocations.addRevocation(record);
 */
export function createMemoryRevocations(run: RunOperation): RevocationStore {
  /** Always in `seq` order. */
  let revocations: RevocationRecord[] = [];
  let lastSeq = 0;

  return {
    addRevocation(record: NewRevocation): Promise<RevocationRecord> {
      return run(() => {
        lastSeq += 1;
        const stored: RevocationRecord = {
          seq: lastSeq,
          kind: record.kind,
          subject: record.subject,
          issuedBefore: record.issuedBefore,
          createdAt: record.createdAt,
          expiresAt: record.expiresAt,
        };
        revocations.push(stored);
        return { ...stored };
      });
    },

    listRevocations(options: {
      now: number;
      afterSeq?: number;
      limit?: number;
    }): Promise<RevocationRecord[]> {
      return run(() => listLive(revocations, options));
    },

    deleteExpiredRevocations(now: number): Promise<number> {
      return run(() => {
        const before = revocations.length;
        revocations = revocations.filter((record) => record.expiresAt > now);
        return before - revocations.length;
      });
    },
  };
}
