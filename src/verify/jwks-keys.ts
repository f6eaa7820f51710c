/**
 * The keys of a fetched JWK Set, by `kid`: each imported once, and kept as the same object
 * while the server publishes it unchanged.
 *
 * @see ./remote-jwks.ts the key set kept fresh with it
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5 JWK Set
 */

import { importPublicJWK } from '../keys/key-material.js';
import type { VerificationKey } from '../token/jwt.js';

/** Keys read from one JWK Set; the rest are ignored. */
const MAX_KEYS = 100;

/** A key held, with the JWK it was imported from (to tell whether it changed). */
export interface HeldKey {
  readonly json: string;
  readonly key: VerificationKey;
}

/**
 * Parses the first 100 JWKs of a set. Skips a JWK without a string `kid` or that cannot be
 * imported; drops every key of a `kid` listed twice; reuses a `held` key whose JWK is unchanged.
 *
 * @example
 * keys = parseKeys(body.keys, keys);
 */
export function parseKeys(
  jwks: readonly unknown[],
  held: ReadonlyMap<string, HeldKey>,
): Map<string, HeldKey> {
  const list = jwks.slice(0, MAX_KEYS);
  const next = new Map<string, HeldKey>();
  const duplicated = new Set<string>();
  for (const jwk of list) {
    const json = JSON.stringify(jwk);
    const kid = typeof jwk === 'object' && jwk !== null ? (jwk as { kid?: unknown }).kid : undefined;
    if (typeof kid !== 'string') continue;
    if (next.has(kid) || duplicated.has(kid)) {
      // Two keys under one kid: which one verifies would be ambiguous, so neither does.
      next.delete(kid);
      duplicated.add(kid);
      continue;
    }
    const previous = held.get(kid);
    if (previous !== undefined && previous.json === json) {
      // Unchanged: the same KeyObject, so the verifier's cache of verified tokens stays valid.
      next.set(kid, previous);
      continue;
    }
    try {
      next.set(kid, { json, key: importPublicJWK(jwk) });
    } catch {
      // A key we cannot use (another algorithm, a symmetric key, garbage): skip it.
    }
  }
  return next;
}
