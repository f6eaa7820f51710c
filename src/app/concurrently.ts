/** Bounded concurrency for `latchkey copy` (`./copy.ts`, `./copy-sessions.ts`). */

/** Records of one page written at once: enough to keep a connection pool busy. */
const CONCURRENCY = 16;

/**
 * Runs `task` on every item, at most {@link CONCURRENCY} at a time. The records of one page are
 * independent of each other, and a network store commits many at once far faster than one by
 * one (each commit waits for its own flush).
 *
 * @example
 * await forEachConcurrently(page, (user) => copyUser(run, user));
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}
