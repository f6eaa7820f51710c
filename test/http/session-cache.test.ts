/**
 * LATCHKEY_SESSION_CACHE through the HTTP API: what it saves (store reads), and every way a
 * revoked session or user must still be refused at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import type { Store } from '../../src/store.js';
import type { RevocationRecord } from '../../src/records.js';
import type { RevocationFeed, RevocationFeedState } from '../../src/verify/feed.js';
import { createTestApp, json, loginCookie, signup, type TestApp } from '../helpers/app.js';

/** The memory store, counting the reads authentication makes; optionally posing as a shared store. */
function countingStore(kind?: string): { store: Store; reads: () => number } {
  const inner = createMemoryStore();
  let reads = 0;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'kind') return kind ?? target.kind;
      if (property === 'getSession' || property === 'getUserById') {
        const method = Reflect.get(target, property, receiver) as (id: string) => Promise<unknown>;
        return (id: string) => {
          reads++;
          return method.call(target, id);
        };
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  return { store, reads: () => reads };
}

/** A revocation channel the test drives by hand. */
function manualFeed(): RevocationFeed & {
  push(record: RevocationRecord): void;
  state(state: RevocationFeedState): void;
  closed: boolean;
} {
  let apply: (record: RevocationRecord) => void = () => undefined;
  let onState: (state: RevocationFeedState) => void = () => undefined;
  const feed = {
    closed: false,
    start(a: typeof apply, s: typeof onState) {
      apply = a;
      onState = s;
      s({ status: 'connecting' });
    },
    close() {
      feed.closed = true;
      return Promise.resolve();
    },
    push: (record: RevocationRecord) => apply(record),
    state: (state: RevocationFeedState) => onState(state),
  };
  return feed;
}

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function me(app: TestApp, cookie: string): Promise<number> {
  const response = await app.app.inject({ url: '/v1/me', headers: { cookie } });
  return response.statusCode;
}

