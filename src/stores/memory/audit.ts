/** The audit trail in the memory store: one array, kept in insertion order, sorted on listing. */

import { LatchkeyError } from '../../errors.js';
import type { AuditCursor, AuditRecord } from '../../records.js';
import type { AuditStore } from '../../store.js';
import type { RunOperation } from './runner.js';

/** Newest first: `at` desc, then `id` desc (code-point order). */
export function newerFirst(a: { at: number; id: string }, b: { at: number; id: string }): number {
  if (a.at !== b.at) return b.at - a.at;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** True when `record` comes strictly after the cursor in newest-first order. */
function olderThan(record: AuditRecord, before: AuditCursor | undefined): boolean {
  if (before === undefined) return true;
  return record.at < before.at || (record.at === before.at && record.id < before.id);
}

function copy(record: AuditRecord): AuditRecord {
  return { ...record, details: { ...record.details } };
}

/**
 * Creates the audit operations of one memory store, over state of their own.
 *
 * @example
 * const audit = createMemoryAudit(run);
 * await audit.addAuditRecord(record);
 */
export function createMemoryAudit(run: RunOperation): AuditStore {
  const records = new Map<string, AuditRecord>();
  return {
    addAuditRecord(record) {
      return run(() => {
        if (records.has(record.id))
          throw new LatchkeyError('internal_error', 'An audit record with this id already exists');
        records.set(record.id, copy(record));
      });
    },

    listAuditRecords({ limit, userId, before }) {
      return run(() =>
        [...records.values()]
          .filter((record) => (userId === undefined || record.userId === userId) && olderThan(record, before))
          .sort(newerFirst)
          .slice(0, Math.max(0, limit))
          .map(copy),
      );
    },

    deleteExpiredAuditRecords(now) {
      return run(() => {
        let removed = 0;
        for (const record of records.values()) {
          if (record.expiresAt > now) continue;
          records.delete(record.id);
          removed += 1;
        }
        return removed;
      });
    },
  };
}
