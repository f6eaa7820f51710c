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

import { systemClock, type Clock } from '../clock.js';
import { LatchkeyError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CounterStore, KeyStore } from '../store.js';
import type { KeyAlgorithm, SigningKeyRecord } from '../records.js';
import { KEY_ALGORITHMS, type AccessTokenSigningKey, type VerificationKey } from './algorithms.js';
import { fromSigningKeyRecord, type PublicJWK } from './key-material.js';
import { compareNewest, isRemoved, type LoadedEntry } from './keyring-entries.js';
import { createKeyRotation } from './keyring-rotation.js';

export { KEY_ROTATION_LOCK } from './keyring-rotation.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/**
 * Options of `createKeyring`; durations in milliseconds.
 *
 * @example
 * const options: KeyringOptions = { store, encryptionKey, algorithm: 'EdDSA', accessTokenTtlMs: 900_000 };
 * @see https://openid.net/specs/openid-connect-core-1_0.html#RotateSigKeys
 */
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
  /** Where a new key is told (`key.rotated`, a security event); none when omitted. */
  logger?: Pick<Logger, 'info'> | undefined;
}

/**
 * Where a key stands now: published but not yet signing, signing, or published but no longer
 * signing.
 *
 * @example
 * keyring.list().filter((key) => key.state === 'active');
 * @see https://openid.net/specs/openid-connect-core-1_0.html#RotateSigKeys
 */
export type SigningKeyState = 'pending' | 'active' | 'retired';

/**
 * A stored key as `list()` describes it (for `latchkey keys list`); times in ms since the epoch.
 *
 * @example
 * for (const key of keyring.list()) console.log(key.kid, key.state);
 * @see https://openid.net/specs/openid-connect-core-1_0.html#RotateSigKeys
 */
export interface SigningKeySummary {
  kid: string;
  alg: KeyAlgorithm;
  state: SigningKeyState;
  createdAt: number;
  activatesAt: number;
  retiredAt: number | null;
  expiresAt: number | null;
}

/**
 * The signing keys of a server: the key to sign with, the keys to verify with, the JWK Set, and
 * rotation. See `createKeyring`.
 *
 * @example
 * const token = signAccessToken(claims, keyring.signingKey());
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5 JWK Set
 */
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
  const settings = readKeyringOptions(options);
  const { store, encryptionKey, algorithm, clock, refreshIntervalMs } = settings;

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
        next.set(record.kid, toEntry(record, entries.get(record.kid), encryptionKey));
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

  const { rotate, ensureActiveKey, maintain } = createKeyRotation({
    ...settings,
    load,
    entries: () => entries,
    activeEntry,
  });

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
      return summarize(entries, now, activeEntry(now)?.record.kid);
    },
  };
}

/** A key record made ready to use; one already parsed (same kid and algorithm) is reused. */
function toEntry(
  record: SigningKeyRecord,
  existing: LoadedEntry | undefined,
  encryptionKey: KeyringSettings['encryptionKey'],
): LoadedEntry {
  if (existing !== undefined && existing.record.alg === record.alg) {
    existing.record = record;
    return existing;
  }
  const loaded = fromSigningKeyRecord(record, encryptionKey);
  return {
    record,
    loaded,
    signing: { kid: loaded.kid, alg: loaded.alg, privateKey: loaded.privateKey },
    verification: { kid: loaded.kid, alg: loaded.alg, key: loaded.verificationKey },
  };
}

/** Every key, oldest first, with its state at `now`. */
function summarize(
  entries: ReadonlyMap<string, LoadedEntry>,
  now: number,
  activeKid: string | undefined,
): SigningKeySummary[] {
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
}

/** `KeyringOptions` checked (a `TypeError` names the first bad one), with defaults applied. */
interface KeyringSettings {
  readonly logger: Pick<Logger, 'info'> | undefined;
  readonly store: KeyStore & CounterStore;
  readonly encryptionKey: Uint8Array;
  readonly algorithm: KeyAlgorithm;
  readonly clock: Clock;
  readonly rotationIntervalMs: number;
  readonly publishLeadMs: number;
  readonly refreshIntervalMs: number;
  readonly retentionMs: number;
}

function readKeyringOptions(options: KeyringOptions): KeyringSettings {
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

  return {
    logger: options.logger,
    store,
    encryptionKey,
    algorithm,
    clock,
    rotationIntervalMs,
    publishLeadMs,
    refreshIntervalMs,
    retentionMs,
  };
}

function stateOf(record: SigningKeyRecord, now: number, activeKid: string | undefined): SigningKeyState {
  if (record.kid === activeKid) return 'active';
  return record.activatesAt > now && (record.retiredAt === null || record.retiredAt > now)
    ? 'pending'
    : 'retired';
}

function duration(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`"${name}" must be a non-negative number of milliseconds`);
  }
  return value;
}
