/**
 * The signing-key lifecycle on top of the `KeyStore` contract: create, publish, activate,
 * retire, remove.
 *
 * A key is published (JWKS, verification) from `createdAt`, signs from `activatesAt`, stops
 * signing at `retiredAt` and disappears at `expiresAt`. A new key is published `publishLeadMs`
 * before it signs, so that every node and every resource service has seen it before a token
 * signed by it arrives; a retired key stays published for `retentionMs`, longer than any access
 * token it signed can live. The store is the source of truth; each node keeps a parsed copy,
 * reloaded every `refreshIntervalMs`, so the hot paths (`signingKey`, `resolveVerificationKey`)
 * are synchronous.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5 JWK Set
 * @see https://openid.net/specs/openid-connect-core-1_0.html#RotateSigKeys
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock, type Clock } from '../clock.js';
import { LatchkeyError } from '../errors.js';
import type { CounterStore, KeyStore } from '../stores/types.js';
import type { KeyAlgorithm, SigningKeyRecord } from '../records.js';
import { KEY_ALGORITHMS, type AccessTokenSigningKey, type VerificationKey } from '../token/jwt.js';
import {
  fromSigningKeyRecord,
  generateSigningKey,
  toSigningKeyRecord,
  type LoadedSigningKey,
  type PublicJWK,
} from './key-material.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The counter used as a cross-node lock around key creation. */
export const KEY_ROTATION_LOCK = 'keys:rotate-lock';
/** A lock left by a crashed node frees itself after this long. */
const LOCK_TTL_MS = 15_000;
/** How long `init` waits for another node that holds the lock to create the first key. */
const MAX_LOCK_WAITS = 40;

export interface KeyringOptions {
  store: KeyStore & CounterStore;
  /** 32 bytes: `deriveKey(master, 'signing-keys')`. */
  encryptionKey: Uint8Array;
  /** The algorithm of the keys this keyring creates and signs with. */
  algorithm: KeyAlgorithm;
  /** The longest access-token lifetime; retired keys stay published at least this long plus 5 minutes. */
  accessTokenTtlMs: number;
  clock?: Clock;
  /** Age of the active key after which `maintain` rotates. Default 30 days. */
  rotationIntervalMs?: number;
  /** How long a new key is published before it signs. Default 10 minutes. */
  publishLeadMs?: number;
  /** How long a retired key stays published; raised to `accessTokenTtlMs` + 5 minutes if lower. */
  retentionMs?: number;
  /** How often the parsed copy is reloaded from the store. Default 60 seconds. */
  refreshIntervalMs?: number;
}

export type SigningKeyState = 'pending' | 'active' | 'retired';

export interface SigningKeySummary {
  kid: string;
  alg: KeyAlgorithm;
  state: SigningKeyState;
  createdAt: number;
  activatesAt: number;
  retiredAt: number | null;
  expiresAt: number | null;
}

export interface Keyring {
  /** Loads the keys; creates (and activates at once) the first key when there is none. */
  init(): Promise<void>;
  /** The key to sign with now: the newest active key of the configured algorithm. */
  signingKey(): AccessTokenSigningKey;
  /** Any published (not removed) key, bound to its algorithm; parsed once per kid. */
  resolveVerificationKey(kid: string): VerificationKey | undefined;
  /** The public JWK Set: asymmetric published keys only, public members only. */
  jwks(): { keys: PublicJWK[] };
  /**
   * Creates a key, published now and signing after `publishLeadMs` (at once with `immediate`);
   * every other key still signing is retired when it activates.
   */
  rotate(options?: { immediate?: boolean | undefined }): Promise<SigningKeyRecord>;
  /** Reloads, repairs, rotates when due (under the cross-node lock) and deletes expired keys. */
  maintain(): Promise<void>;
  /** Reloads the parsed copy from the store. */
  refresh(): Promise<void>;
  /** Every stored key with its state now, oldest first (for `latchkey keys list`). */
  list(): SigningKeySummary[];
}

interface LoadedEntry {
  record: SigningKeyRecord;
  readonly loaded: LoadedSigningKey;
  readonly signing: AccessTokenSigningKey;
  readonly verification: VerificationKey;
}

/**
 * Creates a keyring. Call `init()` before use and `maintain()` periodically.
 *
 * @example
 * const keyring = createKeyring({
 *   store,
 *   encryptionKey: deriveKey(master, 'signing-keys'),
 *   algorithm: 'EdDSA',
 *   accessTokenTtlMs: 15 * 60_000,
 * });
 * await keyring.init();
 * const token = signAccessToken(claims, keyring.signingKey());
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.5
 */
