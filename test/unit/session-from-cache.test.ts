/**
 * The session manager's synchronous answer from the near cache (`validateTokenFromCache`): it
 * must accept exactly what `validateTokenWithUser` accepts from the same cached record, give the
 * same session (slid when due), and answer nothing (never a session) for every credential the
 * full path refuses or must read the store for.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import { createSessionCache, type SessionCache } from '../../src/session/session-cache.js';
import { createSessionManager, type SessionManager } from '../../src/session/sessions.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import type { Store } from '../../src/store.js';
import { sha256 } from '../../src/lib/secrets.js';
import { client, MINUTE, policies, PWD } from '../helpers/session-policies.js';

let clock: ManualClock;
let store: Store;
let cache: SessionCache;
let sessions: SessionManager;
beforeEach(() => {
  clock = createManualClock(Date.UTC(2026, 0, 1));
  store = createMemoryStore();
  cache = createSessionCache({ maxAge: 24 * 60 * MINUTE, clock });
  sessions = createSessionManager({ store, clock, policies, cache });
});

/** A cookie session, read once through the full path (which puts it in the cache). */
async function cachedSession(): Promise<{ id: string; token: string }> {
  const { session, token } = await sessions.create({ userId: 'u1', mode: 'cookie', client, assurance: PWD });
  await sessions.validateTokenWithUser(token, { mode: 'cookie' });
  return { id: session.id, token };
}

describe('validateTokenFromCache', () => {
  it('answers the session the full path answers, once the cache holds it, and never before', async () => {
    const { session, token } = await sessions.create({
      userId: 'u1',
      mode: 'cookie',
      client,
      assurance: PWD,
    });
    expect(sessions.validateTokenFromCache(token, { mode: 'cookie' })).toBeUndefined();
    const full = await sessions.validateTokenWithUser(token, { mode: 'cookie' });
    const fast = sessions.validateTokenFromCache(token, { mode: 'cookie' });
    expect(fast?.session).toEqual(full.session);
    expect(fast?.session.id).toBe(session.id);
    expect(sessions.validateTokenFromCache(token)?.session.id).toBe(session.id);
  });

  it('answers nothing without a cache', async () => {
    const plain = createSessionManager({ store, clock, policies });
    const { token } = await plain.create({ userId: 'u1', mode: 'cookie', client, assurance: PWD });
    await plain.validateTokenWithUser(token);
    expect(plain.validateTokenFromCache(token)).toBeUndefined();
  });

  it('answers nothing for a wrong secret, a malformed credential or another mode; the full path refuses them', async () => {
    const { id, token } = await cachedSession();
    const wrong = `${id}.${'A'.repeat(43)}`;
    expect(sessions.validateTokenFromCache(wrong, { mode: 'cookie' })).toBeUndefined();
    await expect(sessions.validateTokenWithUser(wrong, { mode: 'cookie' })).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    // One character of the secret changed, at its end.
    const last = token.endsWith('A') ? 'B' : 'A';
    expect(sessions.validateTokenFromCache(token.slice(0, -1) + last)).toBeUndefined();
    expect(sessions.validateTokenFromCache(id)).toBeUndefined();
    expect(sessions.validateTokenFromCache(`${token}.x`)).toBeUndefined();
    expect(sessions.validateTokenFromCache(token, { mode: 'token' })).toBeUndefined();
    expect(sessions.validateTokenFromCache(token, { mode: 'hybrid' })).toBeUndefined();
  });

  it('answers nothing once the session is revoked, expired, dropped from the cache, or the cache is not live', async () => {
    const revoked = await cachedSession();
    cache.invalidateSession(revoked.id);
    expect(sessions.validateTokenFromCache(revoked.token)).toBeUndefined();

    const paused = await cachedSession();
    cache.setLive(false);
    expect(sessions.validateTokenFromCache(paused.token)).toBeUndefined();
    cache.setLive(true);

    const idle = await cachedSession();
    clock.advance(31 * MINUTE); // past the idle timeout: the cached copy is not live
    expect(sessions.validateTokenFromCache(idle.token)).toBeUndefined();
    await expect(sessions.validateTokenWithUser(idle.token)).rejects.toMatchObject({
      code: 'session_expired',
    });
  });

  it('a credential that matched a cached record lets in that credential for that record only', async () => {
    const { id, token } = await cachedSession();
    const first = sessions.validateTokenFromCache(token, { mode: 'cookie' });
    expect(first?.session.id).toBe(id); // remembered from here on
    // Another secret for the same id is checked against the hash, remembered one or not.
    const last = token.endsWith('A') ? 'B' : 'A';
    expect(sessions.validateTokenFromCache(token.slice(0, -1) + last)).toBeUndefined();
    expect(sessions.validateTokenFromCache(`${id}.${'A'.repeat(43)}`)).toBeUndefined();
    expect(sessions.validateTokenFromCache(token, { mode: 'cookie' })?.session).toBe(first?.session);
    // The remembered match still goes through the mode and liveness checks.
    expect(sessions.validateTokenFromCache(token, { mode: 'token' })).toBeUndefined();

    // The cached record replaced by one with another secret (the session read again after a
    // change): the remembered match is for the old record and counts for nothing.
    const cached = cache.peekSession(id);
    if (cached === undefined) throw new Error('not cached');
    cache.update(cached, { ...cached, secretHash: sha256('another secret') });
    expect(sessions.validateTokenFromCache(token)).toBeUndefined();
  });

  it('a remembered credential answers nothing once its session is dropped, revoked or expired', async () => {
    const dropped = await cachedSession();
    expect(sessions.validateTokenFromCache(dropped.token)).toBeDefined();
    cache.invalidateSession(dropped.id);
    expect(sessions.validateTokenFromCache(dropped.token)).toBeUndefined();

    const revoked = await cachedSession();
    expect(sessions.validateTokenFromCache(revoked.token)).toBeDefined();
    await store.revokeSession(revoked.id, clock());
    cache.apply({
      seq: 1,
      kind: 'session',
      subject: revoked.id,
      issuedBefore: null,
      createdAt: clock(),
      expiresAt: clock() + MINUTE,
    });
    expect(sessions.validateTokenFromCache(revoked.token)).toBeUndefined();
    await expect(sessions.validateTokenWithUser(revoked.token)).rejects.toMatchObject({
      code: 'session_revoked',
    });

    const idle = await cachedSession();
    expect(sessions.validateTokenFromCache(idle.token)).toBeDefined();
    clock.advance(31 * MINUTE);
    expect(sessions.validateTokenFromCache(idle.token)).toBeUndefined();
  });

  it('slides the idle expiry when due, as the full path does', async () => {
    const { id, token } = await cachedSession();
    clock.advance(2 * MINUTE);
    const fast = sessions.validateTokenFromCache(token, { mode: 'cookie' });
    expect(fast?.session.lastSeenAt).toBe(clock());
    expect(fast?.session.idleExpiresAt).toBe(clock() + 30 * MINUTE);
    await new Promise((resolve) => setImmediate(resolve));
    expect((await store.getSession(id))?.lastSeenAt).toBe(clock());
    // The cache holds the slid copy: the next request finds nothing due.
    expect(sessions.validateTokenFromCache(token)?.session.lastSeenAt).toBe(clock());
  });
});