describe('session near cache (LATCHKEY_SESSION_CACHE)', () => {
  it('is off when set to 0: every request reads the store', async () => {
    const counted = countingStore();
    t = await createTestApp({ store: counted.store, config: { sessionCache: 0 } });
    await signup(t.app, 'a@example.com');
    const { cookie } = await loginCookie(t.app, 'a@example.com');
    const before = counted.reads();
    for (let i = 0; i < 5; i++) expect(await me(t, cookie)).toBe(200);
    expect(counted.reads() - before).toBe(10);
    expect(t.latchkey.sessionCache).toBeNull();
  });

  it('is on by default (auto, 5 s) on a store only this process writes, off on a shared one', async () => {
    expect(loadConfig({}).sessionCache).toBeNull();
    for (const [kind, expected] of [
      ['memory', 2],
      ['pglite', 2],
      ['postgres', 10],
      ['redis', 10],
      ['postgres+redis', 10],
    ] as const) {
      const counted = countingStore(kind);
      const app = await createTestApp({ store: counted.store });
      try {
        await signup(app.app, 'a@example.com');
        const { cookie } = await loginCookie(app.app, 'a@example.com');
        const before = counted.reads();
        for (let i = 0; i < 5; i++) expect(await me(app, cookie)).toBe(200);
        expect(counted.reads() - before, kind).toBe(expected);
        app.clock.advance(5_000);
        expect(await me(app, cookie)).toBe(200);
        expect(counted.reads() - before, kind).toBe(expected + 2);
      } finally {
        await app.close();
      }
    }
  });

  it('on a process-local store, serves repeated requests from memory for at most its max age', async () => {
    const counted = countingStore();
    t = await createTestApp({ store: counted.store, config: { sessionCache: 5_000 } });
    await signup(t.app, 'a@example.com');
    const { cookie } = await loginCookie(t.app, 'a@example.com');
    const before = counted.reads();
    for (let i = 0; i < 5; i++) expect(await me(t, cookie)).toBe(200);
    expect(counted.reads() - before).toBe(2);
    t.clock.advance(5_000);
    expect(await me(t, cookie)).toBe(200);
    expect(counted.reads() - before).toBe(4);
  });

  it('refuses a wrong secret for a cached session id', async () => {
    t = await createTestApp({ config: { sessionCache: 5_000 } });
    await signup(t.app, 'a@example.com');
    const { cookie } = await loginCookie(t.app, 'a@example.com');
    expect(await me(t, cookie)).toBe(200);
    const [name = '', value = ''] = cookie.split('=');
    const [id = ''] = value.split('.');
    const forged = `${name}=${id}.${'A'.repeat(43)}`;
    expect(await me(t, forged)).toBe(401);
    expect(await me(t, cookie)).toBe(200);
  });

  it('refuses at once after logout, a revoked session and a disabled user', async () => {
    t = await createTestApp({ config: { sessionCache: 60_000 } });
    const app = t;
    await signup(app.app, 'a@example.com');
    const one = await loginCookie(app.app, 'a@example.com');
    const two = await loginCookie(app.app, 'a@example.com');
    const three = await loginCookie(app.app, 'a@example.com');
    for (const login of [one, two, three]) expect(await me(app, login.cookie)).toBe(200);

    const logout = await app.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { cookie: one.cookie, 'x-csrf-token': one.csrf },
    });
    expect(logout.statusCode).toBe(204);
    expect(await me(app, one.cookie)).toBe(401);

    const revoke = await app.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${two.sessionId}`,
      headers: { cookie: three.cookie, 'x-csrf-token': three.csrf },
    });
    expect(revoke.statusCode).toBe(204);
    expect(await me(app, two.cookie)).toBe(401);
    expect(await me(app, three.cookie)).toBe(200);

    await app.latchkey.auth.setUserStatus('a@example.com', 'disabled');
    expect(await me(app, three.cookie)).toBe(401);
  });

  it('reads the store again before refusing a cached session that looks expired', async () => {
    const counted = countingStore();
    t = await createTestApp({
      store: counted.store,
      config: { sessionCache: 60_000, sessionIdleTimeout: 10_000 },
    });
    await signup(t.app, 'a@example.com');
    const login = await loginCookie(t.app, 'a@example.com');
    const start = t.clock();
    t.clock.advance(1_000);
    expect(await me(t, login.cookie)).toBe(200); // cached, idle expiry start + 10 s
    // Another node slid the idle expiry in the store (no message: a slide is not a revocation).
    await counted.store.touchSession(login.sessionId, {
      lastSeenAt: start + 5_000,
      idleExpiresAt: start + 15_000,
    });
    t.clock.advance(10_000);
    expect(await me(t, login.cookie)).toBe(200);
    t.clock.advance(5_000);
    expect(await me(t, login.cookie)).toBe(401);
  });

  it('is bounded by its max age when a store change reaches it by no channel', async () => {
    const counted = countingStore();
    t = await createTestApp({ store: counted.store, config: { sessionCache: 5_000 } });
    await signup(t.app, 'a@example.com');
    const login = await loginCookie(t.app, 'a@example.com');
    expect(await me(t, login.cookie)).toBe(200);
    // Behind the node's back (no revocation record, no message): the cache may answer until
    // its max age, never longer.
    await counted.store.revokeSession(login.sessionId, t.clock());
    t.clock.advance(4_999);
    expect(await me(t, login.cookie)).toBe(200);
    t.clock.advance(1);
    expect(await me(t, login.cookie)).toBe(401);
  });

  it('on a shared store, serves from memory only while the revocation channel is live', async () => {
    const counted = countingStore('redis');
    const feed = manualFeed();
    t = await createTestApp({
      store: counted.store,
      config: { sessionCache: 60_000 },
      sessionCacheFeed: feed,
    });
    const app = t;
    await signup(app.app, 'a@example.com');
    const login = await loginCookie(app.app, 'a@example.com');
    const reads = async (requests: number): Promise<number> => {
      const before = counted.reads();
      for (let i = 0; i < requests; i++) expect(await me(app, login.cookie)).toBe(200);
      return counted.reads() - before;
    };
    expect(await reads(3)).toBe(6); // connecting: bypassed
    feed.state({ status: 'live' });
    expect(await reads(3)).toBe(2);
    feed.state({ status: 'live' }); // a heartbeat keeps the entries
    expect(await reads(3)).toBe(0);
    feed.state({ status: 'disconnected', reason: 'test' });
    expect(await reads(3)).toBe(6);
    feed.state({ status: 'live' });
    expect(await reads(2)).toBe(2);

    // A revocation made by another node arrives on the channel: refused at once.
    feed.push({
      seq: 1,
      kind: 'session',
      subject: login.sessionId,
      issuedBefore: null,
      createdAt: app.clock(),
      expiresAt: app.clock() + 60_000,
    });
    await counted.store.revokeSession(login.sessionId, app.clock());
    expect(await me(app, login.cookie)).toBe(401);
    expect(json(await app.app.inject({ url: '/v1/me', headers: { cookie: login.cookie } }))).toMatchObject({
      status: 401,
    });

    await app.close();
    t = undefined;
    expect(feed.closed).toBe(true);
  });

  it('stays off on a shared store without a channel, and says so', async () => {
    const counted = countingStore('postgres');
    t = await createTestApp({ store: counted.store, config: { sessionCache: 5_000, logLevel: 'warn' } });
    await signup(t.app, 'a@example.com');
    const { cookie } = await loginCookie(t.app, 'a@example.com');
    const before = counted.reads();
    for (let i = 0; i < 3; i++) expect(await me(t, cookie)).toBe(200);
    expect(counted.reads() - before).toBe(6);
    expect(t.logs.join('')).toContain('config.session_cache');
  });
});
