/** Machine clients in the memory store, by id. */

import { LatchkeyError } from '../../errors.js';
import type { ClientRecord } from '../../records.js';
import type { ClientStore } from '../../store.js';
import { compareCodePoints } from '../ordering.js';
import type { RunOperation } from './runner.js';

/** Copies a client deeply enough that neither side can reach into the other's arrays. */
function copyClient(client: ClientRecord): ClientRecord {
  return { ...client, scopes: [...client.scopes], audiences: [...client.audiences] };
}

/**
 * Creates the client operations of one memory store, over state of their own.
 *
 * @example
 * const clients = createMemoryClients(run);
 * await clients.createClient(client);
 */
export function createMemoryClients(run: RunOperation): ClientStore {
  const clients = new Map<string, ClientRecord>();

  return {
    createClient(client: ClientRecord): Promise<void> {
      return run(() => {
        if (clients.has(client.id)) {
          throw new LatchkeyError('internal_error', 'A client with this id already exists');
        }
        clients.set(client.id, copyClient(client));
      });
    },

    getClient(id: string): Promise<ClientRecord | null> {
      return run(() => {
        const client = clients.get(id);
        return client === undefined ? null : copyClient(client);
      });
    },

    listClients(options: { limit: number; after?: string }): Promise<ClientRecord[]> {
      return run(() => {
        if (options.limit <= 0) return [];
        const { after } = options;
        return [...clients.values()]
          .filter((client) => after === undefined || compareCodePoints(client.id, after) > 0)
          .sort((a, b) => compareCodePoints(a.id, b.id))
          .slice(0, options.limit)
          .map(copyClient);
      });
    },

    updateClient(id: string, patch: { disabledAt: number | null }): Promise<boolean> {
      return run(() => {
        const client = clients.get(id);
        if (client === undefined) return false;
        client.disabledAt = patch.disabledAt;
        return true;
      });
    },
  };
}
