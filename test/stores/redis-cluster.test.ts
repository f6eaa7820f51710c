/**
 * The Redis store and the revocation channel on a real three-master Redis Cluster started by
 * this file (`test/helpers/redis-cluster.ts`), named the way a deployment names it:
 * `REDIS_URL=redis+cluster://host:port,host:port,host:port`. The conformance suite (every
 * multi-key script on one slot, atomic), keys spread over the three masters, pub/sub across
 * nodes (the publisher's `PUBLISH` on one node reaches a feed subscribed on another), the feed
 * moving to the next node when its node dies, and fail-fast on a cluster that is not there.
 */

import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RevocationRecord } from '../../src/records.js';
import { createRedisClient, createRedisStore, openRedisStore } from '../../src/stores/redis/index.js';
import { createRedisRevocationPublisher } from '../../src/stores/redis/publisher.js';
import type { RevocationFeedState } from '../../src/verify/feed.js';
import { createRedisRevocationFeed } from '../../src/verify/redis-feed.js';
import {
  probeRedisClusterBinaries,
  startOwnRedisCluster,
  type OwnRedisCluster,
} from '../helpers/redis-cluster.js';
import { describeWithServices } from '../helpers/services.js';
import { describeStoreConformance, T0 } from './conformance.js';

const DAY = 24 * 60 * 60 * 1_000;
/** Only so that a hang ends the test; nothing here is timed. */
const HANG_MS = 15_000;

let cluster: OwnRedisCluster | undefined;
let admin: Cluster | undefined;

function own(): { cluster: OwnRedisCluster; admin: Cluster } {
  if (cluster === undefined || admin === undefined) throw new Error('the Redis Cluster did not start');
  return { cluster, admin };
}

