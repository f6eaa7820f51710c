/**
 * The compact layout of the Redis store's sessions (issue 16: bytes per session), against the
 * shared Redis under a prefix of its own (deleted afterwards; never FLUSHALL):
 * - a user agent is stored once, in `P:{ua:<ref>}`, and named by the sessions that share it;
 *   a collision keeps it inline, a lost key reads as null; every read path resolves it.
 */

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SessionRecord } from '../../src/records.js';
import { openRedisStore } from '../../src/stores/redis/index.js';
import { userAgentRef } from '../../src/stores/redis/user-agents.js';
import type { Store } from '../../src/store.js';
import { storeTransferOf } from '../../src/store-transfer.js';
import { describeWithServices, probeRedis, REDIS_TEST_URL } from '../helpers/services.js';
import { T0 } from './conformance.js';

const DAY = 24 * 60 * 60 * 1_000;
const BROWSER =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

function session(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: 'session-1',
    userId: 'user-1',
    secretHash: 'c2VjcmV0LWhhc2g',
    mode: 'hybrid',
    createdAt: T0,
    lastSeenAt: T0,
    idleExpiresAt: T0 + DAY,
    absoluteExpiresAt: T0 + 30 * DAY,
    userAgent: BROWSER,
    ip: '203.0.113.7',
    revokedAt: null,
    persistent: false,
    amr: ['pwd'],
    authTime: T0,
    acr: '1',
    ...overrides,
  };
}

describeWithServices('redis store: compact sessions', [await probeRedis()], () => {
  const prefix = `latchkey-test-compact-${process.pid}-${randomBytes(4).toString('hex')}`;
  let admin: Redis;
  let store: Store;

  beforeAll(async () => {
    admin = new Redis(REDIS_TEST_URL);
    store = await openRedisStore({ url: REDIS_TEST_URL, prefix });
  });

  afterAll(async () => {
    await store.close();
    let cursor = '0';
    do {
      const [next, found] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
      cursor = next;
      if (found.length > 0) await admin.unlink(...found);
    } while (cursor !== '0');
    await admin.quit();
  });

  /** A second store on the same prefix: a process that has read no user agent yet. */
  async function freshStore<T>(use: (other: Store) => Promise<T>): Promise<T> {
    const other = await openRedisStore({ url: REDIS_TEST_URL, prefix });
    try {
      return await use(other);
    } finally {
      await other.close();
    }
  }

  it('stores a user agent once for every session that shares it, and reads it back everywhere', async () => {
    const a = session({ id: 'ua-a', userId: 'ua-user' });
    const b = session({ id: 'ua-b', userId: 'ua-user', createdAt: T0 + 1, absoluteExpiresAt: T0 + 60 * DAY });
    await store.createSession(a);
    await store.createSession(b);
    const key = `${prefix}:{ua:${userAgentRef(BROWSER)}}`;
    expect(await admin.get(key)).toBe(BROWSER);
    // Neither session holds the string; the key lives as long as the longer-lived one can.
    for (const id of ['ua-a', 'ua-b'])
      expect(await admin.get(`${prefix}:{s:${id}}:session`)).not.toContain('Mozilla');
    expect(await admin.pttl(key)).toBeGreaterThan(60 * DAY);
    await freshStore(async (other) => {
      expect(await other.getSession('ua-a')).toEqual(a);
      expect(await other.listUserSessions('ua-user', T0)).toEqual([b, a]);
    });
    await freshStore(async (other) => {
      expect(await other.getSessionWithUser?.('ua-b')).toEqual({ session: b, user: null });
    });
    await freshStore(async (other) => {
      const exported: SessionRecord[] = [];
      let cursor: string | null = null;
      do {
        const page: { records: SessionRecord[]; cursor: string | null } | undefined = await storeTransferOf(
          other,
        )?.exportSessions({ cursor, limit: 100 });
        exported.push(...(page?.records ?? []));
        cursor = page?.cursor ?? null;
      } while (cursor !== null);
      expect(exported.filter((record) => record.userId === 'ua-user')).toHaveLength(2);
      expect(exported.find((record) => record.id === 'ua-a')).toEqual(a);
    });
  });

  it('keeps a user agent inline when its key holds another string (a collision)', async () => {
    const agent = `${BROWSER} collides`;
    await admin.set(`${prefix}:{ua:${userAgentRef(agent)}}`, 'another user agent', 'PX', DAY);
    const record = session({ id: 'ua-collision', userAgent: agent });
    await store.createSession(record);
    expect(await admin.get(`${prefix}:{s:ua-collision}:session`)).toContain(agent);
    await freshStore(async (other) => {
      expect(await other.getSession('ua-collision')).toEqual(record);
    });
  });

  it('keeps short user agents inline, and reads a lost shared one as null', async () => {
    const short = session({ id: 'ua-short', userAgent: 'curl/8.5.0' });
    await store.createSession(short);
    expect(await admin.get(`${prefix}:{s:ua-short}:session`)).toContain('curl/8.5.0');
    const agent = `${BROWSER} lost`;
    await store.createSession(session({ id: 'ua-lost', userAgent: agent }));
    await admin.unlink(`${prefix}:{ua:${userAgentRef(agent)}}`);
    await freshStore(async (other) => {
      expect(await other.getSession('ua-short')).toEqual(short);
      expect((await other.getSession('ua-lost'))?.userAgent).toBeNull();
    });
  });

  it('reads a session written with its user agent inline (before the shared keys)', async () => {
    await admin.set(
      `${prefix}:{s:ua-old}:session`,
      `${T0},${T0 + DAY},|${JSON.stringify(['u', 'h', 'cookie', T0, T0 + 2 * DAY, BROWSER, null, 0, 'pwd', T0, '1'])}`,
    );
    expect((await store.getSession('ua-old'))?.userAgent).toBe(BROWSER);
    // Touch and revoke keep the record readable.
    await store.touchSession('ua-old', { lastSeenAt: T0 + 1, idleExpiresAt: T0 + DAY + 1 });
    expect(await store.revokeSession('ua-old', T0 + 2)).toBe(true);
    expect(await store.getSession('ua-old')).toMatchObject({ userAgent: BROWSER, revokedAt: T0 + 2 });
  });
});
