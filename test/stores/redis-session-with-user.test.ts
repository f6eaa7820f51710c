/**
 * The Redis store's one-round-trip session read (`getSessionWithUser`), whose script finds the
 * user id and the user-agent reference in the session's JSON with plain searches, not a JSON
 * decoder: against the shared Redis under a prefix of its own (deleted afterwards). Values built
 * to mislead those searches (ids that need escaping, strings that end in `,[` or hold what looks
 * like a reference, hand-written JSON with spaces) must read back exactly what was written, as
 * `getSession` and `getUserById` read them, with one EVALSHA.
 */

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionRecord, UserRecord } from '../../src/records.js';
import { openRedisStore } from '../../src/stores/redis/index.js';
import { userAgentRef } from '../../src/stores/redis/user-agents.js';
import type { Store } from '../../src/store.js';
import {
  createTestRedisPrefix,
  describeWithServices,
  probeRedis,
  REDIS_TEST_URL,
} from '../helpers/services.js';
import { session as sampleSession, T0 } from './conformance.js';

const BROWSER =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
/** What the script takes for a reference when it appears outside a string. */
const FAKE_REF = ',["abcdefghijkl"],';

function user(id: string): UserRecord {
  return {
    id,
    email: `${Buffer.from(id).toString('hex')}@example.com`,
    // What the reply's encoding must carry through: quotes, slashes, a NUL, non-ASCII.
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA/"\\\u0000☃😀',
    status: 'active',
    roles: ['admin'],
    createdAt: T0,
    updatedAt: T0 + 1,
    emailVerifiedAt: T0 + 2,
  };
}

function session(id: string, overrides: Partial<SessionRecord>): SessionRecord {
  return sampleSession({ id, userId: 'plain-user', userAgent: null, ip: null, ...overrides });
}

describeWithServices('redis store: a session and its user in one read', [await probeRedis()], () => {
  const testPrefix = createTestRedisPrefix();
  const { prefix } = testPrefix;
  let admin: Redis;
  let store: Store;

  beforeAll(async () => {
    admin = new Redis(REDIS_TEST_URL);
    store = await openRedisStore({ url: REDIS_TEST_URL, prefix });
  });

  afterAll(async () => {
    await store.close();
    await testPrefix.cleanup();
    await admin.quit();
  });

  /** Reads `id` from a second store (a process that has read no user agent yet). */
  async function readFresh(id: string): Promise<unknown> {
    const other = await openRedisStore({ url: REDIS_TEST_URL, prefix });
    try {
      return await other.getSessionWithUser?.(id);
    } finally {
      await other.close();
    }
  }

  const userIds = ['plain-user', 'we{ird}', '100%', 'q"uote', 'back\\slash', 'a,[', 'ünï\u0001code', ''];
  const agents: (string | null)[] = [
    null,
    'curl/8.5.0',
    `x${FAKE_REF}`,
    BROWSER,
    `${BROWSER}${FAKE_REF}`,
    `${BROWSER} ☃\u0000"\\/`,
  ];
  const ips: (string | null)[] = [null, 'x,[', FAKE_REF, '2001:db8::1'];
  const secretHashes = ['c2VjcmV0LWhhc2g', 'h,[', `h${FAKE_REF}`];

  describe.each(userIds.map((userId) => ({ userId })))('user id $userId', ({ userId }) => {
    it('reads back every session as written, with its user, and with the user gone', async () => {
      const owner = user(userId);
      await store.createUser(owner);
      const written: SessionRecord[] = [];
      let n = 0;
      for (const userAgent of agents) {
        for (const ip of ips) {
          for (const secretHash of secretHashes) {
            const record = session(`s-${Buffer.from(userId).toString('hex')}-${n++}`, {
              userId,
              userAgent,
              ip,
              secretHash,
              // Every JSON form: seven fields, eight (persistent), eleven (another assurance).
              persistent: n % 3 === 1,
              ...(n % 3 === 2 ? { amr: ['pwd', 'otp'], authTime: T0 + 5, acr: 'mfa' } : {}),
            });
            await store.createSession(record);
            written.push(record);
          }
        }
      }
      for (const record of written) {
        expect(await store.getSession(record.id)).toEqual(record);
        expect(await store.getSessionWithUser?.(record.id)).toEqual({ session: record, user: owner });
      }
      const [first, last] = [written[0], written.at(-1)];
      if (first === undefined || last === undefined) throw new Error('no session written');
      expect(await readFresh(last.id)).toEqual({ session: last, user: owner });
      await admin.unlink(`${prefix}:{u:${userId.replace(/[%{}]/g, (c) => encodeURIComponent(c))}}:user`);
      expect(await readFresh(first.id)).toEqual({ session: first, user: null });
      expect(await store.getSessionWithUser?.('missing')).toBeNull();
    });
  });

  it('reads JSON laid out otherwise (spaces) through the decoder, user agent by reference included', async () => {
    const owner = user('spaced-user');
    await store.createUser(owner);
    const browser = session('spaced', { userId: owner.id, userAgent: BROWSER, ip: '203.0.113.7' });
    await store.createSession(browser);
    const key = `${prefix}:{s:spaced}:session`;
    expect(await admin.get(`${prefix}:{ua:${userAgentRef(BROWSER)}}`)).toBe(BROWSER);
    const raw = (await admin.get(key)) ?? '';
    const bar = raw.indexOf('|');
    const spaced = JSON.stringify(JSON.parse(raw.slice(bar + 1)), null, 1);
    await admin.set(key, `${raw.slice(0, bar + 1)}${spaced}`, 'KEEPTTL');
    expect(await readFresh('spaced')).toEqual({ session: browser, user: owner });
  });
});
