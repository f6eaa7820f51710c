/**
 * Passkeys in Redis. Each passkey is a hash in its own slot, keyed by its credential id
 * (`P:{pk:<credentialId>}`), which is the global index a username-less sign-in needs; a set per
 * user (`P:{u:<uid>}:passkeys`, in the user's slot) lists their credential ids.
 *
 * | field | holds                                                               |
 * | ----- | ------------------------------------------------------------------- |
 * | `o`   | the user id                                                         |
 * | `r`   | `[publicKey, transports, backupEligible, aaguid, createdAt]` (JSON) |
 * | `n`   | the name                                                            |
 * | `u`   | `<counter>,<backedUp 0/1>,<lastUsedAt>` (lastUsedAt empty if none)  |
 *
 * Creating is a script that writes the hash only if the key is missing (a credential id is
 * registered once, for any user), then `SADD` to the user's set. Recording a use, renaming and
 * deleting are scripts on the passkey's key (`./passkey-scripts.ts`), atomic against each other.
 * The user's set is written after the passkey and cleaned after its deletion, so a listing
 * skips an id whose hash is gone or is someone else's. Durable like users: no TTL.
 */

import type { PasskeyRecord } from '../../records.js';
import type { PasskeyStore } from '../../store.js';
import { LatchkeyError } from '../../errors.js';
import { malformed, numberOrNull, parseTuple, replyNumber, requiredNumber } from './codec.js';
import { mapInChunks, type RedisContext } from './context.js';
import { deletePasskey, renamePasskey, usePasskey } from './passkey-scripts.js';
import { createHashIfMissing } from './user-scripts.js';

const WHAT = 'passkey';

function decodePasskey(id: string, hash: Record<string, string>): PasskeyRecord | null {
  const { o: userId, r: raw, n: name, u: use } = hash;
  if (userId === undefined) return null;
  if (raw === undefined || name === undefined || use === undefined) throw malformed(WHAT);
  const [publicKey, transports, backupEligible, aaguid, createdAt] = parseTuple(raw, 5, WHAT);
  if (
    typeof publicKey !== 'string' ||
    !Array.isArray(transports) ||
    !transports.every((t) => typeof t === 'string') ||
    typeof backupEligible !== 'boolean' ||
    typeof aaguid !== 'string' ||
    typeof createdAt !== 'number'
  ) {
    throw malformed(WHAT);
  }
  const [counter, backedUp, at] = use.split(',');
  return {
    id,
    userId,
    publicKey,
    counter: requiredNumber(counter, WHAT),
    transports,
    backupEligible,
    backedUp: backedUp === '1',
    aaguid,
    name,
    createdAt,
    lastUsedAt: numberOrNull(at, WHAT),
  };
}

/**
 * The passkey operations of one Redis store.
 *
 * @example
 * const passkeys = createRedisPasskeys(context);
 * await passkeys.createPasskey(record);
 */
export function createRedisPasskeys(context: RedisContext): PasskeyStore {
  const { client, keys, run, runScript } = context;
  const yes = (reply: unknown): boolean => replyNumber(reply, `${WHAT} reply`) === 1;

  async function get(id: string): Promise<PasskeyRecord | null> {
    return decodePasskey(id, await client.hgetall(keys.passkey(id)));
  }

  return {
    createPasskey: (passkey) =>
      run(async () => {
        const fixed = JSON.stringify([
          passkey.publicKey,
          passkey.transports,
          passkey.backupEligible,
          passkey.aaguid,
          passkey.createdAt,
        ]);
        const use = `${passkey.counter},${passkey.backedUp ? 1 : 0},${passkey.lastUsedAt ?? ''}`;
        const fields = ['o', passkey.userId, 'r', fixed, 'n', passkey.name, 'u', use];
        if (!yes(await runScript(createHashIfMissing, [keys.passkey(passkey.id)], fields))) {
          throw new LatchkeyError('passkey_exists');
        }
        await client.sadd(keys.passkeysOf(passkey.userId), passkey.id);
      }),

    getPasskey: (id) => run(() => get(id)),

    listPasskeys: (userId) =>
      run(async () => {
        const ids = await client.smembers(keys.passkeysOf(userId));
        const found = await mapInChunks(ids, get);
        return found
          .filter((passkey): passkey is PasskeyRecord => passkey?.userId === userId)
          .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      }),

    usePasskey: (id, use) =>
      run(async () =>
        yes(await runScript(usePasskey, [keys.passkey(id)], [use.counter, use.backedUp ? 1 : 0, use.at])),
      ),

    renamePasskey: (userId, id, name) =>
      run(async () => yes(await runScript(renamePasskey, [keys.passkey(id)], [userId, name]))),

    deletePasskey: (userId, id) =>
      run(async () => {
        const deleted = yes(await runScript(deletePasskey, [keys.passkey(id)], [userId]));
        if (deleted) await client.srem(keys.passkeysOf(userId), id);
        return deleted;
      }),
  };
}
