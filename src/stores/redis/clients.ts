/**
 * Machine clients in Redis: `P:{cl:<id>}:client` (the client as JSON, created with `SET NX`,
 * which is what makes the id unique) and `P:{clients}:by-id` (every client id, all at score 0,
 * for lexicographic listing). No TTL.
 */

import type { ClientRecord } from '../../records.js';
import type { ClientStore } from '../../store.js';
import { parseObject, readNullableNumber, readNumber, readString, readStrings } from './codec.js';
import { duplicate, mapInChunks, type RedisContext } from './context.js';

function encodeClient(client: ClientRecord): string {
  return JSON.stringify({
    id: client.id,
    name: client.name,
    secretHash: client.secretHash,
    scopes: client.scopes,
    audiences: client.audiences,
    createdAt: client.createdAt,
    disabledAt: client.disabledAt,
  });
}

function decodeClient(raw: string): ClientRecord {
  const what = 'client';
  const json = parseObject(raw, what);
  return {
    id: readString(json, 'id', what),
    name: readString(json, 'name', what),
    secretHash: readString(json, 'secretHash', what),
    scopes: readStrings(json, 'scopes', what),
    audiences: readStrings(json, 'audiences', what),
    createdAt: readNumber(json, 'createdAt', what),
    disabledAt: readNullableNumber(json, 'disabledAt', what),
  };
}

async function createClient({ client, keys }: RedisContext, record: ClientRecord): Promise<void> {
  // The index first (idempotent; readers skip entries whose client is missing), then the
  // record with SET NX, which is what makes the id unique.
  await client.zadd(keys.clientsById, 0, record.id);
  if ((await client.set(keys.client(record.id), encodeClient(record), 'NX')) === null) {
    throw duplicate('client');
  }
}

async function getClient({ client, keys }: RedisContext, id: string): Promise<ClientRecord | null> {
  const raw = await client.get(keys.client(id));
  return raw === null ? null : decodeClient(raw);
}

async function listClients(
  { client, keys }: RedisContext,
  options: { limit: number; after?: string },
): Promise<ClientRecord[]> {
  const { limit, after } = options;
  const page: ClientRecord[] = [];
  let min = after === undefined ? '-' : `(${after}`;
  while (page.length < limit) {
    const wanted = limit - page.length;
    const ids = await client.zrangebylex(keys.clientsById, min, '+', 'LIMIT', 0, wanted);
    const raws = await mapInChunks(ids, (id) => client.get(keys.client(id)));
    for (const raw of raws) if (raw !== null) page.push(decodeClient(raw));
    const last = ids.at(-1);
    if (ids.length < wanted || last === undefined) break;
    min = `(${last}`;
  }
  return page;
}

async function updateClient(
  { client, keys }: RedisContext,
  id: string,
  patch: { disabledAt: number | null },
): Promise<boolean> {
  // Only `disabledAt` ever changes, so a plain read-modify-write (last writer wins) is enough.
  const key = keys.client(id);
  const raw = await client.get(key);
  if (raw === null) return false;
  const updated = { ...decodeClient(raw), disabledAt: patch.disabledAt };
  return (await client.set(key, encodeClient(updated), 'XX')) !== null;
}

/**
 * The machine-client operations of one Redis store.
 *
 * @example
 * const clients = createRedisClients(context);
 * await clients.createClient(record); // rejects with internal_error when the id exists
 */
export function createRedisClients(context: RedisContext): ClientStore {
  const { run } = context;
  return {
    createClient: (record) => run(() => createClient(context, record)),
    getClient: (id) => run(() => getClient(context, id)),
    listClients: (options) => run(() => listClients(context, options)),
    updateClient: (id, patch) => run(() => updateClient(context, id, patch)),
  };
}
