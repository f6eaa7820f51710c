/**
 * The keyring's parsed copy of the stored signing keys: one entry per key, parsed once, and
 * the rules that read the copy (removed, newest first, state).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5 JWK Set
 */

import type { SigningKeyRecord } from '../records.js';
import type { AccessTokenSigningKey, VerificationKey } from './algorithms.js';
import type { LoadedSigningKey } from './key-material.js';

/**
 * A stored key with its parsed forms; `record` is replaced on reload, the parsed key reused.
 *
 * @example
 * const entry: LoadedEntry = { record, loaded, signing, verification };
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-4
 */
export interface LoadedEntry {
  record: SigningKeyRecord;
  readonly loaded: LoadedSigningKey;
  readonly signing: AccessTokenSigningKey;
  readonly verification: VerificationKey;
}

/**
 * Whether the key has reached its `expiresAt` at `now`: then it is neither published nor used.
 *
 * @example
 * if (isRemoved(entry.record, clock())) return undefined;
 * @see https://openid.net/specs/openid-connect-core-1_0.html#RotateSigKeys
 */
export function isRemoved(record: SigningKeyRecord, now: number): boolean {
  return record.expiresAt !== null && record.expiresAt <= now;
}

/**
 * Positive when `a` is newer than `b`: later activation, then later creation, then kid.
 *
 * @example
 * records.sort((a, b) => compareNewest(b, a)); // newest first
 * @see https://openid.net/specs/openid-connect-core-1_0.html#RotateSigKeys
 */
export function compareNewest(a: SigningKeyRecord, b: SigningKeyRecord): number {
  if (a.activatesAt !== b.activatesAt) return a.activatesAt - b.activatesAt;
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0;
}
