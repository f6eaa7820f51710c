/**
 * The Redis Cluster of the bench's own: three masters on free loopback ports, no persistence
 * (`test/helpers/redis-cluster.ts`, the one the cluster tests start), for the rows that run
 * `latchkey serve` with `REDIS_URL=redis+cluster://...` next to the single Redis rows.
 */

import {
  probeRedisClusterBinaries,
  startOwnRedisCluster,
  type OwnRedisCluster,
} from '../../test/helpers/redis-cluster.js';
import { progress } from './stats.js';

/** Starts the cluster; null (and a line in `dropped`) when it cannot: its rows are left out. */
export async function startBenchCluster(dropped: string[]): Promise<OwnRedisCluster | null> {
  const missing = await probeRedisClusterBinaries();
  if (missing !== null) {
    dropped.push(`Redis Cluster rows (${missing})`);
    return null;
  }
  try {
    const cluster = await startOwnRedisCluster();
    progress(`Redis Cluster of 3 masters: ${cluster.url}`);
    return cluster;
  } catch (error) {
    dropped.push(`Redis Cluster rows (${error instanceof Error ? error.message : String(error)})`);
    return null;
  }
}
