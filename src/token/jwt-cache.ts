/**
 * A bounded cache of already-verified tokens, used by the access-token verifier.
 *
 * Entries are evicted in insertion order (not LRU: entries are not moved on a hit): access tokens
 * live minutes, so a hot token evicted by a burst of new ones costs one cold verification, and a
 * hit stays one hash lookup and one string comparison. The order is kept in a ring of the
 * insertions, so that evicting is O(1): not `map.keys().next()`, which in V8 walks over every
 * entry deleted since the table was last rebuilt (thousands, in a full cache that evicts on every
 * insertion). Only successes are ever stored, and an
 * entry is returned only for the exact string it was stored under, so a token that differs by
 * a single character misses and is verified in full.
 *
 * The `Map` is not keyed by the token itself: a token read from a request is a new string
 * every time, and hashing hundreds of characters on every lookup costs more than the rest of
 * the hit. It is keyed by a 30-bit hash of the token's last characters (for a JWS, its
 * signature: unpredictable without the key) and its length; each entry keeps its string, and
 * `get` compares it in full. Two stored tokens with the same hash cannot both be held: the
 * later one replaces the earlier, which costs the earlier one a verification, never a wrong
 * answer. Only verified tokens are stored, so someone without a signing key cannot choose the
 * signatures, and so cannot make entries collide on purpose.
 */

/** A size-bounded string-keyed cache; see `createBoundedCache`. */
export interface BoundedCache<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  delete(key: string): void;
  clear(): void;
  readonly size: number;
}

interface Slot<V> {
  readonly key: string;
  readonly value: V;
  readonly hash: number;
  /** Set once the slot is deleted or replaced; it then waits in the ring to be dropped. */
  removed: boolean;
}

/** How many trailing characters the hash reads. */
const HASHED_CHARS = 24;

/**
 * A 30-bit hash (a small integer, cheap as a `Map` key) of the length and the last
 * `HASHED_CHARS` characters of `key`. Not cryptographic: the cache compares keys in full.
 */
function hashKey(key: string): number {
  const length = key.length;
  let hash = length ^ 0x2f9d8a5b;
  for (let i = length > HASHED_CHARS ? length - HASHED_CHARS : 0; i < length; i++) {
    hash = Math.imul(hash ^ key.charCodeAt(i), 0x9e3779b1);
  }
  hash ^= hash >>> 15;
  return Math.imul(hash, 0x85ebca6b) >>> 2;
}

/**
 * Creates a cache holding at most `maxEntries` values; inserting into a full cache evicts the
 * oldest insertion. A key is found only by an identical string.
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
  const slots = new Map<number, Slot<V>>();
  // Every slot inserted, oldest first from `oldest` once full; removed slots stay until their turn.
  let ring: Slot<V>[] = [];
  let oldest = 0;
  return {
    get(key: string): V | undefined {
      const slot = slots.get(hashKey(key));
      return slot !== undefined && slot.key === key ? slot.value : undefined;
    },
    set(key: string, value: V): void {
      const hash = hashKey(key);
      // The same key, or another one with the same hash: either way the new entry replaces it.
      const replaced = slots.get(hash);
      if (replaced !== undefined) replaced.removed = true;
      const slot: Slot<V> = { key, value, hash, removed: false };
      if (ring.length < maxEntries) {
        ring.push(slot);
      } else {
        const evicted = ring[oldest];
        if (evicted !== undefined && !evicted.removed) {
          evicted.removed = true;
          slots.delete(evicted.hash);
        }
        ring[oldest] = slot;
        oldest = oldest + 1 === maxEntries ? 0 : oldest + 1;
      }
      slots.set(hash, slot);
    },
    delete(key: string): void {
      const hash = hashKey(key);
      const slot = slots.get(hash);
      if (slot?.key === key) {
        slot.removed = true;
        slots.delete(hash);
      }
    },
    clear(): void {
      slots.clear();
      ring = [];
      oldest = 0;
    },
    get size(): number {
      return slots.size;
    },
  };
}
