/**
 * The session credentials (`id.secret`) that matched a record of the near session cache, so that
 * the next request with the same credential and the same cached record skips the secret's
 * SHA-256 (about a third of a cached request's own cost). A credential is found by a `Map` lookup
 * on the whole string, as `latchkey/verify` finds a token it has verified: the string is hashed
 * and compared only with an entry of the same hash, so a guess learns nothing of a stored
 * secret, unlike comparing it with `===` against the credential that matched. An entry stands
 * only while the near cache still hands out that very record: a session dropped, read again or
 * slid is a new record (or none), and its credential is checked again from the hash.
 *
 * Bounded: the map is emptied when it reaches its size (the entries are a shortcut, nothing is
 * lost). The credentials stay in this process's memory only, as the cache's records do.
 */

import type { SessionRecord } from '../records.js';

export interface VerifiedCredentials {
  /** The cached record `credential` matched, if it is remembered. */
  get(credential: string): SessionRecord | undefined;
  /** Remembers that `credential` matched `session` (a record of the near cache). */
  remember(credential: string, session: SessionRecord): void;
}

/** Creates a {@link VerifiedCredentials} of at most `maxEntries` credentials. */
export function createVerifiedCredentials(maxEntries = 10_000): VerifiedCredentials {
  const verified = new Map<string, SessionRecord>();
  return {
    get: (credential) => verified.get(credential),
    remember(credential, session) {
      if (verified.size >= maxEntries) verified.clear();
      verified.set(credential, session);
    },
  };
}
