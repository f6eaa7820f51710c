/**
 * Passkeys in the memory store: one map by credential id (sign-in looks a passkey up by it).
 */

import { LatchkeyError } from '../../errors.js';
import type { PasskeyRecord } from '../../records.js';
import type { PasskeyStore } from '../../store.js';
import type { RunOperation } from './runner.js';

const copy = (passkey: PasskeyRecord): PasskeyRecord => ({ ...passkey, transports: [...passkey.transports] });

/**
 * Creates the passkey operations of one memory store, over state of their own.
 *
 * @example
 * const passkeys = createMemoryPasskeys(run);
 * await passkeys.createPasskey(record);
 * await passkeys.usePasskey(record.id, { counter: 2, backedUp: false, at: Date.now() }); // true
 */
export function createMemoryPasskeys(run: RunOperation): PasskeyStore {
  const byId = new Map<string, PasskeyRecord>();

  return {
    createPasskey(passkey) {
      return run(() => {
        if (byId.has(passkey.id)) throw new LatchkeyError('passkey_exists');
        byId.set(passkey.id, copy(passkey));
      });
    },

    getPasskey(id) {
      return run(() => {
        const passkey = byId.get(id);
        return passkey === undefined ? null : copy(passkey);
      });
    },

    listPasskeys(userId) {
      return run(() =>
        [...byId.values()]
          .filter((passkey) => passkey.userId === userId)
          .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
          .map(copy),
      );
    },

    usePasskey(id, use) {
      return run(() => {
        const passkey = byId.get(id);
        if (passkey === undefined) return false;
        const grows = use.counter > passkey.counter || (use.counter === 0 && passkey.counter === 0);
        if (!grows) return false;
        passkey.counter = use.counter;
        passkey.backedUp = use.backedUp;
        passkey.lastUsedAt = use.at;
        return true;
      });
    },

    renamePasskey(userId, id, name) {
      return run(() => {
        const passkey = byId.get(id);
        if (passkey?.userId !== userId) return false;
        passkey.name = name;
        return true;
      });
    },

    deletePasskey(userId, id) {
      return run(() => byId.get(id)?.userId === userId && byId.delete(id));
    },
  };
}
