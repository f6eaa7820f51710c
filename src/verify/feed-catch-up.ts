/**
 * A pub/sub feed's position: the records applied so far, the catch-up from a snapshot that
 * moves it, and the seqs applied recently (a live message for one of them is skipped).
 *
 * @see ./pubsub-feed.ts the engine that catches up on every (re)connection and resync
 * @see ./feed-snapshot.ts where the snapshot comes from
 */

import type { RevocationRecord } from '../records.js';
import type { RevocationSnapshot } from './feed-snapshot.js';

/** Seqs remembered for deduplication of live messages. */
const MAX_SEEN = 10_000;

/** Where a pub/sub feed stands; see {@link createFeedPosition}. */
export interface FeedPosition {
  /** The last snapshot's position: every record up to it has been applied; 0 before any. */
  readonly lastSeq: number;
  /** True when `seq` was applied recently. */
  seen(seq: number): boolean;
  /** Applies `record` through `apply` and remembers its seq; does nothing once closed. */
  deliver(record: RevocationRecord, apply: (record: RevocationRecord) => void): void;
  /**
   * Applies every record after the position, then moves the position. `read` is asked for the
   * records after the position (for all of them before the first snapshot).
   */
  catchUp(
    read: (afterSeq?: number) => Promise<RevocationSnapshot>,
    apply: (record: RevocationRecord) => void,
  ): Promise<void>;
}

/**
 * Creates the position of a feed, at 0 with nothing seen.
 *
 * @example
 * const position = createFeedPosition(() => shell.closed);
 * await position.catchUp(snapshot, apply);
 */
export function createFeedPosition(isClosed: () => boolean): FeedPosition {
  /** The last snapshot's position: every record up to it has been applied. */
  let position = 0;
  let synced = false;
  /** Seqs applied recently, in insertion order: a live message for one of them is skipped. */
  const seen = new Set<number>();

  function remember(seq: number): void {
    seen.add(seq);
    if (seen.size > MAX_SEEN) {
      const oldest = seen.values().next();
      if (oldest.done !== true) seen.delete(oldest.value);
    }
  }

  function deliver(record: RevocationRecord, apply: (record: RevocationRecord) => void): void {
    if (isClosed()) return;
    remember(record.seq);
    apply(record);
  }

  return {
    get lastSeq() {
      return position;
    },
    seen(seq) {
      return seen.has(seq);
    },
    deliver,
    async catchUp(read, apply) {
      const result = await read(synced ? position : undefined);
      const records: unknown = result.records;
      if (!Array.isArray(records) || typeof result.lastSeq !== 'number' || !Number.isFinite(result.lastSeq)) {
        throw new Error('snapshot returned a malformed result');
      }
      if (isClosed()) return;
      for (const record of result.records) deliver(record, apply);
      position = Math.max(position, result.lastSeq);
      synced = true;
    },
  };
}
