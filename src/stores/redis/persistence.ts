/**
 * Whether a Redis server persists its data: what `latchkey serve` checks before it lets Redis
 * hold the only copy of every revocation (see `checkRedisDurability` in `app/stores.ts`).
 */

import { connectRedisClient } from './connection.js';

/**
 * Reads `CONFIG GET appendonly` and `CONFIG GET save` over a connection of its own: `aof` when
 * the append-only file is on, `snapshots` when at least one RDB save rule is set. Null when the
 * server refuses CONFIG (managed services often rename or disable it). Rejects with
 * `store_unavailable` when Redis cannot be reached.
 *
 * @example
 * await readRedisPersistence('redis://127.0.0.1:6379'); // { aof: false, snapshots: true }
 */
export async function readRedisPersistence(
  url: string,
): Promise<{ aof: boolean; snapshots: boolean } | null> {
  const client = await connectRedisClient(url);
  try {
    const [appendonly, save] = await Promise.all([
      client.config('GET', 'appendonly') as Promise<string[]>,
      client.config('GET', 'save') as Promise<string[]>,
    ]);
    return { aof: appendonly[1] === 'yes', snapshots: (save[1] ?? '').trim() !== '' };
  } catch {
    return null;
  } finally {
    client.disconnect();
  }
}
