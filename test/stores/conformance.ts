/**
 * The store conformance suite: every store must pass it. It covers every method of the
 * contract in `src/store.ts`, attacks the atomic operations with concurrent calls, and
 * loads large counts.
 *
 * Records use fixed times (from `T0`), never `Date.now()`.
 */

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LatchkeyError } from '../../src/errors.js';
import { describeAuditConformance } from './conformance-audit.js';
import { describeFactorConformance } from './conformance-factors.js';
import { describePasskeyConformance } from './conformance-passkeys.js';
import type { Store } from '../../src/store.js';
import type {
  ClientRecord,
  NewRevocation,
  OneTimeTokenRecord,
  RefreshTokenRecord,
  RevocationRecord,
  SessionRecord,
  SigningKeyRecord,
  UserRecord,
} from '../../src/records.js';
import { describeMailConformance } from './mail-conformance.js';

/** How a test file provides its store. */
export interface StoreConformanceSetup {
  /** Opens the store once for the whole file. */
  open(): Promise<Store>;
  /** Empties it between tests. */
  reset(store: Store): Promise<void>;
  close(store: Store): Promise<void>;
}

/** Tuning for slow stores. */
export interface StoreConformanceOptions {
  /** Sessions written by the large-count test (default 100 000; keep at least 10 000). */
  largeSessionCount?: number;
  /** Concurrent writes per batch in the large-count tests (default 1 000). */
  batchSize?: number;
  /** Timeout of each large-count test in ms (default 180 000). */
  largeTimeoutMs?: number;
}

/** 2026-01-01T00:00:00Z. */
export const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function user(overrides: Partial<UserRecord> = {}): UserRecord {
  const id = overrides.id ?? 'user-1';
  return {
    id,
    email: `${id}@example.com`,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
    status: 'active',
    roles: ['member'],
    createdAt: T0,
    updatedAt: T0,
    emailVerifiedAt: null,
    ...overrides,
  };
}

/** A cookie session record of the conformance suite (`session-1` of `user-1`), with `overrides`. */
export function session(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: 'session-1',
    userId: 'user-1',
    secretHash: 'c2VjcmV0LWhhc2g',
    mode: 'cookie',
    createdAt: T0,
    lastSeenAt: T0,
    idleExpiresAt: T0 + DAY,
    absoluteExpiresAt: T0 + 30 * DAY,
    userAgent: 'Mozilla/5.0 (conformance)',
    ip: '203.0.113.7',
    revokedAt: null,
    persistent: false,
    amr: ['pwd'],
    authTime: T0,
    acr: '1',
    ...overrides,
  };
}

function oneTimeToken(overrides: Partial<OneTimeTokenRecord> = {}): OneTimeTokenRecord {
  return {
    id: 'b3RwLWhhc2gtMQ',
    purpose: 'password_reset',
    subject: 'user-1',
    data: null,
    createdAt: T0,
    expiresAt: T0 + HOUR,
    ...overrides,
  };
}

function refreshToken(overrides: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord {
  return {
    id: 'refresh-1',
    sessionId: 'session-1',
    secretHash: 'cmVmcmVzaC1oYXNo',
    createdAt: T0,
    expiresAt: T0 + 30 * DAY,
    rotatedAt: null,
    successorId: null,
    ...overrides,
  };
}

function signingKey(overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  return {
    kid: 'kid-1',
    alg: 'EdDSA',
    publicJwk: '{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}',
    encryptedPrivateKey: 'ZW5jcnlwdGVk',
    createdAt: T0,
    activatesAt: T0 + HOUR,
    retiredAt: null,
    expiresAt: null,
    ...overrides,
  };
}

function revocation(overrides: Partial<NewRevocation> = {}): NewRevocation {
  return {
    kind: 'session',
    subject: 'session-1',
    issuedBefore: null,
    createdAt: T0,
    expiresAt: T0 + 15 * MINUTE,
    ...overrides,
  };
}

function machineClient(overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    id: 'client-1',
    name: 'Orders service',
    secretHash: 'Y2xpZW50LXNlY3JldC1oYXNo',
    scopes: ['orders:read', 'orders:write'],
    audiences: ['https://orders.example', 'https://billing.example'],
    createdAt: T0,
    disabledAt: null,
    ...overrides,
  };
}

function pad(n: number): string {
  return String(n).padStart(6, '0');
}

/** Runs `task(i)` for i in [0, count), `batchSize` at a time. */
async function inBatches(
  count: number,
  batchSize: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(count, start + batchSize);
    const batch: Promise<void>[] = [];
    for (let i = start; i < end; i += 1) batch.push(task(i));
    await Promise.all(batch);
  }
}

async function expectLatchkeyError(promise: Promise<unknown>, code: LatchkeyError['code']): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(LatchkeyError);
  expect((error as LatchkeyError).code).toBe(code);
}

/**
 * Registers the conformance tests for one store.
 *
 * @example
 * describeStoreConformance('memory', {
 *   open: async () => createMemoryStore(),
 *   reset: async () => {},
 *   close: (store) => store.close(),
 * });
 */
