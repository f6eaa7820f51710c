/**
 * A secondary index: a key (a user id, a session id, a subject and purpose) to the set of
 * record ids filed under it, so that "every record of X" costs the size of X, not of the store.
 */

/** Key to the ids of the records filed under it. An entry never holds an empty set. */
export type SecondaryIndex = Map<string, Set<string>>;

/**
 * Files `value` under `key`.
 *
 * @example
 * addToIndex(sessionIdsByUser, session.userId, session.id);
 */
export function addToIndex(index: SecondaryIndex, key: string, value: string): void {
  let set = index.get(key);
  if (set === undefined) {
    set = new Set();
    index.set(key, set);
  }
  set.add(value);
}

/**
 * Unfiles `value` from `key`, dropping the key once its set is empty so that the index does not
 * keep one entry per key ever seen.
 *
 * @example
 * removeFromIndex(sessionIdsByUser, session.userId, session.id);
 */
export function removeFromIndex(index: SecondaryIndex, key: string, value: string): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}
