/**
 * Key rotation on top of the `KeyStore` contract: creating a key (published now, signing after
 * `publishLeadMs`), retiring the keys it replaces, repairing an interrupted rotation, and
 * deleting expired keys, under a cross-node lock held in the `CounterStore`.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#RotateSigKeys
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5 JWK Set
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { LatchkeyError } from '../errors.js';
import type { CounterStore, KeyStore } from '../store.js';
import type { KeyAlgorithm, SigningKeyRecord } from '../records.js';
import { generateSigningKey, toSigningKeyRecord } from './key-material.js';
import { compareNewest, isRemoved, type LoadedEntry } from './keyring-entries.js';

/** The counter used as a cross-node lock around key creation. */
export const KEY_ROTATION_LOCK = 'keys:rotate-lock';
/** A lock left by a crashed node frees itself after this long. */
const LOCK_TTL_MS = 15_000;
/** How long `init` waits for another node that holds the lock to create the first key. */
const MAX_LOCK_WAITS = 40;

/**
 * What rotation reads from its keyring: the store, the settings (checked by `createKeyring`),
 * and the keyring's parsed copy, which it reloads after every change.
 *
 * @example
 * const rotation = createKeyRotation({ ...settings, load, entries: () => entries, activeEntry });
 * @see https://openid.net/specs/openid-connect-core-1_0.html#RotateSigKeys
 */
export interface KeyRotationContext {
  readonly logger?: Pick<Logger, 'info'> | undefined;
  readonly store: KeyStore & CounterStore;
  readonly encryptionKey: Uint8Array;
  readonly algorithm: KeyAlgorithm;
  readonly clock: Clock;
  readonly publishLeadMs: number;
  readonly retentionMs: number;
  readonly rotationIntervalMs: number;
  /** Reloads the parsed copy from the store. */
  readonly load: () => Promise<void>;
  /** The parsed copy as last loaded. */
  readonly entries: () => ReadonlyMap<string, LoadedEntry>;
  /** The newest key of the configured algorithm that has activated and is not retired at `now`. */
  readonly activeEntry: (now: number) => LoadedEntry | undefined;
}

/**
 * The rotation operations of one keyring (see `Keyring` for what each does).
 *
 * @example
 * await rotation.maintain();
 * @see https://openid.net/specs/openid-connect-core-1_0.html#RotateSigKeys
 */
export interface KeyRotation {
  readonly rotate: (options?: { immediate?: boolean | undefined }) => Promise<SigningKeyRecord>;
  /** Creates an immediately active key when none of the configured algorithm is active. */
  readonly ensureActiveKey: () => Promise<void>;
  readonly maintain: () => Promise<void>;
}

/**
 * Creates the rotation operations over a keyring's store and parsed copy.
 *
 * @example
 * const { rotate, ensureActiveKey, maintain } = createKeyRotation(context);
 * await ensureActiveKey();
 * @see https://openid.net/specs/openid-connect-core-1_0.html#RotateSigKeys
 */
export function createKeyRotation(context: KeyRotationContext): KeyRotation {
  const { store, encryptionKey, algorithm, clock, publishLeadMs, retentionMs, rotationIntervalMs } = context;
  const { load, entries, activeEntry } = context;

  async function withLock(action: () => Promise<void>): Promise<boolean> {
    const lock = await store.increment(KEY_ROTATION_LOCK, LOCK_TTL_MS, clock());
    if (lock.count !== 1) return false;
    try {
      await action();
    } finally {
      await store.deleteCounter(KEY_ROTATION_LOCK);
    }
    return true;
  }

  async function rotate(rotateOptions: { immediate?: boolean | undefined } = {}): Promise<SigningKeyRecord> {
    const now = clock();
    const activatesAt = rotateOptions.immediate === true ? now : now + publishLeadMs;
    const key = await generateSigningKey(algorithm);
    const record = toSigningKeyRecord(key, { encryptionKey, createdAt: now, activatesAt });
    await store.insertKey(record);
    context.logger?.info(
      { event: 'key.rotated', kid: record.kid, alg: record.alg, immediate: rotateOptions.immediate === true },
      'signing key created',
    );
    for (const other of await store.listKeys()) {
      if (other.kid === record.kid) continue;
      if (other.retiredAt === null || other.retiredAt > activatesAt) {
        await store.updateKey(other.kid, { retiredAt: activatesAt, expiresAt: activatesAt + retentionMs });
      }
    }
    await load();
    return record;
  }

  /** Creates an immediately active key when none of the configured algorithm is active. */
  async function ensureActiveKey(): Promise<void> {
    let wait = 50;
    for (let attempt = 0; attempt < MAX_LOCK_WAITS; attempt++) {
      if (activeEntry(clock()) !== undefined) return;
      const acquired = await withLock(async () => {
        await load(); // Another node may have created it between our read and the lock.
        if (activeEntry(clock()) === undefined) await rotate({ immediate: true });
      });
      if (acquired) return;
      await sleep(wait);
      wait = Math.min(wait * 2, 1000);
      await load();
    }
    throw new LatchkeyError(
      'store_unavailable',
      'timed out waiting for another node to create a signing key',
      {
        retryAfter: 1,
      },
    );
  }

  /**
   * Repairs an interrupted rotation: a key still unretired while a newer one exists is retired
   * when the newer one activates.
   */
  async function retireSuperseded(): Promise<boolean> {
    const open = [...entries().values()].map((e) => e.record).filter((r) => r.retiredAt === null);
    if (open.length < 2) return false;
    const newest = open.reduce((a, b) => (compareNewest(a, b) >= 0 ? a : b));
    for (const record of open) {
      if (record.kid === newest.kid) continue;
      await store.updateKey(record.kid, {
        retiredAt: newest.activatesAt,
        expiresAt: newest.activatesAt + retentionMs,
      });
    }
    return true;
  }

  async function maintain(): Promise<void> {
    await load();
    if (await retireSuperseded()) await load();
    let changed = false;
    let now = clock();
    const active = activeEntry(now);
    if (active === undefined) {
      await ensureActiveKey();
    } else if (
      active.record.retiredAt === null &&
      now - active.record.activatesAt >= rotationIntervalMs &&
      ![...entries().values()].some((e) => e.record.activatesAt > now && e.record.retiredAt === null)
    ) {
      await withLock(async () => {
        await load();
        const current = activeEntry(clock());
        if (
          current?.record.retiredAt === null &&
          clock() - current.record.activatesAt >= rotationIntervalMs
        ) {
          await rotate();
        }
      });
    }
    now = clock();
    for (const entry of entries().values()) {
      if (isRemoved(entry.record, now)) {
        await store.deleteKey(entry.record.kid);
        changed = true;
      }
    }
    if (changed) await load();
  }

  return { rotate, ensureActiveKey, maintain };
}
