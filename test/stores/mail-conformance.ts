/**
 * The mail outbox part of the store conformance suite (`./conformance.ts` registers it for every
 * store): queueing with the token in the same step, claims with a lease under concurrency,
 * settling, listing and the sweep.
 */

import { describe, expect, it } from 'vitest';
import type { MailRecord, OneTimeTokenRecord } from '../../src/records.js';
import type { Store } from '../../src/store.js';

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export function mail(overrides: Partial<MailRecord> = {}): MailRecord {
  return {
    id: 'mail-1',
    kind: 'password_reset',
    to: 'ada@example.com',
    message: 'v1.sealed.message',
    status: 'queued',
    attempts: 0,
    createdAt: T0,
    nextAttemptAt: T0,
    claimedBy: null,
    settledAt: null,
    lastError: null,
    expiresAt: T0 + 7 * DAY,
    ...overrides,
  };
}

function token(overrides: Partial<OneTimeTokenRecord> = {}): OneTimeTokenRecord {
  return {
    id: 'token-1',
    purpose: 'password_reset',
    subject: 'user-1',
    data: null,
    createdAt: T0,
    expiresAt: T0 + 30 * MINUTE,
    ...overrides,
  };
}

/** Registers the outbox tests; `store()` is the suite's store, emptied before each test. */
export function describeMailConformance(store: () => Store): void {
  describe('users: email change and verification', () => {
    const user = (id: string, email: string) => ({
      id,
      email,
      passwordHash: 'hash',
      status: 'active' as const,
      roles: [],
      createdAt: T0,
      updatedAt: T0,
      emailVerifiedAt: null,
    });

    it('changes the email atomically on uniqueness and keeps emailVerifiedAt apart', async () => {
      await store().createUser(user('u1', 'one@example.com'));
      await store().createUser(user('u2', 'two@example.com'));
      expect(
        await store().updateUser('u1', {
          email: 'new@example.com',
          emailVerifiedAt: T0 + 1,
          updatedAt: T0 + 1,
        }),
      ).toBe(true);
      expect(await store().getUserByEmail('one@example.com')).toBeNull();
      expect(await store().getUserByEmail('new@example.com')).toMatchObject({
        id: 'u1',
        emailVerifiedAt: T0 + 1,
      });
      await expect(
        store().updateUser('u2', { email: 'new@example.com', updatedAt: T0 + 2 }),
      ).rejects.toMatchObject({
        code: 'email_taken',
      });
      expect(await store().getUserById('u2')).toMatchObject({ email: 'two@example.com', updatedAt: T0 });
      // The old address is free again.
      await store().createUser(user('u3', 'one@example.com'));
      expect((await store().listUsers({ limit: 10 })).map((u) => u.email)).toEqual([
        'new@example.com',
        'one@example.com',
        'two@example.com',
      ]);
      expect(await store().updateUser('u1', { emailVerifiedAt: null, updatedAt: T0 + 3 })).toBe(true);
      expect(await store().getUserById('u1')).toMatchObject({
        emailVerifiedAt: null,
        email: 'new@example.com',
      });
      expect(await store().updateUser('missing', { email: 'x@example.com', updatedAt: T0 })).toBe(false);
    });
  });

  describe('mail outbox', () => {
    it('queues a mail and reads it back, by id and in the listing (newest first, by status)', async () => {
      await store().queueMail(mail({ id: 'a', createdAt: T0 }));
      await store().queueMail(mail({ id: 'b', createdAt: T0 + 1, kind: 'verification' }));
      expect(await store().getMail('a')).toEqual(mail({ id: 'a' }));
      expect(await store().getMail('missing')).toBeNull();
      expect((await store().listMails({ limit: 10 })).map((m) => m.id)).toEqual(['b', 'a']);
      expect((await store().listMails({ limit: 1 })).map((m) => m.id)).toEqual(['b']);
      expect(await store().listMails({ limit: 10, status: 'failed' })).toEqual([]);
      await expect(store().queueMail(mail({ id: 'a' }))).rejects.toMatchObject({ code: 'internal_error' });
    });

    it('stores the token with the mail, superseding the older tokens of the same subject and purpose', async () => {
      await store().putOneTimeToken(token({ id: 'old' }));
      await store().putOneTimeToken(token({ id: 'other-purpose', purpose: 'email_verification' }));
      await store().queueMail(mail(), { token: token({ id: 'new' }), supersede: true });
      expect(await store().consumeOneTimeToken('old', 'password_reset', T0)).toBeNull();
      expect(await store().consumeOneTimeToken('new', 'password_reset', T0)).toMatchObject({ id: 'new' });
      expect(await store().consumeOneTimeToken('other-purpose', 'email_verification', T0)).not.toBeNull();
    });

    it('queues no mail when its token cannot be stored', async () => {
      await store().putOneTimeToken(token({ id: 'taken' }));
      await expect(
        store().queueMail(mail(), { token: token({ id: 'taken', subject: 'user-2' }) }),
      ).rejects.toThrow();
      expect(await store().getMail('mail-1')).toBeNull();
      expect(await store().listMails({ limit: 10 })).toEqual([]);
    });

    it('claims a due mail once among concurrent claimants, with a lease, and again after the lease', async () => {
      await store().queueMail(mail({ id: 'due' }));
      await store().queueMail(mail({ id: 'later', nextAttemptAt: T0 + MINUTE }));
      const claims = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          store().claimMails({ now: T0, leaseMs: MINUTE, limit: 10, claimant: `node-${i}` }),
        ),
      );
      const won = claims.flat();
      expect(won.map((m) => m.id)).toEqual(['due']);
      expect(won[0]).toMatchObject({ attempts: 1, nextAttemptAt: T0 + MINUTE, status: 'queued' });
      const holder = won[0]?.claimedBy ?? '';
      expect(holder).toMatch(/^node-/);
      // Within the lease nobody else gets it; after it, the next claimant does (the holder died).
      expect(await store().claimMails({ now: T0 + 1, leaseMs: MINUTE, limit: 10, claimant: 'x' })).toEqual(
        [],
      );
      const after = await store().claimMails({ now: T0 + MINUTE, leaseMs: MINUTE, limit: 10, claimant: 'y' });
      expect(after.map((m) => [m.id, m.attempts, m.claimedBy])).toEqual([
        ['due', 2, 'y'],
        ['later', 1, 'y'],
      ]);
      // The first holder lost its claim: its outcome changes nothing.
      expect(await store().settleMail('due', holder, { status: 'sent', at: T0 + MINUTE })).toBe(false);
      expect(await store().getMail('due')).toMatchObject({ status: 'queued', claimedBy: 'y' });
    });

    it('settles a claimed mail: retry later, then failed or sent, once', async () => {
      await store().queueMail(mail({ id: 'r' }));
      await store().queueMail(mail({ id: 's', createdAt: T0 + 1 }));
      await store().claimMails({ now: T0, leaseMs: MINUTE, limit: 10, claimant: 'me' });
      expect(
        await store().settleMail('r', 'me', {
          status: 'queued',
          retryAt: T0 + 5 * MINUTE,
          error: 'SMTP down',
        }),
      ).toBe(true);
      expect(await store().getMail('r')).toMatchObject({
        status: 'queued',
        claimedBy: null,
        nextAttemptAt: T0 + 5 * MINUTE,
        lastError: 'SMTP down',
      });
      expect(await store().settleMail('s', 'me', { status: 'sent', at: T0 + 2 })).toBe(true);
      expect(await store().settleMail('s', 'me', { status: 'sent', at: T0 + 3 })).toBe(false);
      expect(await store().getMail('s')).toMatchObject({
        status: 'sent',
        settledAt: T0 + 2,
        claimedBy: null,
      });
      expect(
        await store().claimMails({ now: T0 + MINUTE, leaseMs: MINUTE, limit: 10, claimant: 'me' }),
      ).toEqual([]);
      await store().claimMails({ now: T0 + 5 * MINUTE, leaseMs: MINUTE, limit: 10, claimant: 'me' });
      expect(
        await store().settleMail('r', 'me', { status: 'failed', at: T0 + 6 * MINUTE, error: 'refused' }),
      ).toBe(true);
      expect(await store().getMail('r')).toMatchObject({
        status: 'failed',
        attempts: 2,
        lastError: 'refused',
      });
      expect((await store().listMails({ limit: 10, status: 'failed' })).map((m) => m.id)).toEqual(['r']);
      expect((await store().listMails({ limit: 10, status: 'sent' })).map((m) => m.id)).toEqual(['s']);
    });

    it('sweeps settled mails once expired, never a queued one', async () => {
      await store().queueMail(mail({ id: 'sent', expiresAt: T0 + DAY }));
      await store().queueMail(mail({ id: 'queued', expiresAt: T0 + DAY }));
      await store().queueMail(mail({ id: 'young', expiresAt: T0 + 3 * DAY }));
      await store().claimMails({ now: T0, leaseMs: MINUTE, limit: 10, claimant: 'me' });
      await store().settleMail('sent', 'me', { status: 'sent', at: T0 });
      await store().settleMail('young', 'me', { status: 'sent', at: T0 });
      await store().settleMail('queued', 'me', { status: 'queued', retryAt: T0 + 2 * DAY, error: 'x' });
      expect(await store().deleteExpiredMails(T0 + 2 * DAY)).toBe(1);
      expect(await store().getMail('sent')).toBeNull();
      expect(await store().getMail('queued')).not.toBeNull();
      expect(await store().getMail('young')).not.toBeNull();
      expect((await store().listMails({ limit: 10 })).map((m) => m.id).sort()).toEqual(['queued', 'young']);
    });
  });
}
