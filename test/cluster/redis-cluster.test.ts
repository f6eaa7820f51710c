/**
 * Three `latchkey serve` nodes on one Postgres and a real three-master Redis Cluster
 * (`REDIS_URL=redis+cluster://...`, started by this file: `test/helpers/redis-cluster.ts`), as
 * behind a load balancer: sessions, refresh-token rotation and logouts agree across nodes; a
 * revocation made on one node reaches a resource service's feed over the cluster's pub/sub
 * (the feed's snapshot is empty, so nothing else can carry it) and the near session caches of
 * the other nodes; and a node with the Cluster alone keeps users and keys there too.
 */

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { revocationChannel } from '../../src/app/channels.js';
import type { RevocationRecord } from '../../src/records.js';
import { createRedisRevocationFeed } from '../../src/verify/redis-feed.js';
import type { PubSubRevocationFeed } from '../../src/verify/pubsub-feed.js';
import { loginCookie, loginToken, request, signup } from '../helpers/http-client.js';
import { ROOT, startServer, type ServerProcess } from '../helpers/process.js';
import {
  probeRedisClusterBinaries,
  startOwnRedisCluster,
  type OwnRedisCluster,
} from '../helpers/redis-cluster.js';
import {
  createTestDatabase,
  describeWithServices,
  probePostgres,
  type TestDatabase,
} from '../helpers/services.js';

const ISSUER = 'http://latchkey.test';
const SECRET = randomBytes(32).toString('base64url');
const PREFIX = `lk-cluster-${randomBytes(3).toString('hex')}`;
/** Only so that a hang ends the test; nothing here is timed. */
const HANG_MS = 15_000;

let database: TestDatabase | undefined;
let cluster: OwnRedisCluster | undefined;
let dataDir = '';
const nodes: ServerProcess[] = [];
let feed: PubSubRevocationFeed | undefined;
const heard: RevocationRecord[] = [];
let feedLive = false;

function env(): Record<string, string> {
  if (database === undefined || cluster === undefined) throw new Error('the backends are not ready');
  return {
    LATCHKEY_SECRET: SECRET,
    LATCHKEY_ISSUER: ISSUER,
    LATCHKEY_AUDIENCE: ISSUER,
    LATCHKEY_DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    REDIS_URL: cluster.url,
    LATCHKEY_REDIS_PREFIX: PREFIX,
    // The near cache listens to the cluster's pub/sub; a minute, so that only the channel (or
    // its once-a-second catch-up read) can make another node refuse within the test.
    LATCHKEY_SESSION_CACHE: '1m',
    LOG_LEVEL: 'warn',
  };
}

function node(index: number): ServerProcess {
  const server = nodes[index];
  if (server === undefined) throw new Error(`node ${index} did not start`);
  return server;
}

async function runMigrate(): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'migrate'], {
    cwd: ROOT,
    env: { ...process.env, ...env() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { code, output };
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + HANG_MS;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${HANG_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

describeWithServices(
  'three nodes on Postgres and a three-master Redis Cluster',
  [await probePostgres(), await probeRedisClusterBinaries()],
  () => {
    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'latchkey-rc-'));
      [database, cluster] = await Promise.all([createTestDatabase(), startOwnRedisCluster()]);
      // A resource service's feed on the cluster, with nothing to catch up from: only pub/sub
      // can bring it a revocation.
      feed = createRedisRevocationFeed({
        url: cluster.url,
        channel: revocationChannel({ redisURL: cluster.url, redisPrefix: PREFIX }),
        snapshot: () => Promise.resolve({ records: [], lastSeq: 0 }),
      });
      feed.start(
        (record) => heard.push(record),
        (state) => (feedLive = state.status === 'live'),
      );
    }, 90_000);

    afterAll(async () => {
      await Promise.allSettled(nodes.map((server) => server.stop('SIGKILL')));
      await feed?.close();
      await Promise.allSettled([database?.drop(), cluster?.stop()]);
      await rm(dataDir, { recursive: true, force: true });
    });

    it('migrates, then starts three nodes at once on the Cluster', { timeout: 120_000 }, async () => {
      const migrated = await runMigrate();
      expect(migrated.output).toMatch(/postgres\+redis: applied \d+ migration\(s\)/);
      expect(migrated.code).toBe(0);
      const results = await Promise.allSettled(
        [0, 1, 2].map(() => startServer(env(), { timeoutMs: 90_000 })),
      );
      for (const result of results) if (result.status === 'fulfilled') nodes.push(result.value);
      for (const result of results) if (result.status === 'rejected') throw result.reason;
      for (const server of nodes)
        expect((await request(`${server.url}/healthz`)).body.store).toBe('postgres+redis');
    });

    it('a logout on A reaches the feed over pub/sub, and the cached session on B and C', async () => {
      const [a, b, c] = [node(0), node(1), node(2)];
      await waitFor(() => feedLive, 'the feed did not go live');
      await signup(a.url, 'ada@example.com');
      const { cookie, csrf } = await loginCookie(b.url, 'ada@example.com');
      for (const server of [a, b, c, b, c]) {
        expect((await request(`${server.url}/v1/me`, { headers: { cookie } })).status).toBe(200);
      }
      const logout = await request(`${a.url}/v1/logout`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': csrf },
      });
      expect(logout.status).toBe(204);
      await waitFor(() => heard.some((record) => record.kind === 'session'), 'no revocation over pub/sub');
      for (const server of [b, c]) {
        await waitFor(
          async () => (await request(`${server.url}/v1/me`, { headers: { cookie } })).status === 401,
          `the session still served on ${server.url}`,
        );
      }
    });

    it('rotates a refresh token sent to two nodes at once into one successor', async () => {
      const [a, b, c] = [node(0), node(1), node(2)];
      for (let round = 0; round < 3; round += 1) {
        const { refreshToken } = await loginToken(c.url, 'ada@example.com');
        const answers = await Promise.all(
          [a, b].map((server) =>
            request(`${server.url}/v1/refresh`, { body: { refresh_token: refreshToken } }),
          ),
        );
        const successors = new Set(
          answers
            .filter((answer) => answer.status === 200)
            .map((answer) => String(answer.body.refresh_token)),
        );
        expect(successors.size).toBe(1);
        const [successor] = [...successors];
        const next = await request(`${c.url}/v1/refresh`, { body: { refresh_token: successor } });
        expect(next.status).toBe(200);
        const access = String(next.body.access_token);
        expect((await request(`${a.url}/v1/me`, { headers: bearer(access) })).status).toBe(200);
      }
    });

    it('serves with the Cluster alone, keeping users and keys in it too', { timeout: 90_000 }, async () => {
      const { DATABASE_URL: _unused, ...withoutDatabase } = env();
      let server: ServerProcess | undefined;
      try {
        server = await startServer(
          {
            ...withoutDatabase,
            LATCHKEY_REDIS_PREFIX: `${PREFIX}-alone`,
            LATCHKEY_SESSION_CACHE: '0',
            // The test's cluster does not persist: without the flag serve refuses (redis-durability.test.ts).
            LATCHKEY_REDIS_ALLOW_VOLATILE: 'true',
          },
          { timeoutMs: 90_000 },
        );
        expect((await request(`${server.url}/healthz`)).body.store).toBe('redis');
        await signup(server.url, 'only-redis@example.com');
        const { cookie } = await loginCookie(server.url, 'only-redis@example.com');
        expect((await request(`${server.url}/v1/me`, { headers: { cookie } })).status).toBe(200);
      } finally {
        await server?.stop('SIGKILL');
      }
    });
  },
);
