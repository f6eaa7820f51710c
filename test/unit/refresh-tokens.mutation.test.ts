/**
 * Refresh-token rotation (`src/token/refresh-tokens.ts`, RFC 9700 §4.14.2) on its own, over the
 * memory store: the successor's lifetime and secret, the edges of the token's expiry and of the
 * grace window, and the races the store's compare-and-set decides. `test/http/token-mode.test.ts`
 * drives the same rules through `/v1/refresh`.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import type { RefreshTokenRecord, SessionRecord } from '../../src/records.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import type { Store } from '../../src/store.js';
import {
  createRefreshTokenManager,
  type RefreshCheck,
  type RefreshTokenManager,
} from '../../src/token/refresh-tokens.js';

const MINUTE = 60_000;
const IDLE_TTL = 24 * 60 * MINUTE;
const GRACE = 10_000;

let clock: ManualClock;
let store: Store;
let tokens: RefreshTokenManager;
let session: SessionRecord;

function manager(over: Store = store): RefreshTokenManager {
  return createRefreshTokenManager({
    store: over,
    clock,
    key: new Uint8Array(32).fill(9),
    idleTTL: IDLE_TTL,
    grace: GRACE,
  });
}

function newSession(id: string, absoluteIn = 30 * IDLE_TTL): SessionRecord {
  const now = clock();
  return {
    id,
    userId: 'u1',
    secretHash: 'unused',
    mode: 'token',
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: now + absoluteIn,
    absoluteExpiresAt: now + absoluteIn,
    userAgent: null,
    ip: null,
    revokedAt: null,
    persistent: false,
    amr: ['pwd'],
    authTime: now,
    acr: '1',
  };
}

beforeEach(async () => {
  clock = createManualClock(Date.UTC(2026, 0, 1));
  store = createMemoryStore();
  tokens = manager();
  session = newSession('S'.repeat(22));
  await store.createSession(session);
});

/** Issues a token of `session` and finds it again, as a refresh request would. */
async function issued(
  on = tokens,
  of = session,
): Promise<NonNullable<Awaited<ReturnType<RefreshTokenManager['find']>>>> {
  const { token } = await on.issue(of);
  const found = await on.find(token);
  if (found === null) throw new Error('the issued token was not found');
  return found;
}

function ok(check: RefreshCheck): { token: string; record: RefreshTokenRecord; replayed: boolean } {
  expect(check.kind).toBe('ok');
  if (check.kind !== 'ok') throw new Error(`expected ok, got ${check.kind}`);
  return check.outcome;
}

describe('issue and rotate', () => {
  it('a successor has the form of an issued token, a fresh secret, and a full idle lifetime', async () => {
    const found = await issued();
    clock.advance(MINUTE);
    const next = ok(await tokens.rotate(found, session));
    expect(next.replayed).toBe(false);
    expect(next.token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(next.token.split('.')[1]).not.toBe(found.secret);
    expect(next.record).toMatchObject({
      sessionId: session.id,
      createdAt: clock(),
      expiresAt: clock() + IDLE_TTL,
      rotatedAt: null,
    });
    expect((await tokens.find(next.token))?.record.id).toBe(next.record.id);
  });

  it('gives every token a successor secret of its own, which the key alone does not tell', async () => {
    const secrets = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const next = ok(await tokens.rotate(await issued(), session));
      secrets.add(next.token.split('.')[1] ?? '');
    }
    expect(secrets.size).toBe(3);
  });

  it('never lets a token or its successor outlive the absolute expiry of its session', async () => {
    const short = newSession('T'.repeat(22), 60 * MINUTE);
    await store.createSession(short);
    const found = await issued(tokens, short);
    expect(found.record.expiresAt).toBe(short.absoluteExpiresAt);
    clock.advance(MINUTE);
    const next = ok(await tokens.rotate(found, short));
    expect(next.record.expiresAt).toBe(short.absoluteExpiresAt);
  });
});

describe('what rotate refuses', () => {
  it('a token presented with another session', async () => {
    const other = newSession('O'.repeat(22));
    await store.createSession(other);
    expect(await tokens.rotate(await issued(), other)).toEqual({ kind: 'invalid' });
  });

  it('a token from the millisecond it expires', async () => {
    const found = await issued();
    clock.set(found.record.expiresAt - 1);
    const atTheEdge = await issued();
    clock.set(found.record.expiresAt);
    expect(await tokens.rotate(found, session)).toEqual({ kind: 'invalid' });
    expect((await tokens.rotate(atTheEdge, session)).kind).toBe('ok');
  });

  it('a token of a revoked session', async () => {
    const found = await issued();
    expect(await tokens.rotate(found, { ...session, revokedAt: clock() })).toEqual({ kind: 'invalid' });
  });
});

describe('replays', () => {
  it('within the grace window, up to its last millisecond, converge on the same successor', async () => {
    const found = await issued();
    const first = ok(await tokens.rotate(found, session));
    const rotated = await tokens.find(`${found.record.id}.${found.secret}`);
    if (rotated === null) throw new Error('the rotated token is gone');
    clock.advance(GRACE);
    const replay = ok(await tokens.rotate(rotated, session));
    expect(replay.replayed).toBe(true);
    expect(replay.token).toBe(first.token);
    expect(replay.record.id).toBe(first.record.id);
  });

  it('after the grace window are reuse, which names the session to revoke', async () => {
    const found = await issued();
    await tokens.rotate(found, session);
    const rotated = await tokens.find(`${found.record.id}.${found.secret}`);
    if (rotated === null) throw new Error('the rotated token is gone');
    clock.advance(GRACE + 1);
    expect(await tokens.rotate(rotated, session)).toEqual({ kind: 'reuse', sessionId: session.id });
  });

  it('of a token whose successor was rotated in turn are reuse, even within the grace window', async () => {
    const found = await issued();
    const first = ok(await tokens.rotate(found, session));
    const successor = await tokens.find(first.token);
    if (successor === null) throw new Error('the successor is gone');
    ok(await tokens.rotate(successor, session));
    expect(await tokens.rotate(found, session)).toEqual({ kind: 'reuse', sessionId: session.id });
  });
});

describe('races the compare-and-set decides', () => {
  it('two concurrent rotations of one token get the same successor; one of them as a replay', async () => {
    const found = await issued();
    const [a, b] = (await Promise.all([tokens.rotate(found, session), tokens.rotate(found, session)])).map(
      ok,
    );
    expect(a?.token).toBe(b?.token);
    expect([a?.replayed, b?.replayed].sort()).toEqual([false, true]);
  });

  it('a stale read of a token rotated longer ago than the grace window is reuse', async () => {
    const found = await issued();
    // Another request rotates the token; this one read it before and resumes 11 s later.
    ok(await tokens.rotate(found, session));
    clock.advance(GRACE + 1_000);
    expect(found.record.rotatedAt).toBeNull();
    expect(await tokens.rotate(found, session)).toEqual({ kind: 'reuse', sessionId: session.id });
  });

  it('a token or successor swept between the read and the rotation is reuse, not a crash', async () => {
    // The sweeper removes the tokens of a session revoked in the meantime.
    const swept = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'getRefreshToken') return () => Promise.resolve(null);
        if (property === 'rotateRefreshToken') return () => Promise.resolve(false);
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const found = await issued();
    expect(await manager(swept).rotate(found, session)).toEqual({ kind: 'reuse', sessionId: session.id });
    const rotated = { ...found, record: { ...found.record, rotatedAt: clock() } };
    expect(await manager(swept).rotate(rotated, session)).toEqual({ kind: 'reuse', sessionId: session.id });
  });
});