export function createKeyring(options: KeyringOptions): Keyring {
  const { store, encryptionKey, algorithm } = options;
  if (typeof store !== 'object' || store === null)
    throw new TypeError('"store" must be a KeyStore & CounterStore');
  if (!(encryptionKey instanceof Uint8Array) || encryptionKey.length !== 32) {
    throw new TypeError('"encryptionKey" must be 32 bytes');
  }
  if (!KEY_ALGORITHMS.includes(algorithm)) {
    throw new TypeError(`"algorithm" must be one of ${KEY_ALGORITHMS.join(', ')}`);
  }
  const clock = options.clock ?? systemClock;
  const accessTokenTtlMs = duration(options.accessTokenTtlMs, 'accessTokenTtlMs');
  const rotationIntervalMs = duration(options.rotationIntervalMs ?? 30 * DAY, 'rotationIntervalMs');
  const publishLeadMs = duration(options.publishLeadMs ?? 10 * MINUTE, 'publishLeadMs');
  const refreshIntervalMs = duration(options.refreshIntervalMs ?? MINUTE, 'refreshIntervalMs');
  const retentionMs = Math.max(
    duration(options.retentionMs ?? 0, 'retentionMs'),
    accessTokenTtlMs + 5 * MINUTE,
  );

  let entries = new Map<string, LoadedEntry>();
  let loadedAt = Number.NEGATIVE_INFINITY;
  let loading: Promise<void> = Promise.resolve();
  let backgroundReload = false;

  /** Reloads from the store; loads are serialized, and keys already parsed are reused by kid. */
  function load(): Promise<void> {
    const run = async (): Promise<void> => {
      const records = await store.listKeys();
      const next = new Map<string, LoadedEntry>();
      for (const record of records) {
        const existing = entries.get(record.kid);
        if (existing !== undefined && existing.record.alg === record.alg) {
          existing.record = record;
          next.set(record.kid, existing);
          continue;
        }
        const loaded = fromSigningKeyRecord(record, encryptionKey);
        next.set(record.kid, {
          record,
          loaded,
          signing: { kid: loaded.kid, alg: loaded.alg, privateKey: loaded.privateKey },
          verification: { kid: loaded.kid, alg: loaded.alg, key: loaded.verificationKey },
        });
      }
      entries = next;
      loadedAt = clock();
    };
    loading = loading.then(run, run);
    return loading;
  }

  /** Starts a reload in the background when the copy is older than `refreshIntervalMs`. */
  function refreshIfStale(now: number): void {
    if (backgroundReload || now - loadedAt < refreshIntervalMs) return;
    backgroundReload = true;
    load()
      .catch(() => {
        // Keep serving the keys we have; `maintain()` surfaces store errors.
      })
      .finally(() => {
        backgroundReload = false;
      });
  }

  function isRemoved(record: SigningKeyRecord, now: number): boolean {
    return record.expiresAt !== null && record.expiresAt <= now;
  }

  /** The newest key of the configured algorithm that has activated and is not retired at `now`. */
  function activeEntry(now: number): LoadedEntry | undefined {
    let best: LoadedEntry | undefined;
    for (const entry of entries.values()) {
      const { record } = entry;
      if (record.alg !== algorithm || record.activatesAt > now || isRemoved(record, now)) continue;
      if (record.retiredAt !== null && record.retiredAt <= now) continue;
      if (best === undefined || compareNewest(record, best.record) > 0) best = entry;
    }
    return best;
  }

  function stateOf(record: SigningKeyRecord, now: number, activeKid: string | undefined): SigningKeyState {
    if (record.kid === activeKid) return 'active';
    return record.activatesAt > now && (record.retiredAt === null || record.retiredAt > now)
      ? 'pending'
      : 'retired';
  }

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
    const open = [...entries.values()].map((e) => e.record).filter((r) => r.retiredAt === null);
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
      ![...entries.values()].some((e) => e.record.activatesAt > now && e.record.retiredAt === null)
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
    for (const entry of entries.values()) {
      if (isRemoved(entry.record, now)) {
        await store.deleteKey(entry.record.kid);
        changed = true;
      }
    }
    if (changed) await load();
  }

  return {
    async init(): Promise<void> {
      await load();
      await ensureActiveKey();
    },

    signingKey(): AccessTokenSigningKey {
      const now = clock();
      refreshIfStale(now);
      const active = activeEntry(now);
      if (active === undefined) {
        throw new LatchkeyError('internal_error', 'no active signing key: was the keyring initialized?');
      }
      return active.signing;
    },

    resolveVerificationKey(kid: string): VerificationKey | undefined {
      const now = clock();
      refreshIfStale(now);
      const entry = entries.get(kid);
      if (entry === undefined || isRemoved(entry.record, now)) return undefined;
      return entry.verification;
    },

    jwks(): { keys: PublicJWK[] } {
      const now = clock();
      refreshIfStale(now);
      const keys = [...entries.values()]
        .filter((e) => e.loaded.publicJwk !== null && !isRemoved(e.record, now))
        .sort((a, b) => compareNewest(b.record, a.record))
        .map((e) => ({ ...(e.loaded.publicJwk as PublicJWK) }));
      return { keys };
    },

    rotate,
    maintain,
    refresh: load,

    list(): SigningKeySummary[] {
      const now = clock();
      const activeKid = activeEntry(now)?.record.kid;
      return [...entries.values()]
        .map((e) => e.record)
        .sort((a, b) => compareNewest(a, b))
        .map((r) => ({
          kid: r.kid,
          alg: r.alg,
          state: stateOf(r, now, activeKid),
          createdAt: r.createdAt,
          activatesAt: r.activatesAt,
          retiredAt: r.retiredAt,
          expiresAt: r.expiresAt,
        }));
    },
  };
}

/** Positive when `a` is newer than `b`: later activation, then later creation, then kid. */
function compareNewest(a: SigningKeyRecord, b: SigningKeyRecord): number {
  if (a.activatesAt !== b.activatesAt) return a.activatesAt - b.activatesAt;
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0;
}

function duration(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`"${name}" must be a non-negative number of milliseconds`);
  }
  return value;
}
