/**
 * The session manager (`src/session/sessions.ts`) on its own, over the memory store: what a new
 * session records, how a renewed one inherits, and which error each refusal of validation
 * gives. The HTTP tests go through it on every request; these pin the rules they cannot see.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import { createSessionManager, type SessionManager } from '../../src/session/sessions.js';
import { createSessionCache } from '../../src/session/session-cache.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import type { Store } from '../../src/store.js';
import { client, MINUTE, policies, PWD } from '../helpers/session-policies.js';

let clock: ManualClock;
let store: Store;
let sessions: SessionManager;
beforeEach(() => {
  clock = createManualClock(Date.UTC(2026, 0, 1));
  store = createMemoryStore();
  sessions = createSessionManager({ store, clock, policies });
});

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'LatchkeyError', code });
}

describe('policy', () => {
  it("answers each mode's own policy", () => {
    for (const mode of ['cookie', 'token', 'hybrid'] as const) {
      expect(sessions.policy(mode)).toEqual(policies[mode]);
    }
  });
});

describe('create', () => {
  it('records a browser-session (not persistent) session unless asked, with its expiries', async () => {
    const now = clock();
    const { session, token } = await sessions.create({
      userId: 'u1',
      mode: 'cookie',
      client,
      assurance: PWD,
    });
    expect(session).toMatchObject({
      userId: 'u1',
      mode: 'cookie',
      persistent: false,
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: now + 30 * MINUTE,
      absoluteExpiresAt: now + 720 * MINUTE,
      revokedAt: null,
      userAgent: 'Mozilla/5.0',
      ip: '203.0.113.7',
    });
    expect(token.startsWith(`${session.id}.`)).toBe(true);
    expect(await store.getSession(session.id)).toEqual(session);
  });

  it('records persistence when asked', async () => {
    const { session } = await sessions.create({
      userId: 'u1',
      mode: 'hybrid',
      client,
      assurance: PWD,
      persistent: true,
    });
    expect(session.persistent).toBe(true);
  });

  it('keeps a missing user agent as null, and a long one to 256 characters', async () => {
    const none = await sessions.create({
      userId: 'u1',
      mode: 'cookie',
      client: { userAgent: null, ip: null },
      assurance: PWD,
    });
    expect(none.session.userAgent).toBeNull();
    expect(none.session.ip).toBeNull();
    const long = await sessions.create({
      userId: 'u1',
      mode: 'cookie',
      client: { userAgent: 'x'.repeat(300), ip: null },
      assurance: PWD,
    });
    expect(long.session.userAgent).toBe('x'.repeat(256));
  });

  it('a renewing session keeps the absolute expiry and persistence of the one it replaces', async () => {
    const old = await sessions.create({
      userId: 'u1',
      mode: 'hybrid',
      client,
      assurance: PWD,
      persistent: true,
    });
    clock.advance(1400 * MINUTE);
    const { session } = await sessions.create({
      userId: 'u1',
      mode: 'hybrid',
      client,
      renewing: old.session,
    });
    expect(session.id).not.toBe(old.session.id);
    expect(session.persistent).toBe(true);
    expect(session.absoluteExpiresAt).toBe(old.session.absoluteExpiresAt);
    // How and when the user authenticated carries over: a renewal is not an authentication.
    expect({ amr: session.amr, authTime: session.authTime, acr: session.acr }).toEqual(PWD);
    // The idle expiry never passes the absolute one.
    expect(session.idleExpiresAt).toBe(old.session.absoluteExpiresAt);
  });
});

describe('validateToken', () => {
  it('accepts the credential in any mode, or only in the mode asked for', async () => {
    const { session, token } = await sessions.create({
      userId: 'u1',
      mode: 'cookie',
      client,
      assurance: PWD,
    });
    expect((await sessions.validateToken(token)).id).toBe(session.id);
    expect((await sessions.validateToken(token, { mode: 'cookie' })).id).toBe(session.id);
    await expectCode(sessions.validateToken(token, { mode: 'token' }), 'unauthenticated');
    await expectCode(sessions.validateToken(token, { mode: 'hybrid' }), 'unauthenticated');
  });

  it('refuses a wrong secret or a malformed credential as unauthenticated', async () => {
    const { session } = await sessions.create({ userId: 'u1', mode: 'cookie', client, assurance: PWD });
    await expectCode(sessions.validateToken(`${session.id}.${'A'.repeat(43)}`), 'unauthenticated');
    await expectCode(sessions.validateToken('garbage'), 'unauthenticated');
  });
});

describe('validateId', () => {
  it('answers the live session, and refuses an unknown, a revoked or an expired one', async () => {
    const { session } = await sessions.create({ userId: 'u1', mode: 'token', client, assurance: PWD });
    expect((await sessions.validateId(session.id)).id).toBe(session.id);
    await expectCode(sessions.validateId('A'.repeat(22)), 'session_revoked');

    const revoked = await sessions.create({ userId: 'u1', mode: 'token', client, assurance: PWD });
    await store.revokeSession(revoked.session.id, clock());
    await expectCode(sessions.validateId(revoked.session.id), 'session_revoked');

    clock.advance(1440 * MINUTE);
    await expectCode(sessions.validateId(session.id), 'session_expired');
  });
});

describe('with the near cache', () => {
  it('a touch of a session read before its revocation never brings it back into the cache', async () => {
    // The refresh use case reads the session from the store, rotates, then touches it; meanwhile
    // the session is revoked (the cache drops it) and read again (the revoked record is cached).
    const cache = createSessionCache({ maxAge: 3_600_000, clock });
    const cached = createSessionManager({ store, clock, policies, cache });
    const { session } = await cached.create({ userId: 'u1', mode: 'token', client, assurance: PWD });
    await cached.validateId(session.id);
    const readByRefresh = await store.getSession(session.id);
    if (readByRefresh === null) throw new Error('the session was not stored');
    await store.revokeSession(session.id, clock());
    cache.apply({
      seq: 1,
      kind: 'session',
      subject: session.id,
      issuedBefore: null,
      createdAt: clock(),
      expiresAt: clock() + 60_000,
    });
    await expectCode(cached.validateId(session.id), 'session_revoked');
    clock.advance(policies.token.touchInterval);
    await cached.touch(readByRefresh);
    await expectCode(cached.validateId(session.id), 'session_revoked');
  });
});
