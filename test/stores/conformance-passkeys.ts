/**
 * The passkey part of the store conformance suite (`./conformance.ts` runs it on every store):
 * the contract of `PasskeyStore` in `src/store.ts`, and its atomic operations attacked with
 * concurrent calls.
 */

import { describe, expect, it } from 'vitest';
import { LatchkeyError } from '../../src/errors.js';
import type { PasskeyRecord } from '../../src/records.js';
import type { Store } from '../../src/store.js';

const T0 = Date.UTC(2026, 0, 1);

function passkey(overrides: Partial<PasskeyRecord> = {}): PasskeyRecord {
  return {
    id: 'AAECAwQFBgcICQoLDA0ODw',
    userId: 'u1',
    publicKey: 'pQECAyYgASFYIE1nZmh0dHBzOi8vZXhhbXBsZS5jb20iWCD_-0123456789abcdefABCDEF',
    counter: 0,
    transports: ['internal', 'hybrid'],
    backupEligible: true,
    backedUp: false,
    aaguid: 'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4',
    name: 'Laptop ☎ "work"',
    createdAt: T0,
    lastUsedAt: null,
    ...overrides,
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LatchkeyError);
  return (error as LatchkeyError).code;
}

/** Registers the passkey tests; `store` gives the store of the current test. */
export function describePasskeyConformance(store: () => Store): void {
  describe('passkeys', () => {
    it('creates, finds by credential id, lists oldest first, and keeps every field', async () => {
      const b = passkey({ id: 'b', createdAt: T0 + 2, counter: 7, backedUp: true, lastUsedAt: T0 + 4 });
      const a = passkey({ id: 'a', createdAt: T0 + 2, transports: [], backupEligible: false });
      const c = passkey({ id: 'c-_', createdAt: T0 + 1 });
      for (const record of [b, a, c, passkey({ id: 'other', userId: 'u2' })])
        await store().createPasskey(record);
      expect(await store().listPasskeys('u1')).toEqual([c, a, b]);
      expect(await store().getPasskey('b')).toEqual(b);
      expect(await store().getPasskey('B')).toBeNull();
      expect(await store().getPasskey('missing')).toBeNull();
      expect(await store().listPasskeys('nobody')).toEqual([]);
    });

    it('refuses a credential id registered before, even for another user', async () => {
      await store().createPasskey(passkey());
      expect(await codeOf(store().createPasskey(passkey({ userId: 'u2', name: 'again' })))).toBe(
        'passkey_exists',
      );
      expect(await store().listPasskeys('u2')).toEqual([]);
      expect((await store().getPasskey(passkey().id))?.userId).toBe('u1');
    });

    it('of concurrent registrations of one credential id, exactly one succeeds', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => store().createPasskey(passkey({ userId: `u${i}` }))),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const owner = (await store().getPasskey(passkey().id))?.userId ?? '';
      expect(await store().listPasskeys(owner)).toHaveLength(1);
    });

    it('records a use only when the counter grows, or stays 0 without a counter', async () => {
      await store().createPasskey(passkey({ id: 'zero' }));
      expect(await store().usePasskey('zero', { counter: 0, backedUp: true, at: T0 + 1 })).toBe(true);
      expect(await store().usePasskey('zero', { counter: 0, backedUp: true, at: T0 + 2 })).toBe(true);
      expect(await store().getPasskey('zero')).toMatchObject({
        counter: 0,
        backedUp: true,
        lastUsedAt: T0 + 2,
      });

      await store().createPasskey(passkey({ id: 'counted', counter: 5 }));
      expect(await store().usePasskey('counted', { counter: 5, backedUp: true, at: T0 + 1 })).toBe(false);
      expect(await store().usePasskey('counted', { counter: 4, backedUp: true, at: T0 + 1 })).toBe(false);
      expect(await store().usePasskey('counted', { counter: 0, backedUp: true, at: T0 + 1 })).toBe(false);
      expect(await store().getPasskey('counted')).toMatchObject({
        counter: 5,
        backedUp: false,
        lastUsedAt: null,
      });
      expect(
        await store().usePasskey('counted', { counter: 4_294_967_295, backedUp: false, at: T0 + 3 }),
      ).toBe(true);
      expect(await store().getPasskey('counted')).toMatchObject({
        counter: 4_294_967_295,
        lastUsedAt: T0 + 3,
      });
      expect(await store().usePasskey('missing', { counter: 9, backedUp: false, at: T0 })).toBe(false);
    });

    it('of concurrent uses with one counter, exactly one is recorded', async () => {
      await store().createPasskey(passkey({ counter: 1 }));
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          store().usePasskey(passkey().id, { counter: 2, backedUp: false, at: T0 }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('renames and deletes only the passkey of that user', async () => {
      await store().createPasskey(passkey());
      const id = passkey().id;
      expect(await store().renamePasskey('u2', id, 'stolen')).toBe(false);
      expect(await store().deletePasskey('u2', id)).toBe(false);
      expect(await store().renamePasskey('u1', id, 'Phone 📱')).toBe(true);
      expect((await store().getPasskey(id))?.name).toBe('Phone 📱');
      expect(await store().renamePasskey('u1', 'missing', 'x')).toBe(false);
      expect(await store().deletePasskey('u1', id)).toBe(true);
      expect(await store().deletePasskey('u1', id)).toBe(false);
      expect(await store().getPasskey(id)).toBeNull();
      expect(await store().listPasskeys('u1')).toEqual([]);
      // The id is free again once deleted.
      await store().createPasskey(passkey({ userId: 'u2' }));
      expect((await store().listPasskeys('u2')).map((p) => p.id)).toEqual([id]);
    });
  });
}