function uniquePrefix(label: string): string {
  return `latchkey-test-${label}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** The keys under `prefix` on one node (SCAN sees only the node it runs on). */
async function nodeKeys(node: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  return keys;
}

/** Deletes every key under `prefix`, master by master, one key per command. */
async function deleteKeys(client: Cluster, prefix: string): Promise<void> {
  for (const node of client.nodes('master')) {
    const keys = await nodeKeys(node, prefix);
    await Promise.all(keys.map((key) => node.unlink(key)));
  }
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + HANG_MS;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${HANG_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function revocation(seq: number, subject: string): RevocationRecord {
  return { seq, kind: 'session', subject, issuedBefore: null, createdAt: T0, expiresAt: T0 + DAY };
}

function wire(record: RevocationRecord): string {
  return JSON.stringify({
    seq: record.seq,
    kind: record.kind,
    subject: record.subject,
    issued_before: record.issuedBefore,
    created_at: record.createdAt,
    expires_at: record.expiresAt,
  });
}

describeWithServices(
  'redis store on a three-master Redis Cluster',
  [await probeRedisClusterBinaries()],
  () => {
    const prefix = uniquePrefix('cluster3');

    beforeAll(async () => {
      cluster = await startOwnRedisCluster();
      const client = createRedisClient(cluster.url, { lazyConnect: true });
      if (!(client instanceof Cluster)) throw new Error('a redis+cluster:// URL must give a Cluster client');
      await client.connect();
      admin = client;
    }, 60_000);

    afterAll(async () => {
      admin?.disconnect();
      await cluster?.stop();
    });

    describeStoreConformance(
      'redis cluster (three masters, by URL)',
      {
        open: () => openRedisStore({ url: own().cluster.url, prefix }),
        reset: () => deleteKeys(own().admin, prefix),
        close: (store) => store.close(),
      },
      { largeSessionCount: 10_000 },
    );

    it('spreads the keys over the three masters, and reads them back through any of them', async () => {
      const label = uniquePrefix('spread');
      const store = await openRedisStore({ url: own().cluster.url, prefix: label });
      try {
        for (let i = 0; i < 60; i += 1) {
          await store.createSession({
            id: `spread-${i}`,
            userId: `user-${i % 7}`,
            secretHash: 'h',
            mode: 'cookie',
            createdAt: T0,
            lastSeenAt: T0,
            idleExpiresAt: T0 + DAY,
            absoluteExpiresAt: T0 + 2 * DAY,
            userAgent: null,
            ip: null,
            revokedAt: null,
            persistent: false,
            amr: ['pwd'],
            authTime: T0,
            acr: '1',
          });
        }
        const perNode = await Promise.all(
          own().cluster.nodes.map(async (node) => {
            const client = new Redis(node.port, '127.0.0.1');
            try {
              return (await nodeKeys(client, label)).length;
            } finally {
              client.disconnect();
            }
          }),
        );
        expect(
          perNode.every((count) => count > 0),
          `keys per node: ${perNode.join(', ')}`,
        ).toBe(true);
        expect((await store.listUserSessions('user-3', T0)).map((s) => s.id).sort()).toEqual(
          [
            'spread-3',
            'spread-10',
            'spread-17',
            'spread-24',
            'spread-31',
            'spread-38',
            'spread-45',
            'spread-52',
            'spread-59',
          ].sort(),
        );
        // A user's sessions revoked at once: one slot per script, every session on its own slot.
        expect(await store.revokeUserSessions('user-3', T0 + 1)).toHaveLength(9);
        expect((await store.getSession('spread-10'))?.revokedAt).toBe(T0 + 1);
      } finally {
        await store.close();
        await deleteKeys(own().admin, label);
      }
    });

    it('carries revocations over pub/sub between nodes, and the feed moves on when its node dies', async () => {
      const channel = `lk-cluster-${randomBytes(4).toString('hex')}`;
      const publisher = createRedisRevocationPublisher({ url: own().cluster.url, channel });
      const store = await openRedisStore({ url: own().cluster.url, prefix: uniquePrefix('ping') });
      // The feed subscribes on the first node of the URL, then the next one at each reconnection.
      const feed = createRedisRevocationFeed({
        url: own().cluster.url,
        channel,
        snapshot: () => Promise.resolve({ records: [], lastSeq: 0 }),
        retryMs: 20,
        heartbeatMs: 200,
        timeoutMs: 1_000,
      });
      const applied: string[] = [];
      const states: RevocationFeedState['status'][] = [];
      feed.start(
        (record) => applied.push(record.subject),
        (state) => states.push(state.status),
      );
      const [first, second, third] = own().cluster.nodes;
      const direct = new Redis(third?.port ?? 0, '127.0.0.1');
      try {
        await waitFor(() => states.at(-1) === 'live', 'the feed did not go live');
        await publisher.ready();
        await publisher.publish(revocation(1, 'through-the-publisher'));
        // A PUBLISH on another node than the subscriber's reaches it over the cluster bus.
        await direct.publish(channel, wire(revocation(2, 'on-the-third-node')));
        await waitFor(() => applied.length === 2, 'the revocations did not arrive');
        expect(applied.sort()).toEqual(['on-the-third-node', 'through-the-publisher']);

        // The feed's node dies: the feed reconnects to the next node and hears the channel again.
        if (first === undefined || second === undefined) throw new Error('three nodes expected');
        await store.ping();
        first.child.kill('SIGKILL');
        await waitFor(() => states.includes('disconnected'), 'the feed did not notice its node died');
        await waitFor(() => states.at(-1) === 'live', 'the feed did not come back');
        const secondNode = new Redis(second.port, '127.0.0.1');
        try {
          await secondNode.publish(channel, wire(revocation(3, 'after-the-failover')));
        } finally {
          secondNode.disconnect();
        }
        await waitFor(
          () => applied.includes('after-the-failover'),
          'the feed heard nothing after the failover',
        );
        // Its slots have no replica to take over: the store says so (and /healthz answers 503).
        let down = false;
        while (!down) {
          down = await store.ping().then(
            () => false,
            (error: unknown) => (error as { code?: string }).code === 'store_unavailable',
          );
          if (!down) await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        direct.disconnect();
        await feed.close();
        await publisher.close();
        await store.close();
      }
    });
  },
);

it('fails fast with store_unavailable when no node of the Cluster answers', async () => {
  await expect(openRedisStore({ url: 'redis+cluster://127.0.0.1:1,127.0.0.1:2' })).rejects.toMatchObject({
    code: 'store_unavailable',
  });
  const store = createRedisStore({ url: 'redis+cluster://127.0.0.1:1' });
  await expect(store.getSession('s')).rejects.toMatchObject({ code: 'store_unavailable' });
  await store.close();
});
