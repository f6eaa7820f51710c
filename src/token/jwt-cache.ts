/**
 * A bounded cache of already-verified tokens, used by the access-token verifier.
 *
 * A `Map` keeps insertion order, so evicting the oldest entry is `keys().next()`: O(1) with no
 * bookkeeping. Entries are not moved on a hit (insertion order, not LRU): access tokens live
 * minutes, so a hot token evicted by a burst of new ones costs one cold verification, and a
 * hit stays two hash lookups. Only successes are ever stored, keyed by the exact token string,
 * so a token that differs by a single character misses and is verified in full.
 */

/** A size-bounded string-keyed cache; see `createBoundedCache`. */
export interface BoundedCache<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  delete(key: string): void;
  clear(): void;
  readonly size: number;
}

/**
 * Creates a cache holding at most `maxEntries` values; inserting into a full cache evicts the
 * oldest insertion.
 *
 * @example
 * const cache = createBoundedCache<number>({ maxEntries: 2 });
 * cache.set('a', 1); cache.set('b', 2); cache.set('c', 3); // 'a' is evicted
 */
export function createBoundedCache<V>(options: { maxEntries: number }): BoundedCache<V> {
  const { maxEntries } = options;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new TypeError('"cache.maxEntries" must be a positive integer');
  }
  const entries = new Map<string, V>();
  return {
    get(key: string): V | undefined {
      return entries.get(key);
    },
    set(key: string, value: V): void {
      if (entries.has(key)) {
        entries.delete(key);
      } else if (entries.size >= maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done !== true) entries.delete(oldest.value);
      }
      entries.set(key, value);
    },
    delete(key: string): void {
      entries.delete(key);
    },
    clear(): void {
      entries.clear();
    },
    get size(): number {
      return entries.size;
    },
  };
}
