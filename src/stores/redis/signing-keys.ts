/**
 * Signing keys in Redis: one hash per key, `P:{keys}:kid:<kid>` (null fields are absent), and
 * the set of every kid, `P:{keys}:index`. Both share the `{keys}` tag, so that inserting and
 * deleting a key are one script each. No TTL: keys are deleted by the key rotation.
 */

import { LatchkeyError } from '../../errors.js';
import type { KeyAlgorithm, SigningKeyRecord } from '../../records.js';
import { compareCodePoints } from '../ordering.js';
import type { KeyStore } from '../../store.js';
import { malformed, numberOrNull, oneOf, requiredNumber } from './codec.js';
import { mapInChunks, type RedisContext } from './context.js';
import {
  deleteKey as deleteScript,
  insertKey as insertScript,
  updateKey as updateScript,
} from './signing-key-scripts.js';

const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['EdDSA', 'ES256', 'RS256', 'HS256'];

function encodeSigningKey(key: SigningKeyRecord): string[] {
  const fields = [
    'kid',
    key.kid,
    'alg',
    key.alg,
    'encryptedPrivateKey',
    key.encryptedPrivateKey,
    'createdAt',
    String(key.createdAt),
    'activatesAt',
    String(key.activatesAt),
  ];
  if (key.publicJwk !== null) fields.push('publicJwk', key.publicJwk);
  if (key.retiredAt !== null) fields.push('retiredAt', String(key.retiredAt));
  if (key.expiresAt !== null) fields.push('expiresAt', String(key.expiresAt));
  return fields;
}

function decodeSigningKey(hash: Record<string, string>): SigningKeyRecord | null {
  const what = 'signing key';
  if (hash.kid === undefined) return null;
  const { alg, encryptedPrivateKey } = hash;
  if (alg === undefined || encryptedPrivateKey === undefined) throw malformed(what);
  return {
    kid: hash.kid,
    alg: oneOf(alg, KEY_ALGORITHMS, what),
    publicJwk: hash.publicJwk ?? null,
    encryptedPrivateKey,
    createdAt: requiredNumber(hash.createdAt, what),
    activatesAt: requiredNumber(hash.activatesAt, what),
    retiredAt: numberOrNull(hash.retiredAt, what),
    expiresAt: numberOrNull(hash.expiresAt, what),
  };
}

async function listKeys({ client, keys }: RedisContext): Promise<SigningKeyRecord[]> {
  const kids = await client.smembers(keys.keyIndex);
  const records = await mapInChunks(kids, async (kid) =>
    decodeSigningKey(await client.hgetall(keys.key(kid))),
  );
  return records
    .filter((record) => record !== null)
    .sort((a, b) => a.createdAt - b.createdAt || compareCodePoints(a.kid, b.kid));
}

async function insertKey(context: RedisContext, key: SigningKeyRecord): Promise<void> {
  const { keys } = context;
  const inserted = await context.runScript(
    insertScript,
    [keys.key(key.kid), keys.keyIndex],
    [key.kid, ...encodeSigningKey(key)],
  );
  if (inserted !== 1) throw new LatchkeyError('internal_error', 'A signing key with this kid already exists');
}

/** A patch field as the update script takes it: keep it, set it, or clear it (null). */
function patchMode(value: number | null | undefined): [string, string] {
  return value === undefined ? ['keep', ''] : value === null ? ['null', ''] : ['set', String(value)];
}

async function updateKey(
  context: RedisContext,
  kid: string,
  patch: { retiredAt?: number | null; expiresAt?: number | null },
): Promise<void> {
  await context.runScript(
    updateScript,
    [context.keys.key(kid)],
    [...patchMode(patch.retiredAt), ...patchMode(patch.expiresAt)],
  );
}

async function deleteKey(context: RedisContext, kid: string): Promise<void> {
  await context.runScript(deleteScript, [context.keys.key(kid), context.keys.keyIndex], [kid]);
}

/**
 * The signing-key operations of one Redis store.
 *
 * @example
 * const signingKeys = createRedisSigningKeys(context);
 * await signingKeys.insertKey(key); // rejects with internal_error when the kid exists
 */
export function createRedisSigningKeys(context: RedisContext): KeyStore {
  const { run } = context;
  return {
    listKeys: () => run(() => listKeys(context)),
    insertKey: (key) => run(() => insertKey(context, key)),
    updateKey: (kid, patch) => run(() => updateKey(context, kid, patch)),
    deleteKey: (kid) => run(() => deleteKey(context, kid)),
  };
}