export function describeStoreConformance(
  name: string,
  setup: StoreConformanceSetup,
  options: StoreConformanceOptions = {},
): void {
  const largeSessionCount = options.largeSessionCount ?? 100_000;
  if (largeSessionCount < 10_000) throw new RangeError('largeSessionCount must be at least 10 000');
  const batchSize = options.batchSize ?? 1_000;
  const largeTimeout = options.largeTimeoutMs ?? 180_000;

  describe(`store conformance: ${name}`, () => {
    let store: Store;

    beforeAll(async () => {
      store = await setup.open();
    });

    afterAll(async () => {
      await setup.close(store);
    });

    beforeEach(async () => {
      await setup.reset(store);
    });

    it('has a kind and answers ping', async () => {
      expect(typeof store.kind).toBe('string');
      expect(store.kind.length).toBeGreaterThan(0);
      await expect(store.ping()).resolves.toBeUndefined();
    });

    // ---- users ---------------------------------------------------------------------------------

    describe('users', () => {
      it('creates a user and reads it by id and by email', async () => {
        const record = user({ roles: ['admin', 'member'] });
        await store.createUser(record);
        expect(await store.getUserById(record.id)).toEqual(record);
        expect(await store.getUserByEmail(record.email)).toEqual(record);
      });

      it('returns null for a missing user', async () => {
        expect(await store.getUserById('nobody')).toBeNull();
        expect(await store.getUserByEmail('nobody@example.com')).toBeNull();
      });

      it('round-trips empty roles and roles with special characters', async () => {
        const odd = ['', 'a,b', '"quoted"', '{braces}', 'back\\slash', 'NULL', 'émoji 🔑'];
        await store.createUser(user({ id: 'u-empty', roles: [] }));
        await store.createUser(user({ id: 'u-odd', roles: odd }));
        expect((await store.getUserById('u-empty'))?.roles).toEqual([]);
        expect((await store.getUserById('u-odd'))?.roles).toEqual(odd);
      });

      it('rejects a duplicate email with email_taken and keeps the first user', async () => {
        const first = user({ id: 'u1', email: 'same@example.com' });
        await store.createUser(first);
        await expectLatchkeyError(
          store.createUser(user({ id: 'u2', email: 'same@example.com' })),
          'email_taken',
        );
        expect(await store.getUserByEmail('same@example.com')).toEqual(first);
        expect(await store.getUserById('u2')).toBeNull();
      });

      it('lets exactly one of 20 concurrent creations with the same email succeed', async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) =>
            store.createUser(user({ id: `racer-${i}`, email: 'race@example.com' })),
          ),
        );
        const fulfilled = results.filter((result) => result.status === 'fulfilled');
        expect(fulfilled).toHaveLength(1);
        for (const result of results) {
          if (result.status === 'rejected') {
            expect(result.reason).toBeInstanceOf(LatchkeyError);
            expect((result.reason as LatchkeyError).code).toBe('email_taken');
          }
        }
        expect(await store.listUsers({ limit: 100 })).toHaveLength(1);
      });

      it('returns copies: mutating a returned record does not change the store', async () => {
        await store.createUser(user());
        const copy = await store.getUserById('user-1');
        copy?.roles.push('root');
        if (copy !== null) copy.status = 'disabled';
        expect(await store.getUserById('user-1')).toEqual(user());
      });

      it('updates only the fields in the patch', async () => {
        await store.createUser(user());
        expect(await store.updateUser('user-1', { passwordHash: 'new-hash', updatedAt: T0 + 1 })).toBe(true);
        expect(await store.getUserById('user-1')).toEqual(
          user({ passwordHash: 'new-hash', updatedAt: T0 + 1 }),
        );

        expect(await store.updateUser('user-1', { status: 'disabled', updatedAt: T0 + 2 })).toBe(true);
        expect(await store.updateUser('user-1', { roles: ['admin'], updatedAt: T0 + 3 })).toBe(true);
        expect(await store.getUserById('user-1')).toEqual(
          user({ passwordHash: 'new-hash', status: 'disabled', roles: ['admin'], updatedAt: T0 + 3 }),
        );

        expect(await store.updateUser('user-1', { roles: [], updatedAt: T0 + 4 })).toBe(true);
        expect((await store.getUserById('user-1'))?.roles).toEqual([]);
      });

      it('returns false when updating a missing user', async () => {
        expect(await store.updateUser('nobody', { status: 'disabled', updatedAt: T0 })).toBe(false);
        expect(await store.getUserById('nobody')).toBeNull();
      });

      it('lists users by email, page by page', async () => {
        const emails = Array.from({ length: 25 }, (_, i) => `user${pad(i)}@example.com`);
        // Insert in a scrambled order: the listing must sort.
        const scrambled = emails
          .map((email, i) => ({ email, key: (i * 7) % 25 }))
          .sort((a, b) => a.key - b.key);
        for (const [i, { email }] of scrambled.entries()) {
          await store.createUser(user({ id: `id-${i}`, email }));
        }
        const seen: string[] = [];
        let after: string | undefined;
        const pageSizes: number[] = [];
        for (;;) {
          const page = await store.listUsers(after === undefined ? { limit: 10 } : { limit: 10, after });
          if (page.length === 0) break;
          pageSizes.push(page.length);
          seen.push(...page.map((record) => record.email));
          after = page.at(-1)?.email;
        }
        expect(pageSizes).toEqual([10, 10, 5]);
        expect(seen).toEqual(emails);

        expect(await store.listUsers({ limit: 100 })).toHaveLength(25);
        expect(await store.listUsers({ limit: 0 })).toEqual([]);
        expect(await store.listUsers({ limit: 10, after: 'zzz@example.com' })).toEqual([]);
        const fromMiddle = await store.listUsers({ limit: 3, after: emails[11] ?? '' });
        expect(fromMiddle.map((record) => record.email)).toEqual(emails.slice(12, 15));
      });

      it('orders emails by code point, not by locale', async () => {
        const emails = ['b@example.com', 'B@example.com', 'a@example.com', '_@example.com', 'é@example.com'];
        for (const [i, email] of emails.entries()) await store.createUser(user({ id: `cp-${i}`, email }));
        const listed = (await store.listUsers({ limit: 10 })).map((record) => record.email);
        expect(listed).toEqual([
          'B@example.com',
          '_@example.com',
          'a@example.com',
          'b@example.com',
          'é@example.com',
        ]);
      });
    });

    // ---- sessions ------------------------------------------------------------------------------

    describe('sessions', () => {
      it('creates a session and reads it back', async () => {
        const record = session();
        await store.createSession(record);
        expect(await store.getSession(record.id)).toEqual(record);
      });

      it('keeps whether the session is persistent ("remember me") through touch and revoke', async () => {
        await store.createSession(session({ id: 'kept', persistent: true }));
        await store.createSession(session({ id: 'plain' }));
        await store.touchSession('kept', { lastSeenAt: T0 + MINUTE, idleExpiresAt: T0 + DAY + MINUTE });
        expect((await store.getSession('kept'))?.persistent).toBe(true);
        expect(await store.revokeSession('kept', T0 + 2 * MINUTE)).toBe(true);
        expect((await store.getSession('kept'))?.persistent).toBe(true);
        expect((await store.getSession('plain'))?.persistent).toBe(false);
      });

      it('keeps how and when the user authenticated (amr, auth time, acr) through touch and revoke', async () => {
        const stepped = session({
          id: 'stepped',
          amr: ['pwd', 'otp', 'mfa'],
          authTime: T0 + 3 * MINUTE,
          acr: 'mfa',
        });
        const passkey = session({ id: 'passkey', amr: ['swk', 'mfa'], authTime: T0 + 1, acr: 'mfa' });
        const mailbox = session({ id: 'mailbox', amr: ['email'], acr: '1' });
        for (const record of [stepped, passkey, mailbox]) await store.createSession(record);
        await store.touchSession('stepped', { lastSeenAt: T0 + 4 * MINUTE, idleExpiresAt: T0 + DAY });
        expect(await store.revokeSession('passkey', T0 + 5 * MINUTE)).toBe(true);
        expect(await store.getSession('stepped')).toEqual({
          ...stepped,
          lastSeenAt: T0 + 4 * MINUTE,
          idleExpiresAt: T0 + DAY,
        });
        expect(await store.getSession('passkey')).toEqual({ ...passkey, revokedAt: T0 + 5 * MINUTE });
        expect(await store.getSession('mailbox')).toEqual(mailbox);
        expect((await store.getSessionWithUser?.('stepped'))?.session.amr ?? stepped.amr).toEqual(
          stepped.amr,
        );
        expect((await store.listUserSessions(stepped.userId, T0)).map((s) => [s.id, s.amr, s.acr])).toEqual(
          expect.arrayContaining([
            ['stepped', ['pwd', 'otp', 'mfa'], 'mfa'],
            ['mailbox', ['email'], '1'],
          ]),
        );
      });

      it('round-trips null user agent and ip, and every mode', async () => {
        const modes = ['cookie', 'token', 'hybrid'] as const;
        for (const mode of modes) {
          const record = session({ id: `s-${mode}`, mode, userAgent: null, ip: null });
          await store.createSession(record);
          expect(await store.getSession(record.id)).toEqual(record);
        }
      });

      it('returns null for a missing session', async () => {
        expect(await store.getSession('missing')).toBeNull();
      });

      it('reads a session with its user in one call, where the store has one', async () => {
        const read = store.getSessionWithUser?.bind(store);
        // Stores without it (a composite store) are read through the two-call fallback.
        if (read === undefined) {
          expect(store.kind).toContain('+');
          return;
        }
        // Ids with the characters a Redis hash tag escapes, and a user that is gone.
        const owner = user({ id: 'we{ird}%id', email: 'weird@example.com', roles: ['admin', 'x'] });
        await store.createUser(owner);
        const record = session({ id: 'with-user', userId: owner.id, revokedAt: null });
        await store.createSession(record);
        await store.createSession(session({ id: 'orphan', userId: 'no-such-user' }));
        expect(await read('with-user')).toEqual({ session: record, user: owner });
        expect(await read('orphan')).toEqual({
          session: session({ id: 'orphan', userId: 'no-such-user' }),
          user: null,
        });
        expect(await read('missing')).toBeNull();
        await store.updateUser(owner.id, { status: 'disabled', updatedAt: T0 + MINUTE });
        await store.revokeSession('with-user', T0 + MINUTE);
        expect(await read('with-user')).toMatchObject({
          session: { revokedAt: T0 + MINUTE },
          user: { status: 'disabled' },
        });
      });

      it('rejects a duplicate session id', async () => {
        await store.createSession(session());
        await expect(store.createSession(session({ secretHash: 'other' }))).rejects.toBeInstanceOf(
          LatchkeyError,
        );
        expect((await store.getSession('session-1'))?.secretHash).toBe(session().secretHash);
      });

      it('touches a live session', async () => {
        await store.createSession(session());
        await store.touchSession('session-1', { lastSeenAt: T0 + HOUR, idleExpiresAt: T0 + HOUR + DAY });
        expect(await store.getSession('session-1')).toEqual(
          session({ lastSeenAt: T0 + HOUR, idleExpiresAt: T0 + HOUR + DAY }),
        );
      });

      it('does not touch a revoked session, and ignores a missing one', async () => {
        await store.createSession(session());
        expect(await store.revokeSession('session-1', T0 + MINUTE)).toBe(true);
        await store.touchSession('session-1', { lastSeenAt: T0 + HOUR, idleExpiresAt: T0 + HOUR + DAY });
        expect(await store.getSession('session-1')).toEqual(session({ revokedAt: T0 + MINUTE }));
        await expect(
          store.touchSession('missing', { lastSeenAt: T0, idleExpiresAt: T0 + DAY }),
        ).resolves.toBeUndefined();
        expect(await store.getSession('missing')).toBeNull();
      });

      it('revokes a session exactly once', async () => {
        await store.createSession(session());
        expect(await store.revokeSession('session-1', T0 + MINUTE)).toBe(true);
        expect(await store.revokeSession('session-1', T0 + HOUR)).toBe(false);
        expect((await store.getSession('session-1'))?.revokedAt).toBe(T0 + MINUTE);
        expect(await store.revokeSession('missing', T0)).toBe(false);
      });

      it('returns true to exactly one of 20 concurrent revocations', async () => {
        await store.createSession(session());
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.revokeSession('session-1', T0 + i + 1)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect((await store.getSession('session-1'))?.revokedAt).toBe(T0 + winner + 1);
      });

      it("revokes every live session of a user except one, and not other users' sessions", async () => {
        await store.createSession(session({ id: 'a', userId: 'u1' }));
        await store.createSession(session({ id: 'b', userId: 'u1' }));
        await store.createSession(session({ id: 'keep', userId: 'u1' }));
        await store.createSession(session({ id: 'old', userId: 'u1', revokedAt: T0 }));
        await store.createSession(session({ id: 'other', userId: 'u2' }));

        const revoked = await store.revokeUserSessions('u1', T0 + HOUR, { except: 'keep' });
        expect([...revoked].sort()).toEqual(['a', 'b']);
        expect((await store.getSession('a'))?.revokedAt).toBe(T0 + HOUR);
        expect((await store.getSession('b'))?.revokedAt).toBe(T0 + HOUR);
        expect((await store.getSession('keep'))?.revokedAt).toBeNull();
        expect((await store.getSession('old'))?.revokedAt).toBe(T0);
        expect((await store.getSession('other'))?.revokedAt).toBeNull();

        expect(await store.revokeUserSessions('u1', T0 + 2 * HOUR, { except: 'keep' })).toEqual([]);
        expect(await store.revokeUserSessions('u1', T0 + 2 * HOUR)).toEqual(['keep']);
        expect(await store.revokeUserSessions('nobody', T0)).toEqual([]);
      });

      it('revokes each session once under concurrent revokeUserSessions and revokeSession', async () => {
        const ids = Array.from({ length: 10 }, (_, i) => `s${i}`);
        for (const id of ids) await store.createSession(session({ id, userId: 'u1' }));
        const [bulk, single] = await Promise.all([
          Promise.all(Array.from({ length: 10 }, (_, i) => store.revokeUserSessions('u1', T0 + i))),
          Promise.all(ids.map((id) => store.revokeSession(id, T0 + HOUR))),
        ]);
        const revokedByBulk = bulk.flat();
        const revokedBySingle = ids.filter((_, i) => single[i] === true);
        const all = [...revokedByBulk, ...revokedBySingle].sort();
        expect(all).toEqual([...ids].sort());
      });

      it('lists the live sessions of a user, newest first', async () => {
        const now = T0 + 10 * DAY;
        await store.createSession(
          session({ id: 'live-old', userId: 'u1', createdAt: T0, idleExpiresAt: now + DAY }),
        );
        await store.createSession(
          session({ id: 'live-new', userId: 'u1', createdAt: T0 + DAY, idleExpiresAt: now + DAY }),
        );
        await store.createSession(
          session({ id: 'live-newest', userId: 'u1', createdAt: T0 + 2 * DAY, idleExpiresAt: now + 1 }),
        );
        await store.createSession(session({ id: 'idle', userId: 'u1', idleExpiresAt: now }));
        await store.createSession(
          session({ id: 'absolute', userId: 'u1', idleExpiresAt: now + DAY, absoluteExpiresAt: now }),
        );
        await store.createSession(
          session({ id: 'revoked', userId: 'u1', idleExpiresAt: now + DAY, revokedAt: T0 + DAY }),
        );
        await store.createSession(session({ id: 'other', userId: 'u2', idleExpiresAt: now + DAY }));

        const listed = await store.listUserSessions('u1', now);
        expect(listed.map((record) => record.id)).toEqual(['live-newest', 'live-new', 'live-old']);
        expect(listed[2]).toEqual(
          session({ id: 'live-old', userId: 'u1', createdAt: T0, idleExpiresAt: now + DAY }),
        );
        expect(await store.listUserSessions('nobody', now)).toEqual([]);
      });

      it('deletes expired and revoked sessions with their refresh tokens', async () => {
        const now = T0 + 10 * DAY;
        const sessions = [
          session({ id: 'live', idleExpiresAt: now + 1 }),
          session({ id: 'idle', idleExpiresAt: now }),
          session({ id: 'absolute', idleExpiresAt: now + DAY, absoluteExpiresAt: now - 1 }),
          session({ id: 'revoked', idleExpiresAt: now + DAY, revokedAt: now - HOUR }),
        ];
        for (const record of sessions) {
          await store.createSession(record);
          await store.createRefreshToken(refreshToken({ id: `rt-${record.id}-1`, sessionId: record.id }));
          await store.createRefreshToken(refreshToken({ id: `rt-${record.id}-2`, sessionId: record.id }));
          // Two rotations: the first token is now two steps behind its chain's current one.
          for (const [from, to] of [
            ['2', '3'],
            ['3', '4'],
          ]) {
            const next = refreshToken({
              id: `rt-${record.id}-${to}`,
              sessionId: record.id,
              createdAt: T0 + 1,
            });
            expect(await store.rotateRefreshToken(`rt-${record.id}-${from}`, next, T0 + 1)).toBe(true);
          }
        }

        expect(await store.deleteExpiredSessions(now)).toBe(3);
        expect(await store.getSession('live')).not.toBeNull();
        for (const id of ['idle', 'absolute', 'revoked']) {
          expect(await store.getSession(id)).toBeNull();
          expect(await store.getRefreshToken(`rt-${id}-1`)).toBeNull();
          expect(await store.getRefreshToken(`rt-${id}-2`)).toBeNull();
          expect(await store.getRefreshToken(`rt-${id}-4`)).toBeNull();
        }
        expect((await store.getRefreshToken('rt-live-2'))?.successorId).toBe('rt-live-3');
        expect(await store.getRefreshToken('rt-live-1')).not.toBeNull();
        expect(await store.getRefreshToken('rt-live-2')).not.toBeNull();
        expect(await store.deleteExpiredSessions(now)).toBe(0);
        expect(await store.deleteExpiredSessions(now + 1)).toBe(1);
        expect(await store.getRefreshToken('rt-live-1')).toBeNull();
        expect(await store.getRefreshToken('rt-live-2')).toBeNull();
      });
    });

    // ---- refresh tokens ------------------------------------------------------------------------

    describe('refresh tokens', () => {
      it('creates a refresh token and reads it back', async () => {
        await store.createRefreshToken(refreshToken());
        expect(await store.getRefreshToken('refresh-1')).toEqual(refreshToken());
        expect(await store.getRefreshToken('missing')).toBeNull();
      });

      it('rotates a token once', async () => {
        await store.createRefreshToken(refreshToken());
        const successor = refreshToken({ id: 'refresh-2', createdAt: T0 + HOUR });
        expect(await store.rotateRefreshToken('refresh-1', successor, T0 + HOUR)).toBe(true);
        expect(await store.getRefreshToken('refresh-1')).toEqual(
          refreshToken({ rotatedAt: T0 + HOUR, successorId: 'refresh-2' }),
        );
        expect(await store.getRefreshToken('refresh-2')).toEqual(successor);

        const late = refreshToken({ id: 'refresh-3', createdAt: T0 + 2 * HOUR });
        expect(await store.rotateRefreshToken('refresh-1', late, T0 + 2 * HOUR)).toBe(false);
        expect(await store.getRefreshToken('refresh-3')).toBeNull();
        expect((await store.getRefreshToken('refresh-1'))?.successorId).toBe('refresh-2');

        // The successor rotates in its turn.
        expect(await store.rotateRefreshToken('refresh-2', late, T0 + 2 * HOUR)).toBe(true);
        expect(await store.getRefreshToken('refresh-3')).toEqual(late);
      });

      it('keeps every rotated token of a chain readable, with its successor (reuse detection)', async () => {
        await store.createRefreshToken(refreshToken({ id: 'chain-0' }));
        for (let i = 1; i <= 6; i += 1) {
          const next = refreshToken({ id: `chain-${i}`, secretHash: `hash-${i}`, createdAt: T0 + i });
          expect(await store.rotateRefreshToken(`chain-${i - 1}`, next, T0 + i)).toBe(true);
        }
        expect(await store.getRefreshToken('chain-0')).toEqual(
          refreshToken({ id: 'chain-0', rotatedAt: T0 + 1, successorId: 'chain-1' }),
        );
        for (let i = 1; i < 6; i += 1) {
          expect(await store.getRefreshToken(`chain-${i}`)).toEqual(
            refreshToken({
              id: `chain-${i}`,
              secretHash: `hash-${i}`,
              createdAt: T0 + i,
              rotatedAt: T0 + i + 1,
              successorId: `chain-${i + 1}`,
            }),
          );
          // An old token never rotates again.
          const late = refreshToken({ id: `late-${i}`, createdAt: T0 + 10 });
          expect(await store.rotateRefreshToken(`chain-${i}`, late, T0 + 10)).toBe(false);
          expect(await store.getRefreshToken(`late-${i}`)).toBeNull();
        }
        expect((await store.getRefreshToken('chain-6'))?.rotatedAt).toBeNull();
      });

      it('rejects a duplicate refresh token id', async () => {
        await store.createRefreshToken(refreshToken());
        await expect(store.createRefreshToken(refreshToken({ secretHash: 'other' }))).rejects.toBeInstanceOf(
          LatchkeyError,
        );
        expect(await store.getRefreshToken('refresh-1')).toEqual(refreshToken());
      });

      it('rotates all or nothing: a successor whose id exists rejects and changes nothing', async () => {
        await store.createRefreshToken(refreshToken());
        const taken = refreshToken({ id: 'taken', secretHash: 'taken-hash' });
        await store.createRefreshToken(taken);
        await expect(
          store.rotateRefreshToken('refresh-1', refreshToken({ id: 'taken' }), T0 + HOUR),
        ).rejects.toBeInstanceOf(LatchkeyError);
        expect(await store.getRefreshToken('refresh-1')).toEqual(refreshToken());
        expect(await store.getRefreshToken('taken')).toEqual(taken);
      });

      it('does not rotate a missing token and stores nothing', async () => {
        expect(await store.rotateRefreshToken('missing', refreshToken({ id: 'orphan' }), T0)).toBe(false);
        expect(await store.getRefreshToken('orphan')).toBeNull();
      });

      it('lets exactly one of 20 concurrent rotations win and stores only its successor', async () => {
        await store.createRefreshToken(refreshToken());
        const successors = Array.from({ length: 20 }, (_, i) =>
          refreshToken({ id: `successor-${i}`, createdAt: T0 + i + 1 }),
        );
        const results = await Promise.all(
          successors.map((successor, i) => store.rotateRefreshToken('refresh-1', successor, T0 + i + 1)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        const stored = (
          await Promise.all(successors.map((successor) => store.getRefreshToken(successor.id)))
        ).filter((token) => token !== null);
        expect(stored).toEqual([successors[winner]]);
        expect(await store.getRefreshToken('refresh-1')).toEqual(
          refreshToken({ rotatedAt: T0 + winner + 1, successorId: `successor-${winner}` }),
        );
      });
    });

    // ---- signing keys --------------------------------------------------------------------------

    describe('signing keys', () => {
      it('inserts and lists keys in creation order', async () => {
        const hs = signingKey({ kid: 'hs', alg: 'HS256', publicJwk: null, createdAt: T0 + DAY });
        const ed = signingKey({ kid: 'ed' });
        await store.insertKey(hs);
        await store.insertKey(ed);
        expect(await store.listKeys()).toEqual([ed, hs]);
      });

      it('rejects a duplicate kid and keeps the first key', async () => {
        await store.insertKey(signingKey());
        const error: unknown = await store.insertKey(signingKey({ alg: 'ES256' })).then(
          () => undefined,
          (reason: unknown) => reason,
        );
        expect(error).toBeInstanceOf(LatchkeyError);
        expect((error as LatchkeyError).code).not.toBe('store_unavailable');
        expect(await store.listKeys()).toEqual([signingKey()]);
      });

      it('updates only the given fields, including back to null', async () => {
        await store.insertKey(signingKey());
        await store.updateKey('kid-1', { retiredAt: T0 + DAY });
        expect(await store.listKeys()).toEqual([signingKey({ retiredAt: T0 + DAY })]);
        await store.updateKey('kid-1', { expiresAt: T0 + 2 * DAY });
        expect(await store.listKeys()).toEqual([
          signingKey({ retiredAt: T0 + DAY, expiresAt: T0 + 2 * DAY }),
        ]);
        await store.updateKey('kid-1', { retiredAt: null, expiresAt: null });
        expect(await store.listKeys()).toEqual([signingKey()]);
        await store.updateKey('kid-1', {});
        expect(await store.listKeys()).toEqual([signingKey()]);
        await expect(store.updateKey('missing', { retiredAt: T0 })).resolves.toBeUndefined();
        expect(await store.listKeys()).toEqual([signingKey()]);
      });

      it('deletes a key, and ignores a missing one', async () => {
        await store.insertKey(signingKey({ kid: 'a' }));
        await store.insertKey(signingKey({ kid: 'b' }));
        await store.deleteKey('a');
        expect(await store.listKeys()).toEqual([signingKey({ kid: 'b' })]);
        await expect(store.deleteKey('missing')).resolves.toBeUndefined();
        expect(await store.listKeys()).toHaveLength(1);
      });
    });

    // ---- revocations ---------------------------------------------------------------------------

    describe('revocations', () => {
      it('assigns strictly increasing seqs and returns the stored record', async () => {
        const first = await store.addRevocation(revocation());
        expect(first).toEqual({ ...revocation(), seq: first.seq });
        expect(Number.isSafeInteger(first.seq)).toBe(true);
        const user = revocation({ kind: 'user', subject: 'user-1', issuedBefore: T0 });
        const second = await store.addRevocation(user);
        expect(second).toEqual({ ...user, seq: second.seq });
        const third = await store.addRevocation(revocation({ kind: 'token', subject: 'jti-1' }));
        expect(second.seq).toBeGreaterThan(first.seq);
        expect(third.seq).toBeGreaterThan(second.seq);
      });

      it('gives 50 concurrent additions 50 distinct seqs, listed in seq order', async () => {
        const added = await Promise.all(
          Array.from({ length: 50 }, (_, i) => store.addRevocation(revocation({ subject: `s-${i}` }))),
        );
        const seqs = added.map((record) => record.seq);
        expect(new Set(seqs).size).toBe(50);
        const listed = await store.listRevocations({ now: T0 });
        expect(listed).toHaveLength(50);
        expect(listed.map((record) => record.seq)).toEqual([...seqs].sort((a, b) => a - b));
        expect(new Set(listed.map((record) => record.subject)).size).toBe(50);
      });

      it('lists after a seq, up to a limit, hiding expired records', async () => {
        const records: RevocationRecord[] = [];
        for (let i = 0; i < 10; i += 1) {
          // Odd ones expire at T0 + 5 min; even ones at T0 + 15 min.
          const expiresAt = i % 2 === 1 ? T0 + 5 * MINUTE : T0 + 15 * MINUTE;
          records.push(await store.addRevocation(revocation({ subject: `s-${i}`, expiresAt })));
        }
        const seqOf = (i: number): number => records[i]?.seq ?? Number.NaN;

        expect(await store.listRevocations({ now: T0 })).toEqual(records);
        expect(await store.listRevocations({ now: T0, afterSeq: seqOf(6) })).toEqual(records.slice(7));
        expect(await store.listRevocations({ now: T0, limit: 3 })).toEqual(records.slice(0, 3));
        expect(await store.listRevocations({ now: T0, afterSeq: seqOf(2), limit: 2 })).toEqual(
          records.slice(3, 5),
        );
        expect(await store.listRevocations({ now: T0, afterSeq: seqOf(9) })).toEqual([]);
        expect(await store.listRevocations({ now: T0, limit: 0 })).toEqual([]);

        const now = T0 + 5 * MINUTE; // odd ones expire exactly now
        const live = records.filter((_, i) => i % 2 === 0);
        expect(await store.listRevocations({ now })).toEqual(live);
        expect(await store.listRevocations({ now, afterSeq: seqOf(3), limit: 2 })).toEqual(live.slice(2, 4));
        expect(await store.listRevocations({ now: T0 + 15 * MINUTE })).toEqual([]);
      });

      it('deletes expired revocations and never reuses a seq', async () => {
        const a = await store.addRevocation(revocation({ subject: 'a', expiresAt: T0 + MINUTE }));
        const b = await store.addRevocation(revocation({ subject: 'b', expiresAt: T0 + HOUR }));
        expect(await store.deleteExpiredRevocations(T0 + MINUTE)).toBe(1);
        expect(await store.listRevocations({ now: T0 })).toEqual([b]);
        expect(await store.deleteExpiredRevocations(T0 + MINUTE)).toBe(0);
        expect(await store.deleteExpiredRevocations(T0 + HOUR)).toBe(1);
        const c = await store.addRevocation(revocation({ subject: 'c' }));
        expect(c.seq).toBeGreaterThan(b.seq);
        expect(c.seq).toBeGreaterThan(a.seq);
      });
    });

    // ---- clients -------------------------------------------------------------------------------

    describe('clients', () => {
      it('creates a client and reads it by id', async () => {
        const record = machineClient();
        await store.createClient(record);
        expect(await store.getClient(record.id)).toEqual(record);
        expect(await store.getClient('nobody')).toBeNull();
      });

      it('round-trips empty lists and odd characters', async () => {
        const record = machineClient({
          id: 'c-{odd}%',
          name: 'Ünïcode "name" 🔑',
          scopes: [],
          audiences: ['a,b', '{braces}'],
        });
        await store.createClient(record);
        expect(await store.getClient(record.id)).toEqual(record);
      });

      it('rejects a duplicate id and keeps the first record', async () => {
        await store.createClient(machineClient());
        await expect(store.createClient(machineClient({ name: 'Impostor' }))).rejects.toBeInstanceOf(
          LatchkeyError,
        );
        expect((await store.getClient('client-1'))?.name).toBe('Orders service');
      });

      it('lets exactly one of concurrent creations with the same id win', async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) => store.createClient(machineClient({ name: `n${i}` }))),
        );
        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      });

      it('lists clients by id, in pages', async () => {
        for (const id of ['c-3', 'c-1', 'c-5', 'c-2', 'c-4']) await store.createClient(machineClient({ id }));
        const first = await store.listClients({ limit: 2 });
        expect(first.map((c) => c.id)).toEqual(['c-1', 'c-2']);
        const second = await store.listClients({ limit: 2, after: 'c-2' });
        expect(second.map((c) => c.id)).toEqual(['c-3', 'c-4']);
        const third = await store.listClients({ limit: 2, after: 'c-4' });
        expect(third.map((c) => c.id)).toEqual(['c-5']);
        expect(await store.listClients({ limit: 2, after: 'c-5' })).toEqual([]);
        expect(await store.listClients({ limit: 0 })).toEqual([]);
        expect(third[0]).toEqual(machineClient({ id: 'c-5' }));
      });

      it('disables and re-enables a client', async () => {
        await store.createClient(machineClient());
        expect(await store.updateClient('client-1', { disabledAt: T0 + HOUR })).toBe(true);
        expect((await store.getClient('client-1'))?.disabledAt).toBe(T0 + HOUR);
        expect(await store.updateClient('client-1', { disabledAt: null })).toBe(true);
        expect(await store.getClient('client-1')).toEqual(machineClient());
        expect(await store.updateClient('nobody', { disabledAt: T0 })).toBe(false);
        expect(await store.getClient('nobody')).toBeNull();
      });
    });

    // ---- counters ------------------------------------------------------------------------------

    describe('counters', () => {
      it('starts at 1, grows, keeps its expiry, and restarts once expired', async () => {
        expect(await store.increment('k', MINUTE, T0)).toEqual({ count: 1, expiresAt: T0 + MINUTE });
        expect(await store.increment('k', MINUTE, T0 + 1_000)).toEqual({ count: 2, expiresAt: T0 + MINUTE });
        expect(await store.increment('k', 5 * MINUTE, T0 + MINUTE - 1)).toEqual({
          count: 3,
          expiresAt: T0 + MINUTE,
        });
        expect(await store.increment('k', MINUTE, T0 + MINUTE)).toEqual({
          count: 1,
          expiresAt: T0 + 2 * MINUTE,
        });
        expect(await store.increment('other', HOUR, T0)).toEqual({ count: 1, expiresAt: T0 + HOUR });
      });

      it('counts 50 concurrent increments exactly', async () => {
        const values = await Promise.all(
          Array.from({ length: 50 }, () => store.increment('hot', MINUTE, T0)),
        );
        expect(values.map((value) => value.count).sort((a, b) => a - b)).toEqual(
          Array.from({ length: 50 }, (_, i) => i + 1),
        );
        expect(new Set(values.map((value) => value.expiresAt))).toEqual(new Set([T0 + MINUTE]));
        expect(await store.getCounter('hot', T0)).toEqual({ count: 50, expiresAt: T0 + MINUTE });
      });

      it('reads the live value, or null when absent or expired', async () => {
        expect(await store.getCounter('k', T0)).toBeNull();
        await store.increment('k', MINUTE, T0);
        await store.increment('k', MINUTE, T0);
        expect(await store.getCounter('k', T0 + MINUTE - 1)).toEqual({ count: 2, expiresAt: T0 + MINUTE });
        expect(await store.getCounter('k', T0 + MINUTE)).toBeNull();
      });

      it('deletes a counter, and ignores a missing one', async () => {
        await store.increment('k', MINUTE, T0);
        await store.increment('k', MINUTE, T0);
        await store.deleteCounter('k');
        expect(await store.getCounter('k', T0)).toBeNull();
        expect(await store.increment('k', MINUTE, T0 + 1)).toEqual({ count: 1, expiresAt: T0 + MINUTE + 1 });
        await expect(store.deleteCounter('missing')).resolves.toBeUndefined();
      });

      it('keeps counting correctly across many keys (and any internal sweep of expired ones)', async () => {
        await inBatches(1_200, 200, async (i) => {
          await store.increment(`burst-${i}`, MINUTE, T0);
        });
        expect(await store.increment('survivor', HOUR, T0 + 2 * MINUTE)).toEqual({
          count: 1,
          expiresAt: T0 + 2 * MINUTE + HOUR,
        });
        await inBatches(1_200, 200, async (i) => {
          expect(await store.increment(`burst-${i}`, MINUTE, T0 + 2 * MINUTE)).toEqual({
            count: 1,
            expiresAt: T0 + 3 * MINUTE,
          });
        });
        expect(await store.getCounter('survivor', T0 + 2 * MINUTE)).toEqual({
          count: 1,
          expiresAt: T0 + 2 * MINUTE + HOUR,
        });
      });
    });

    // ---- the mail outbox -----------------------------------------------------------------------

    describeMailConformance(() => store);
    describeAuditConformance(() => store);

    // ---- one-time tokens ----------------------------------------------------------------------

    describeFactorConformance(() => store);
    describePasskeyConformance(() => store);

    describe('one-time tokens', () => {
      it('consumes a token once: the first call gets the record, every later call null', async () => {
        const record = oneTimeToken({ data: '{"email":"new@example.com"}' });
        await store.putOneTimeToken(record);
        expect(await store.consumeOneTimeToken(record.id, 'password_reset', T0 + 1)).toEqual(record);
        expect(await store.consumeOneTimeToken(record.id, 'password_reset', T0 + 2)).toBeNull();
      });

      it('returns null for a missing token', async () => {
        expect(await store.consumeOneTimeToken('missing', 'password_reset', T0)).toBeNull();
      });

      it('does not consume a token for another purpose, and keeps it for its own', async () => {
        const record = oneTimeToken();
        await store.putOneTimeToken(record);
        expect(await store.consumeOneTimeToken(record.id, 'email_verification', T0)).toBeNull();
        expect(await store.consumeOneTimeToken(record.id, 'password_reset', T0)).toEqual(record);
      });

      it('refuses a token at its expiry and after, and accepts it one millisecond before', async () => {
        await store.putOneTimeToken(oneTimeToken({ id: 'a' }));
        await store.putOneTimeToken(oneTimeToken({ id: 'b' }));
        expect(await store.consumeOneTimeToken('a', 'password_reset', T0 + HOUR)).toBeNull();
        expect(await store.consumeOneTimeToken('a', 'password_reset', T0 + 2 * HOUR)).toBeNull();
        expect(await store.consumeOneTimeToken('b', 'password_reset', T0 + HOUR - 1)).toEqual(
          oneTimeToken({ id: 'b' }),
        );
      });

      it('rejects a duplicate id and keeps the first record', async () => {
        const record = oneTimeToken();
        await store.putOneTimeToken(record);
        await expect(
          store.putOneTimeToken(oneTimeToken({ subject: 'user-2', purpose: 'email_verification' })),
        ).rejects.toBeInstanceOf(LatchkeyError);
        expect(await store.consumeOneTimeToken(record.id, 'password_reset', T0)).toEqual(record);
      });

      it('lets exactly one of 20 concurrent consumers win', async () => {
        const record = oneTimeToken({ data: 'payload' });
        await store.putOneTimeToken(record);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.consumeOneTimeToken(record.id, 'password_reset', T0 + i),
          ),
        );
        expect(results.filter((result) => result !== null)).toEqual([record]);
        expect(await store.consumeOneTimeToken(record.id, 'password_reset', T0)).toBeNull();
      });

      it('lets each of 20 tokens be consumed exactly once under concurrency', async () => {
        const records = Array.from({ length: 20 }, (_, i) => oneTimeToken({ id: `token-${i}` }));
        for (const record of records) await store.putOneTimeToken(record);
        const attempts = records.flatMap((record) => [record.id, record.id, record.id]);
        const results = await Promise.all(
          attempts.map((id) => store.consumeOneTimeToken(id, 'password_reset', T0)),
        );
        const won = results.filter((result) => result !== null).map((result) => result.id);
        expect(won.sort()).toEqual(records.map((record) => record.id).sort());
      });

      it("drops every token of one subject and purpose, and nobody else's", async () => {
        await store.putOneTimeToken(oneTimeToken({ id: 'r1' }));
        await store.putOneTimeToken(oneTimeToken({ id: 'r2', expiresAt: T0 + 2 * HOUR }));
        await store.putOneTimeToken(oneTimeToken({ id: 'v1', purpose: 'email_verification' }));
        await store.putOneTimeToken(oneTimeToken({ id: 'other', subject: 'user-2' }));
        expect(await store.deleteOneTimeTokens('user-1', 'password_reset')).toBe(2);
        expect(await store.consumeOneTimeToken('r1', 'password_reset', T0)).toBeNull();
        expect(await store.consumeOneTimeToken('r2', 'password_reset', T0)).toBeNull();
        expect(await store.consumeOneTimeToken('v1', 'email_verification', T0)).toEqual(
          oneTimeToken({ id: 'v1', purpose: 'email_verification' }),
        );
        expect(await store.consumeOneTimeToken('other', 'password_reset', T0)).toEqual(
          oneTimeToken({ id: 'other', subject: 'user-2' }),
        );
        expect(await store.deleteOneTimeTokens('nobody', 'password_reset')).toBe(0);
      });

      it("does not count a consumed token when dropping a subject's tokens", async () => {
        await store.putOneTimeToken(oneTimeToken({ id: 'r1' }));
        await store.putOneTimeToken(oneTimeToken({ id: 'r2' }));
        expect(await store.consumeOneTimeToken('r1', 'password_reset', T0)).not.toBeNull();
        expect(await store.deleteOneTimeTokens('user-1', 'password_reset')).toBe(1);
      });

      it('counts the live tokens of one subject and purpose: not consumed, expired or foreign ones', async () => {
        await store.putOneTimeToken(oneTimeToken({ id: 'c1' }));
        await store.putOneTimeToken(oneTimeToken({ id: 'c2' }));
        await store.putOneTimeToken(oneTimeToken({ id: 'c3', expiresAt: T0 + MINUTE }));
        await store.putOneTimeToken(oneTimeToken({ id: 'cv', purpose: 'email_verification' }));
        await store.putOneTimeToken(oneTimeToken({ id: 'co', subject: 'user-2' }));
        expect(await store.countOneTimeTokens('user-1', 'password_reset', T0)).toBe(3);
        expect(await store.consumeOneTimeToken('c1', 'password_reset', T0)).not.toBeNull();
        expect(await store.countOneTimeTokens('user-1', 'password_reset', T0)).toBe(2);
        expect(await store.countOneTimeTokens('user-1', 'password_reset', T0 + MINUTE)).toBe(1);
        expect(await store.countOneTimeTokens('nobody', 'password_reset', T0)).toBe(0);
        await store.deleteOneTimeTokens('user-1', 'password_reset');
        expect(await store.countOneTimeTokens('user-1', 'password_reset', T0)).toBe(0);
        expect(await store.countOneTimeTokens('user-2', 'password_reset', T0)).toBe(1);
      });

      it('sweeps expired tokens and keeps live ones', async () => {
        await store.putOneTimeToken(oneTimeToken({ id: 'old', expiresAt: T0 + MINUTE }));
        await store.putOneTimeToken(oneTimeToken({ id: 'edge', expiresAt: T0 + HOUR }));
        await store.putOneTimeToken(oneTimeToken({ id: 'live', expiresAt: T0 + DAY }));
        expect(await store.deleteExpiredOneTimeTokens(T0 + HOUR)).toBe(2);
        expect(await store.deleteExpiredOneTimeTokens(T0 + HOUR)).toBe(0);
        expect(await store.consumeOneTimeToken('live', 'password_reset', T0 + HOUR)).toEqual(
          oneTimeToken({ id: 'live', expiresAt: T0 + DAY }),
        );
        // A swept token is gone for good, whatever time a caller claims.
        expect(await store.consumeOneTimeToken('old', 'password_reset', T0)).toBeNull();
      });
    });

    // ---- large counts --------------------------------------------------------------------------

    describe('large counts', () => {
      it(`holds ${largeSessionCount} sessions and sweeps them`, { timeout: largeTimeout }, async () => {
        const now = T0 + 10 * DAY;
        const started = performance.now();
        // Every third session has expired; 100 users share them.
        await inBatches(largeSessionCount, batchSize, async (i) => {
          await store.createSession(
            session({
              id: `bulk-${pad(i)}`,
              userId: `bulk-user-${i % 100}`,
              createdAt: T0 + i,
              idleExpiresAt: i % 3 === 0 ? now - 1 : now + DAY,
            }),
          );
        });
        const written = performance.now();

        for (const i of [0, 1, Math.floor(largeSessionCount / 2), largeSessionCount - 1]) {
          const id = `bulk-${pad(i)}`;
          expect((await store.getSession(id))?.id).toBe(id);
        }
        const expired = Math.ceil(largeSessionCount / 3);
        const live = await store.listUserSessions('bulk-user-1', now);
        expect(live.length).toBe(
          Array.from({ length: largeSessionCount }, (_, i) => i).filter((i) => i % 100 === 1 && i % 3 !== 0)
            .length,
        );
        expect(await store.deleteExpiredSessions(now)).toBe(expired);
        expect(await store.getSession('bulk-000000')).toBeNull();
        expect(await store.getSession('bulk-000001')).not.toBeNull();
        expect(await store.deleteExpiredSessions(now + DAY)).toBe(largeSessionCount - expired);
        const finished = performance.now();
        console.info(
          `[${name}] ${largeSessionCount} sessions: write ${Math.round(written - started)} ms, ` +
            `read+sweep ${Math.round(finished - written)} ms`,
        );
      });

      it('lists and revokes 1 000 sessions of one user', { timeout: largeTimeout }, async () => {
        const now = T0 + HOUR;
        await inBatches(1_000, batchSize, async (i) => {
          await store.createSession(session({ id: `mine-${pad(i)}`, userId: 'heavy', createdAt: T0 + i }));
        });
        await store.createSession(session({ id: 'someone-else', userId: 'light' }));

        const listed = await store.listUserSessions('heavy', now);
        expect(listed).toHaveLength(1_000);
        expect(listed[0]?.id).toBe('mine-000999');
        expect(listed.at(-1)?.id).toBe('mine-000000');

        const revoked = await store.revokeUserSessions('heavy', now);
        expect(revoked).toHaveLength(1_000);
        expect(new Set(revoked).size).toBe(1_000);
        expect(await store.listUserSessions('heavy', now)).toEqual([]);
        expect(await store.listUserSessions('light', now)).toHaveLength(1);
      });
    });
  });
}
