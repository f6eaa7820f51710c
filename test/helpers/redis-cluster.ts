/**
 * A real Redis Cluster of the test's own: three masters (`redis-server --cluster-enabled yes`,
 * no persistence) on free loopback ports in a temporary directory, joined with
 * `redis-cli --cluster create ... --cluster-replicas 0`, each owning a third of the slots.
 * Started by the test file that needs it (one per file, in `beforeAll`) rather than by `.ci/run`:
 * it cannot leak between runs, a developer gets it with `npx vitest run <file>`, and a test may
 * kill a node of its own.
 *
 * Binaries: `LATCHKEY_TEST_REDIS_SERVER` (else `redis-server` on `PATH`) and
 * `LATCHKEY_TEST_REDIS_CLI` (else `redis-cli` next to the server, else on `PATH`).
 */

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { REDIS_SERVER } from './own-servers.js';
import { freePort } from './process.js';

const run = promisify(execFile);

function findRedisCli(): string {
  const given = process.env.LATCHKEY_TEST_REDIS_CLI;
  if (given !== undefined && given !== '') return given;
  const dirs = [dirname(REDIS_SERVER), ...(process.env.PATH ?? '').split(delimiter)];
  const candidates = dirs.filter((dir) => dir !== '').map((dir) => join(dir, 'redis-cli'));
  return candidates.find((file) => existsSync(file)) ?? 'redis-cli';
}

export const REDIS_CLI = findRedisCli();

/** Resolves to null when `redis-server` and `redis-cli` exist, or to what is missing. */
export async function probeRedisClusterBinaries(): Promise<string | null> {
  for (const file of [REDIS_SERVER, REDIS_CLI]) {
    try {
      await access(file);
    } catch {
      return `${file} is missing (a Redis Cluster of the test's own needs redis-server and redis-cli)`;
    }
  }
  return null;
}

/** One master of the cluster. */
export interface ClusterNode {
  port: number;
  /** `redis://127.0.0.1:<port>`: this node alone (a plain client gets MOVED for others' keys). */
  url: string;
  child: ChildProcess;
}

/** A running three-master cluster. */
export interface OwnRedisCluster {
  nodes: ClusterNode[];
  /** `redis+cluster://127.0.0.1:<p1>,127.0.0.1:<p2>,127.0.0.1:<p3>`. */
  url: string;
  /** Kills every node (SIGKILL: nothing to save) and removes the directory; never throws. */
  stop(): Promise<void>;
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`Redis Cluster: ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function clusterInfo(port: number): Promise<string> {
  const node = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  node.on('error', () => undefined);
  try {
    await node.connect();
    return String(await node.call('CLUSTER', 'INFO'));
  } finally {
    node.disconnect();
  }
}

async function startNode(dir: string): Promise<ClusterNode> {
  const port = await freePort();
  const busPort = await freePort();
  const child = spawn(
    REDIS_SERVER,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-port',
      String(busPort),
      '--cluster-config-file',
      join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout',
      '5000',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--loglevel',
      'warning',
    ],
    { stdio: 'ignore' },
  );
  const node = { port, url: `redis://127.0.0.1:${port}`, child };
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      return (await clusterInfo(port)).includes('cluster_state:');
    },
    `a node did not listen on ${port}`,
    10_000,
  );
  return node;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  });
}

/**
 * Starts three masters and joins them; resolves once every node says `cluster_state:ok` and
 * knows the other two. Stops what it started when anything fails.
 *
 * @example
 * const cluster = await startOwnRedisCluster();
 * const store = await openRedisStore({ url: cluster.url });
 * await cluster.stop();
 */
export async function startOwnRedisCluster(): Promise<OwnRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'lk-redis-cluster-'));
  const nodes: ClusterNode[] = [];
  const stop = async (): Promise<void> => {
    await Promise.allSettled(nodes.map((node) => kill(node.child)));
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  };
  try {
    for (let i = 0; i < 3; i += 1) nodes.push(await startNode(dir));
    await run(
      REDIS_CLI,
      [
        '--cluster',
        'create',
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 60_000 },
    );
    for (const node of nodes) {
      await waitFor(
        async () => {
          const info = await clusterInfo(node.port);
          return info.includes('cluster_state:ok') && info.includes('cluster_known_nodes:3');
        },
        `node ${node.port} did not reach cluster_state:ok`,
        20_000,
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, url: `redis+cluster://${nodes.map((node) => `127.0.0.1:${node.port}`).join(',')}`, stop };
}
