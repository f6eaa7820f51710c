import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { createSessionCache } from '../../src/session/session-cache.js';
import type { RevocationRecord, SessionRecord, UserRecord } from '../../src/records.js';

const clock = createManualClock(Date.UTC(2026, 0, 1));

function session(id: string, userId = 'u1'): SessionRecord {
  const now = clock();
  return {
    id,
    userId,
    secretHash: 'hash',
    mode: 'cookie',
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: now + 1_800_000,
    absoluteExpiresAt: now + 43_200_000,
    userAgent: null,
    ip: null,
    revokedAt: null,
    persistent: false,
    amr: ['pwd'],
    authTime: now,
    acr: '1',
  };
}

function user(id: string): UserRecord {
  return {
    id,
    email: `${id}@example.com`,
    passwordHash: 'x',
    status: 'active',
    roles: [],
    createdAt: clock(),
    updatedAt: clock(),
    emailVerifiedAt: null,
  };
}

function revocation(kind: RevocationRecord['kind'], subject: string): RevocationRecord {
  return { seq: 1, kind, subject, issuedBefore: null, createdAt: clock(), expiresAt: clock() + 60_000 };
}

/** A loader that counts its calls. */
function loader<T>(value: () => T | null): { load: () => Promise<T | null>; calls: () => number } {
  let calls = 0;
  return {
    load: () => {
      calls++;
      return Promise.resolve(value());
    },
    calls: () => calls,
  };
}

