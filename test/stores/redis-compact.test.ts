/**
 * The compact layout of the Redis store's sessions (issue 16: bytes per session), against the
 * shared Redis under a prefix of its own (deleted afterwards; never FLUSHALL):
 * - a user agent is stored once, in `P:{ua:<ref>}`, and named by the sessions that share it;
 *   a collision keeps it inline, a lost key reads as null; every read path resolves it;
 * - a session's refresh tokens are folded into its own value (no hash key), and still rotate
 *   once, keep their chain bounded and every replaced token readable (reuse detection), move to
 *   the hash when a token cannot be folded, survive touch and revoke, and go with the sweep;
 * - the token index is small hashes `P:{rti:<bucket>}` (id → session id), not a key per token;
 *   an entry a lost rotation wrote is dropped, and the sweep removes a session's entries;
 * - a session's JSON takes its shortest form (mode initial, assurance and persistence left out
 *   when they are a password login's at creation) and a token's times are base 36; every form
 *   reads back the record that was written.
 */

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RefreshTokenRecord, SessionRecord } from '../../src/records.js';
import { openRedisStore } from '../../src/stores/redis/index.js';
import { sweepBucket } from '../../src/stores/redis/keys.js';
import { userAgentRef } from '../../src/stores/redis/user-agents.js';
import type { Store } from '../../src/store.js';
import { storeTransferOf } from '../../src/store-transfer.js';
import {
  createTestRedisPrefix,
  describeWithServices,
  probeRedis,
  REDIS_TEST_URL,
} from '../helpers/services.js';
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

  function token(overrides: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord {
    return {
      id: 'rt-0',
      sessionId: 'session-1',
      secretHash: randomBytes(32).toString('base64url'),
      createdAt: T0,
      expiresAt: T0 + 7 * DAY,
      rotatedAt: null,
      successorId: null,
      ...overrides,
    };
  }

  it('folds a session’s refresh tokens into its value, and keeps a rotating chain bounded there', async () => {
    const sid = 'fold-chain';
    await store.createSession(session({ id: sid }));
    const tokens = [token({ id: `${sid}-0`, sessionId: sid })];
    await store.createRefreshToken(tokens[0] as RefreshTokenRecord);
    const sessionKey = `${prefix}:{s:${sid}}:session`;
    expect(await admin.exists(`${prefix}:{s:${sid}}:rt`)).toBe(0);
    expect(await admin.get(sessionKey)).toContain(`${sid}-0:`);
    expect(await store.getRefreshToken(`${sid}-0`)).toEqual(tokens[0]);
    const sizes: number[] = [];
    for (let i = 1; i <= 30; i += 1) {
      tokens.push(token({ id: `${sid}-${i}`, sessionId: sid, createdAt: T0 + i }));
      expect(await store.rotateRefreshToken(`${sid}-${i - 1}`, tokens[i] as RefreshTokenRecord, T0 + i)).toBe(
        true,
      );
      // Exactly once: the same token never rotates again, whatever the successor.
      expect(
        await store.rotateRefreshToken(`${sid}-${i - 1}`, token({ id: `late-${i}`, sessionId: sid }), T0 + i),
      ).toBe(false);
      sizes.push((await admin.get(sessionKey))?.length ?? 0);
    }
    expect(await admin.exists(`${prefix}:{s:${sid}}:rt`)).toBe(0);
    // The current token and the one it replaced, however many rotations (ids grow a digit).
    expect(Math.max(...sizes)).toBeLessThanOrEqual((sizes[1] ?? 0) + 8);
    for (let i = 0; i < 30; i += 1) {
      expect(await store.getRefreshToken(`${sid}-${i}`)).toEqual({
        ...tokens[i],
        rotatedAt: T0 + i + 1,
        successorId: `${sid}-${i + 1}`,
      });
      expect(await store.getRefreshToken(`late-${i + 1}`)).toBeNull();
    }
    expect(await store.getRefreshToken(`${sid}-30`)).toEqual(tokens[30]);
    // Touch and revoke rewrite the header and keep the tokens.
    await store.touchSession(sid, { lastSeenAt: T0 + 40, idleExpiresAt: T0 + DAY + 40 });
    expect(await store.getRefreshToken(`${sid}-30`)).toEqual(tokens[30]);
    expect(await store.getSession(sid)).toMatchObject({ lastSeenAt: T0 + 40, revokedAt: null });
    expect(await store.revokeSession(sid, T0 + 41)).toBe(true);
    expect(await store.getRefreshToken(`${sid}-29`)).toMatchObject({ successorId: `${sid}-30` });
    expect(await store.getSession(sid)).toMatchObject({ lastSeenAt: T0 + 40, revokedAt: T0 + 41 });
  });

  it('lets one of 20 concurrent rotations of a folded token win, and refuses a taken successor id', async () => {
    const sid = 'fold-race';
    await store.createSession(session({ id: sid }));
    const first = token({ id: 'race-0', sessionId: sid });
    await store.createRefreshToken(first);
    const successors = Array.from({ length: 20 }, (_, i) => token({ id: `race-${i + 1}`, sessionId: sid }));
    const results = await Promise.all(
      successors.map((next, i) => store.rotateRefreshToken('race-0', next, T0 + i)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    const stored = await Promise.all(successors.map((next) => store.getRefreshToken(next.id)));
    expect(stored.filter((found) => found !== null)).toEqual([successors[winner]]);
    // The index holds the token and the winner's successor only: the losers dropped theirs.
    expect(await admin.exists(`${prefix}:{rt:race-0}`)).toBe(0);
    for (const [i, next] of successors.entries()) {
      expect(await admin.hget(`${prefix}:{rti:${sweepBucket(next.id)}}`, next.id)).toBe(
        i === winner ? sid : null,
      );
    }
    // A second token of the session, then a rotation onto its id: rejected, nothing changed.
    const other = token({ id: 'race-other', sessionId: sid });
    await store.createRefreshToken(other);
    await expect(store.createRefreshToken({ ...other, secretHash: 'x' })).rejects.toMatchObject({
      code: 'internal_error',
    });
    const current = successors[winner] as RefreshTokenRecord;
    await expect(
      store.rotateRefreshToken(current.id, token({ id: 'race-other', sessionId: sid }), T0 + 50),
    ).rejects.toMatchObject({ code: 'internal_error' });
    expect(await store.getRefreshToken(current.id)).toEqual(current);
    expect(await store.getRefreshToken('race-other')).toEqual(other);
    expect(await admin.exists(`${prefix}:{s:${sid}}:rt`)).toBe(0);
  });

  it('moves folded tokens to the hash when a token cannot be folded, and keeps reading them', async () => {
    const sid = 'fold-odd';
    await store.createSession(session({ id: sid }));
    const first = token({ id: 'odd-0', sessionId: sid });
    await store.createRefreshToken(first);
    const odd = token({ id: 'odd:1;x', sessionId: sid, secretHash: 'not|base64url', createdAt: T0 + 1 });
    expect(await store.rotateRefreshToken('odd-0', odd, T0 + 1)).toBe(true);
    expect(await admin.hlen(`${prefix}:{s:${sid}}:rt`)).toBe(5);
    expect(await admin.get(`${prefix}:{s:${sid}}:session`)).not.toContain('odd-0');
    expect(await store.getRefreshToken('odd-0')).toEqual({
      ...first,
      rotatedAt: T0 + 1,
      successorId: 'odd:1;x',
    });
    expect(await store.getRefreshToken('odd:1;x')).toEqual(odd);
    const next = token({ id: 'odd-2', sessionId: sid, createdAt: T0 + 2 });
    expect(await store.rotateRefreshToken('odd:1;x', next, T0 + 2)).toBe(true);
    expect(await store.getRefreshToken('odd-2')).toEqual(next);
    expect(await store.getRefreshToken('odd-0')).toMatchObject({ successorId: 'odd:1;x' });
  });

  it('sweeps a session with its folded tokens, their indexes and retired records stop being found', async () => {
    const sid = 'fold-sweep';
    await store.createSession(session({ id: sid, idleExpiresAt: T0 + DAY }));
    await store.createRefreshToken(token({ id: 'sweep-0', sessionId: sid }));
    for (let i = 1; i <= 3; i += 1) {
      expect(
        await store.rotateRefreshToken(`sweep-${i - 1}`, token({ id: `sweep-${i}`, sessionId: sid }), T0 + i),
      ).toBe(true);
    }
    const page = await storeTransferOf(store)?.exportRefreshTokens([sid]);
    expect(page?.map((found) => found.id).sort()).toEqual(['sweep-2', 'sweep-3']);
    expect(await store.deleteExpiredSessions(T0 + DAY)).toBeGreaterThanOrEqual(1);
    for (let i = 0; i <= 3; i += 1) expect(await store.getRefreshToken(`sweep-${i}`)).toBeNull();
    for (let i = 0; i <= 3; i += 1) {
      expect(await admin.hget(`${prefix}:{rti:${sweepBucket(`sweep-${i}`)}}`, `sweep-${i}`)).toBeNull();
    }
    // The retired ones keep their own record until it expires; nothing reads it without the session.
    expect(await admin.pttl(`${prefix}:{rt:sweep-0}:r`)).toBeGreaterThan(DAY);
  });

  it('writes the shortest form of each record and reads every form back as written', async () => {
    const plain = session({ id: 'short-plain', mode: 'cookie' });
    const persistent = session({ id: 'short-persistent', mode: 'token', persistent: true });
    const stepped = session({ id: 'short-mfa', amr: ['pwd', 'otp', 'mfa'], authTime: T0 + 5, acr: 'mfa' });
    const fractional = session({ id: 'short-odd', authTime: T0 + 0.5 });
    for (const record of [plain, persistent, stepped, fractional]) await store.createSession(record);
    const json = async (id: string): Promise<unknown[]> => {
      const raw = (await admin.get(`${prefix}:{s:${id}}:session`)) ?? '';
      return JSON.parse(raw.slice(raw.indexOf('|') + 1)) as unknown[];
    };
    expect(await json('short-plain')).toHaveLength(7);
    expect((await json('short-plain'))[2]).toBe('c');
    expect(await json('short-persistent')).toHaveLength(8);
    expect(await json('short-mfa')).toHaveLength(11);
    expect(await json('short-odd')).toHaveLength(11);
    await freshStore(async (other) => {
      for (const record of [plain, persistent, stepped, fractional]) {
        expect(await other.getSession(record.id)).toEqual(record);
      }
    });
    // A token's times: base 36 when they are safe integers, decimal otherwise (and before).
    const whole = token({ id: 'times-whole', sessionId: 'short-plain', createdAt: T0, expiresAt: T0 + DAY });
    const odd = token({
      id: 'times-odd',
      sessionId: 'short-plain',
      createdAt: T0 + 0.25,
      expiresAt: T0 + DAY,
    });
    await store.createRefreshToken(whole);
    await store.createRefreshToken(odd);
    const value = (await admin.get(`${prefix}:{s:short-plain}:session`)) ?? '';
    expect(value).toContain(
      `times-whole:${whole.secretHash}:~${T0.toString(36)}:~${(T0 + DAY).toString(36)}`,
    );
    expect(value).toContain(`times-odd:${odd.secretHash}:${T0 + 0.25}:`);
    expect(await store.getRefreshToken('times-whole')).toEqual(whole);
    expect(await store.getRefreshToken('times-odd')).toEqual(odd);
  });
});
