/**
 * One-time tokens in the memory store, by id (the hash of the secret), with an index by subject
 * and purpose so that dropping a subject's tokens costs the size of that set, not of the store.
 */

import { LatchkeyError } from '../../errors.js';
import type { OneTimeTokenRecord } from '../../records.js';
import type { OneTimeTokenStore } from '../../store.js';
import type { RunOperation } from './runner.js';
import { addToIndex, removeFromIndex, type SecondaryIndex } from './secondary-index.js';

/**
 * The index key of a (subject, purpose) pair. JSON keeps it unambiguous whatever characters the
 * two contain (a plain separator could be part of either).
 */
function subjectPurposeKey(subject: string, purpose: string): string {
  return JSON.stringify([subject, purpose]);
}

/**
 * The synchronous writes of the memory one-time tokens, for an operation of another record kind
 * that must store a token in the same step (the mail outbox: `./mails.ts`).
 */
export interface OneTimeTokenWrites {
  /** Throws `internal_error` when the id exists. */
  put(token: OneTimeTokenRecord): void;
  /** Removes every token of the subject with this purpose; returns how many. */
  deleteOf(subject: string, purpose: string): number;
}

/**
 * Creates the one-time-token operations of one memory store, over state of their own, and the
 * synchronous writes that the mail outbox reuses.
 * Every token in `tokens` is filed in `idsBySubjectPurpose`, and only those: each write updates
 * both in the same synchronous step.
 *
 * @example
 * const { store: tokens } = createMemoryOneTimeTokens(run);
 * await tokens.putOneTimeToken(record);
 * await tokens.consumeOneTimeToken(record.id, record.purpose, Date.now()); // the record, once
 */
export function createMemoryOneTimeTokens(run: RunOperation): {
  store: OneTimeTokenStore;
  writes: OneTimeTokenWrites;
} {
  const tokens = new Map<string, OneTimeTokenRecord>();
  const idsBySubjectPurpose: SecondaryIndex = new Map();

  /** Removes one token from the map and from the index together, so that the two never disagree. */
  function remove(token: OneTimeTokenRecord): void {
    tokens.delete(token.id);
    removeFromIndex(idsBySubjectPurpose, subjectPurposeKey(token.subject, token.purpose), token.id);
  }

  const writes: OneTimeTokenWrites = {
    put(token) {
      if (tokens.has(token.id)) {
        throw new LatchkeyError('internal_error', 'A one-time token with this id already exists');
      }
      tokens.set(token.id, { ...token });
      addToIndex(idsBySubjectPurpose, subjectPurposeKey(token.subject, token.purpose), token.id);
    },
    deleteOf(subject, purpose) {
      const key = subjectPurposeKey(subject, purpose);
      const ids = idsBySubjectPurpose.get(key);
      if (ids === undefined) return 0;
      for (const id of ids) tokens.delete(id);
      idsBySubjectPurpose.delete(key);
      return ids.size;
    },
  };

  const store: OneTimeTokenStore = {
    putOneTimeToken(token: OneTimeTokenRecord): Promise<void> {
      return run(() => writes.put(token));
    },
    consumeOneTimeToken(id: string, purpose: string, now: number): Promise<OneTimeTokenRecord | null> {
      return run(() => {
        const token = tokens.get(id);
        // A token asked for under another purpose, or too late, stays where it is: the wrong
        // purpose must not burn a live token, and an expired one is left to the sweep.
        if (token === undefined || token.purpose !== purpose || now >= token.expiresAt) return null;
        remove(token);
        return { ...token };
      });
    },

    deleteOneTimeTokens(subject: string, purpose: string): Promise<number> {
      return run(() => writes.deleteOf(subject, purpose));
    },

    countOneTimeTokens(subject: string, purpose: string, now: number): Promise<number> {
      return run(() => {
        let live = 0;
        for (const id of idsBySubjectPurpose.get(subjectPurposeKey(subject, purpose)) ?? []) {
          if ((tokens.get(id)?.expiresAt ?? now) > now) live += 1;
        }
        return live;
      });
    },

    deleteExpiredOneTimeTokens(now: number): Promise<number> {
      return run(() => {
        let removed = 0;
        // Deleting the entry being visited is safe while iterating a Map.
        for (const token of tokens.values()) {
          if (token.expiresAt > now) continue;
          remove(token);
          removed += 1;
        }
        return removed;
      });
    },
  };
  return { store, writes };
}
