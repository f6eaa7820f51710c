import { afterEach, expect, it } from 'vitest';
import type { RefreshTokenRecord, SessionRecord } from '../../src/records.js';
import type { Store } from '../../src/store.js';
import { storeTransferOf, type StoreTransfer } from '../../src/store-transfer.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { describeEachStore, probeStores } from '../helpers/stores.js';

// The transfer interface of every store `latchkey copy` can name (PGlite runs the Postgres
// statements, and is covered by the copy tests): every session comes out exactly once across
// pages however many there are (more than Redis keeps in a compact sorted set, so that ZSCAN
// really pages), the refresh tokens of a page of sessions with their rotation, and a
// revocation written under its own seq.

const T0 = Date.UTC(2026, 0, 1);
const SESSIONS = 300;

function session(index: number): SessionRecord {
  return {
    id: `s${String(index).padStart(4, '0')}`,
    userId: `u${index % 7}`,
    secretHash: `hash-${index}`,
    mode: 'cookie',
    createdAt: T0 + index,
    lastSeenAt: T0 + index,
    idleExpiresAt: T0 + 3_600_000,
    absoluteExpiresAt: T0 + 7_200_000,
    userAgent: null,
    ip: null,
    revokedAt: index % 10 === 0 ? T0 + 5 : null,
    persistent: index % 2 === 0,
    amr: index % 3 === 0 ? ['pwd', 'otp', 'mfa'] : ['email'],
    authTime: T0 + index,
    acr: index % 3 === 0 ? 'mfa' : '1',
  };
}

function token(id: string, sessionId: string): RefreshTokenRecord {
  return {
    id,
    sessionId,
    secretHash: `hash-${id}`,
    createdAt: T0,
    expiresAt: T0 + 7_200_000,
    rotatedAt: null,
    successorId: null,
  };
}

function transferOf(store: Store): StoreTransfer {
  const transfer = storeTransferOf(store);
  if (transfer === null) throw new Error(`${store.kind} has no transfer`);
  return transfer;
}

it('is absent from the memory store, which copy cannot name', () => {
  expect(storeTransferOf(createMemoryStore())).toBeNull();
});

describeEachStore(
  'store transfer',
  await probeStores(['sqlite', 'postgres', 'mysql', 'redis']),
  (factory) => {
    let store: Store | undefined;
    afterEach(async () => {
      await store?.close();
      store = undefined;
    });

    it('exports every session exactly once, a page at a time', async () => {
      store = await factory.open();
      const written = Array.from({ length: SESSIONS }, (_unused, index) => session(index));
      for (const record of written) await store.createSession(record);
      const seen = new Map<string, SessionRecord>();
      let pages = 0;
      let cursor: string | null = null;
      do {
        const page = await transferOf(store).exportSessions({ cursor, limit: 50 });
        pages += 1;
        for (const record of page.records) seen.set(record.id, record);
        cursor = page.cursor;
      } while (cursor !== null && pages < 1_000);
      expect(pages).toBeGreaterThan(1);
      expect(seen.size).toBe(SESSIONS);
      for (const record of written) expect(seen.get(record.id)).toEqual(record);
    });

    it("exports a page of sessions' refresh tokens, rotated ones with their successor", async () => {
      store = await factory.open();
      await store.createSession(session(1));
      await store.createSession(session(2));
      await store.createRefreshToken(token('t1', 's0001'));
      expect(await store.rotateRefreshToken('t1', token('t2', 's0001'), T0 + 10)).toBe(true);
      await store.createRefreshToken(token('t3', 's0002'));
      const tokens = await transferOf(store).exportRefreshTokens(['s0001', 's0002', 'nope']);
      expect(tokens.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
        { ...token('t1', 's0001'), rotatedAt: T0 + 10, successorId: 't2' },
        token('t2', 's0001'),
        token('t3', 's0002'),
      ]);
      expect(await transferOf(store).exportRefreshTokens([])).toEqual([]);
    });

    it('writes a revocation under its own seq, once, and later ones come after it', async () => {
      store = await factory.open();
      const transfer = transferOf(store);
      const record = {
        seq: 4_200,
        kind: 'session' as const,
        subject: 's1',
        issuedBefore: null,
        createdAt: T0,
        expiresAt: T0 + 60_000,
      };
      expect(await transfer.importRevocation(record)).toBe('created');
      expect(await transfer.importRevocation(record)).toBe('present');
      expect(await transfer.importRevocation({ ...record, subject: 's2' })).toBe('conflict');
      expect(await store.listRevocations({ now: T0 })).toEqual([record]);
      const next = await store.addRevocation({
        kind: 'user',
        subject: 'u1',
        issuedBefore: T0,
        createdAt: T0,
        expiresAt: T0 + 60_000,
      });
      expect(next.seq).toBeGreaterThan(4_200);
      // An older seq is still taken in (a second source, or a re-run after newer revocations).
      expect(await transfer.importRevocation({ ...record, seq: 17 })).toBe('created');
      expect((await store.listRevocations({ now: T0 })).map((r) => r.seq)).toEqual([17, 4_200, next.seq]);
    });
  },
);