describe('session cache', () => {
  it('serves a read for at most maxAge, then reads the store again', async () => {
    const cache = createSessionCache({ maxAge: 5_000, clock });
    const s = loader(() => session('s1'));
    await cache.session('s1', s.load);
    await cache.session('s1', s.load);
    expect(s.calls()).toBe(1);
    clock.advance(4_999);
    await cache.session('s1', s.load);
    expect(s.calls()).toBe(1);
    clock.advance(1);
    await cache.session('s1', s.load);
    expect(s.calls()).toBe(2);
  });

  it('never caches a miss', async () => {
    const cache = createSessionCache({ maxAge: 5_000, clock });
    const s = loader<SessionRecord>(() => null);
    expect(await cache.session('nope', s.load)).toBeNull();
    expect(await cache.session('nope', s.load)).toBeNull();
    expect(s.calls()).toBe(2);
  });

  it('does not store a read that an invalidation overtook', async () => {
    const cache = createSessionCache({ maxAge: 5_000, clock });
    let release: (value: SessionRecord) => void = () => undefined;
    const slow = new Promise<SessionRecord>((resolve) => (release = resolve));
    const pending = cache.session('s1', () => slow);
    cache.apply(revocation('session', 's1'));
    release(session('s1'));
    await pending;
    expect(cache.peekSession('s1')).toBeUndefined();
  });

  it('caches a session read with its user, and neither when an invalidation overtook the read', async () => {
    const cache = createSessionCache({ maxAge: 5_000, clock });
    const both = loader(() => ({ session: session('s1'), user: user('u1') }));
    expect(await cache.sessionWithUser('s1', both.load)).toEqual({
      session: session('s1'),
      user: user('u1'),
    });
    // Served from memory: the session, and the user through `user` without a load.
    expect(await cache.sessionWithUser('s1', both.load)).toEqual({ session: session('s1') });
    const userLoad = loader(() => user('u1'));
    expect(await cache.user('u1', userLoad.load)).toEqual(user('u1'));
    expect(both.calls()).toBe(1);
    expect(userLoad.calls()).toBe(0);

    let release: (value: { session: SessionRecord; user: UserRecord }) => void = () => undefined;
    const slow = new Promise<{ session: SessionRecord; user: UserRecord }>((resolve) => (release = resolve));
    const pending = cache.sessionWithUser('s2', () => slow);
    cache.apply(revocation('user', 'u2'));
    release({ session: session('s2', 'u2'), user: user('u2') });
    await pending;
    expect(cache.peekSession('s2')).toBeUndefined();
    const again = loader(() => user('u2'));
    await cache.user('u2', again.load);
    expect(again.calls()).toBe(1);
  });

  it('drops a revoked session, and a revoked user with all their sessions', async () => {
    const cache = createSessionCache({ maxAge: 5_000, clock });
    await cache.session('a', () => Promise.resolve(session('a', 'u1')));
    await cache.session('b', () => Promise.resolve(session('b', 'u1')));
    await cache.session('c', () => Promise.resolve(session('c', 'u2')));
    await cache.user('u1', () => Promise.resolve(user('u1')));
    cache.apply(revocation('token', 'a'));
    expect(cache.peekSession('a')).toBeDefined();
    cache.apply(revocation('session', 'a'));
    expect(cache.peekSession('a')).toBeUndefined();
    cache.apply(revocation('user', 'u1'));
    expect(cache.peekSession('b')).toBeUndefined();
    expect(cache.peekSession('c')).toBeDefined();
    const u = loader(() => user('u1'));
    await cache.user('u1', u.load);
    expect(u.calls()).toBe(1);
  });

  it('serves nothing while the channel is not live, and empties itself on every change', async () => {
    const cache = createSessionCache({ maxAge: 5_000, clock, live: false });
    const s = loader(() => session('s1'));
    await cache.session('s1', s.load);
    await cache.session('s1', s.load);
    expect(s.calls()).toBe(2);
    expect(cache.size).toBe(0);
    cache.setLive(true);
    await cache.session('s1', s.load);
    cache.setLive(true); // a heartbeat: no change, the entry stays
    await cache.session('s1', s.load);
    expect(s.calls()).toBe(3);
    cache.setLive(false);
    expect(cache.size).toBe(0);
    expect(cache.peekSession('s1')).toBeUndefined();
    cache.setLive(true);
    await cache.session('s1', s.load);
    expect(s.calls()).toBe(4);
  });

  it('updates only an entry it holds, and keeps at most maxEntries', async () => {
    const cache = createSessionCache({ maxAge: 5_000, clock, maxEntries: 2 });
    cache.update(session('ghost'), session('ghost'));
    expect(cache.peekSession('ghost')).toBeUndefined();
    for (const id of ['a', 'b', 'c']) await cache.session(id, () => Promise.resolve(session(id)));
    expect(cache.peekSession('a')).toBeUndefined();
    expect(cache.size).toBe(2);
    const held = cache.peekSession('c') ?? session('c');
    const moved = { ...held, idleExpiresAt: clock() + 1 };
    cache.update(held, moved);
    expect(cache.peekSession('c')).toBe(moved);
  });

  it('drops the oldest tenth of a full cache at once, the newest entries stay', async () => {
    const cache = createSessionCache({ maxAge: 5_000, clock, maxEntries: 20 });
    for (let i = 0; i < 21; i++) await cache.session(`s${i}`, () => Promise.resolve(session(`s${i}`)));
    // The 21st entry found 20: the two oldest went, the 21st was added.
    expect(cache.size).toBe(19);
    expect(cache.peekSession('s0')).toBeUndefined();
    expect(cache.peekSession('s1')).toBeUndefined();
    for (let i = 2; i < 21; i++) expect(cache.peekSession(`s${i}`)?.id).toBe(`s${i}`);
  });

  it('never brings a revoked session back through update (a touch of a copy read before the revocation)', async () => {
    // A token refresh read the live session from the store, then wrote its slid expiry; meanwhile
    // the session was revoked (the entry dropped) and read again (the revoked record cached).
    const cache = createSessionCache({ maxAge: 5_000, clock });
    const live = session('s1');
    const revoked = { ...live, revokedAt: clock() };
    let stored: SessionRecord = live;
    await cache.session('s1', () => Promise.resolve(stored));
    const readBefore = { ...live };
    stored = revoked;
    cache.apply(revocation('session', 's1'));
    expect(await cache.session('s1', () => Promise.resolve(stored))).toBe(revoked);
    cache.update(readBefore, { ...readBefore, lastSeenAt: clock(), idleExpiresAt: clock() + 1_800_000 });
    expect(cache.peekSession('s1')?.revokedAt).not.toBeNull(); // dropped (undefined) or revoked
    // Also when the caller holds the very object the cache held before the revocation.
    await cache.session('s2', () => Promise.resolve(session('s2')));
    const held = cache.peekSession('s2') ?? session('s2');
    cache.apply(revocation('session', 's2'));
    await cache.session('s2', () => Promise.resolve({ ...held, revokedAt: clock() }));
    cache.update(held, { ...held, lastSeenAt: clock() });
    expect(cache.peekSession('s2')?.revokedAt).not.toBeNull();
  });

  it('refuses a maxAge that is not positive', () => {
    expect(() => createSessionCache({ maxAge: 0, clock })).toThrow(TypeError);
  });
});
