import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import { LatchkeyError } from '../../src/errors.js';
import {
  createKeyring,
  KEY_ROTATION_LOCK,
  type Keyring,
  type KeyringOptions,
} from '../../src/keys/keyring.js';
import { generateSigningKey, toSigningKeyRecord } from '../../src/keys/key-material.js';
import { deriveKey } from '../../src/lib/secrets.js';
import type { CounterStore, KeyStore, Store } from '../../src/store.js';
import type { CounterValue, KeyAlgorithm, SigningKeyRecord } from '../../src/records.js';
import { createAccessTokenVerifier, signAccessToken, type AccessTokenVerifier } from '../../src/token/jwt.js';
import { describeEachStore, probeStores } from '../helpers/stores.js';

/** What a keyring needs of a store. */
type KeyringStore = KeyStore & CounterStore;

const stores = await probeStores();

/**
 * A minimal in-test KeyStore & CounterStore. Every method yields to the event loop first, so
 * that concurrent callers interleave as they would against a real backend; the body of each
 * method then runs without interruption, which makes `increment` atomic.
 */
function createFakeStore(): KeyringStore {
  const keys = new Map<string, SigningKeyRecord>();
  const counters = new Map<string, CounterValue>();
  const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  return {
    async listKeys() {
      await tick();
      return [...keys.values()].map((k) => ({ ...k }));
    },
    async insertKey(key) {
      await tick();
      if (keys.has(key.kid)) throw new Error('duplicate kid');
      keys.set(key.kid, { ...key });
    },
    async updateKey(kid, patch) {
      await tick();
      const key = keys.get(kid);
      if (key !== undefined) keys.set(kid, { ...key, ...patch });
    },
    async deleteKey(kid) {
      await tick();
      keys.delete(kid);
    },
    async increment(key, ttlMs, now) {
      await tick();
      const current = counters.get(key);
      const next =
        current === undefined || current.expiresAt <= now
          ? { count: 1, expiresAt: now + ttlMs }
          : { count: current.count + 1, expiresAt: current.expiresAt };
      counters.set(key, next);
      return { ...next };
    },
    async getCounter(key, now) {
      await tick();
      const current = counters.get(key);
      return current === undefined || current.expiresAt <= now ? null : { ...current };
    },
    async deleteCounter(key) {
      await tick();
      counters.delete(key);
    },
  };
}

/** The keys the store holds, by kid. */
async function storedKeys(store: KeyringStore): Promise<Map<string, SigningKeyRecord>> {
  return new Map((await store.listKeys()).map((key) => [key.kid, key]));
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const TTL = 15 * MINUTE;
const ISS = 'https://auth.example.com';
const encryptionKey = deriveKey(Buffer.from('the master secret used by these tests!!'), 'signing-keys');

function setup(
  store: KeyringStore,
  overrides: Partial<KeyringOptions> = {},
  sharedClock?: ManualClock,
): {
  keyring: Keyring;
  store: KeyringStore;
  clock: ManualClock;
  verifier: AccessTokenVerifier;
  sign: (options?: { expiresIn?: number; jti?: string }) => string;
} {
  const clock = sharedClock ?? createManualClock();
  const algorithm = overrides.algorithm ?? 'EdDSA';
  const keyring = createKeyring({
    store,
    encryptionKey,
    algorithm,
    clock,
    accessTokenTtlMs: TTL,
    ...overrides,
  });
  const verifier = createAccessTokenVerifier({
    issuer: ISS,
    audience: ISS,
    algorithms: [algorithm],
    keys: (kid) => keyring.resolveVerificationKey(kid),
    clock,
  });
  const sign = (options: { expiresIn?: number; jti?: string } = {}): string => {
    const iat = Math.floor(clock() / 1000);
    return signAccessToken(
      {
        iss: ISS,
        aud: ISS,
        sub: 'user-1',
        iat,
        exp: iat + (options.expiresIn ?? TTL / 1000),
        jti: options.jti ?? `jti-${iat}`,
      },
      keyring.signingKey(),
    );
  };
  return { keyring, store, clock, verifier, sign };
}

function kidOf(token: string): string {
  const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as {
    kid: string;
  };
  return header.kid;
}

describe('createKeyring', () => {
  it('refuses bad options with a TypeError naming them', () => {
    const store = createFakeStore();
    const base = { store, encryptionKey, algorithm: 'EdDSA' as KeyAlgorithm, accessTokenTtlMs: TTL };
    expect(() => createKeyring({ ...base, encryptionKey: Buffer.alloc(16) })).toThrow(/"encryptionKey"/);
    expect(() => createKeyring({ ...base, algorithm: 'none' as KeyAlgorithm })).toThrow(/"algorithm"/);
    expect(() => createKeyring({ ...base, accessTokenTtlMs: Number.NaN })).toThrow(/"accessTokenTtlMs"/);
    expect(() => createKeyring({ ...base, publishLeadMs: -1 })).toThrow(/"publishLeadMs"/);
  });
});

/**
 * The lifecycle on a store from `open()`: the fake store above (every call yields, so concurrent
 * callers interleave) and each real store (`test/helpers/stores.ts`).
 */
function lifecycleTests(open: () => Promise<KeyringStore>): void {
  it('creates the first key at init, active at once', async () => {
    const { keyring, store, clock, verifier, sign } = setup(await open());
    await keyring.init();
    expect((await storedKeys(store)).size).toBe(1);
    const [summary] = keyring.list();
    expect(summary).toMatchObject({
      alg: 'EdDSA',
      state: 'active',
      createdAt: clock(),
      activatesAt: clock(),
    });
    expect(summary?.retiredAt).toBeNull();
    expect(keyring.signingKey().kid).toBe(summary?.kid);
    expect(verifier.verify(sign()).claims.sub).toBe('user-1');
    // A second init on the same store loads; it does not create another key.
    const again = setup(store, {}, clock);
    await again.keyring.init();
    expect((await storedKeys(store)).size).toBe(1);
    expect(again.keyring.signingKey().kid).toBe(summary?.kid);
  });

  it('stores only sealed private keys', async () => {
    const { keyring, store } = setup(await open());
    await keyring.init();
    const [record] = [...(await storedKeys(store)).values()];
    expect(record?.encryptedPrivateKey).toMatch(/^v1\./);
    expect(JSON.stringify(record)).not.toContain('"d"');
  });

  it('publishes a rotated key before it signs, and verifies the old key until removal', async () => {
    const { keyring, store, clock, verifier, sign } = setup(await open(), { publishLeadMs: 10 * MINUTE });
    await keyring.init();
    const first = keyring.signingKey().kid;
    const oldToken = sign();
    // A token signed by the old key that outlives its retention, to observe removal.
    const longToken = sign({ expiresIn: 30 * 24 * 3600, jti: 'long' });
    expect(verifier.verify(longToken).claims.jti).toBe('long');

    const rotated = await keyring.rotate();
    expect(rotated.activatesAt).toBe(clock() + 10 * MINUTE);
    // Published now (JWKS and resolver) but not signing yet.
    expect(
      keyring
        .jwks()
        .keys.map((k) => k.kid)
        .sort(),
    ).toEqual([first, rotated.kid].sort());
    expect(keyring.resolveVerificationKey(rotated.kid)).toBeDefined();
    expect(keyring.signingKey().kid).toBe(first);
    expect(keyring.list().map((k) => [k.kid, k.state])).toEqual([
      [first, 'active'],
      [rotated.kid, 'pending'],
    ]);

    clock.advance(10 * MINUTE);
    expect(keyring.signingKey().kid).toBe(rotated.kid);
    const old = keyring.list().find((k) => k.kid === first);
    expect(old).toMatchObject({ state: 'retired', retiredAt: rotated.activatesAt });
    const retention = TTL + 5 * MINUTE;
    expect(old?.expiresAt).toBe(rotated.activatesAt + retention);
    const newToken = sign();
    expect(kidOf(newToken)).toBe(rotated.kid);
    // The old key still verifies its tokens while they live.
    expect(verifier.verify(oldToken).claims.sub).toBe('user-1');
    expect(verifier.verify(newToken).claims.sub).toBe('user-1');

    clock.advance(TTL - 10 * MINUTE);
    await keyring.maintain();
    expect((await storedKeys(store)).has(first)).toBe(true);
    expect(verifier.verify(longToken).claims.jti).toBe('long');

    // Past retention: no longer resolvable even before maintain() deletes it...
    clock.set(rotated.activatesAt + retention);
    expect(keyring.resolveVerificationKey(first)).toBeUndefined();
    expect(() => verifier.verify(longToken)).toThrow('unknown kid');
    // ...and maintain() removes it from the store and the JWKS.
    await keyring.maintain();
    expect((await storedKeys(store)).has(first)).toBe(false);
    expect(keyring.jwks().keys.map((k) => k.kid)).toEqual([rotated.kid]);
    expect(() => verifier.verify(longToken)).toThrow(LatchkeyError);
    expect(keyring.list().map((k) => k.kid)).toEqual([rotated.kid]);
  });

  it('rotate({ immediate: true }) signs at once and retires the previous key now', async () => {
    const { keyring, clock, verifier, sign } = setup(await open());
    await keyring.init();
    const oldToken = sign();
    const first = keyring.signingKey().kid;
    const rotated = await keyring.rotate({ immediate: true });
    expect(keyring.signingKey().kid).toBe(rotated.kid);
    expect(keyring.list().find((k) => k.kid === first)).toMatchObject({
      state: 'retired',
      retiredAt: clock(),
    });
    expect(verifier.verify(oldToken).claims.sub).toBe('user-1');
  });

  it('maintain() rotates when the active key is older than rotationIntervalMs, once', async () => {
    const { keyring, store, clock } = setup(await open(), {
      rotationIntervalMs: 30 * DAY,
      publishLeadMs: 10 * MINUTE,
    });
    await keyring.init();
    const first = keyring.signingKey().kid;
    clock.advance(29 * DAY);
    await keyring.maintain();
    expect((await storedKeys(store)).size).toBe(1);
    clock.advance(DAY);
    await keyring.maintain();
    expect((await storedKeys(store)).size).toBe(2);
    // During the lead time, further maintenance does not rotate again.
    clock.advance(5 * MINUTE);
    await keyring.maintain();
    await keyring.maintain();
    expect((await storedKeys(store)).size).toBe(2);
    expect(keyring.signingKey().kid).toBe(first);
    clock.advance(5 * MINUTE);
    await keyring.maintain();
    expect(keyring.signingKey().kid).not.toBe(first);
    expect((await storedKeys(store)).size).toBe(2);
  });

  it('maintain() skips scheduled rotation while another node holds the lock', async () => {
    const { keyring, store, clock } = setup(await open(), { rotationIntervalMs: DAY });
    await keyring.init();
    clock.advance(DAY);
    await store.increment(KEY_ROTATION_LOCK, 15_000, clock());
    await keyring.maintain();
    expect((await storedKeys(store)).size).toBe(1);
    clock.advance(16_000); // the lock expires
    await keyring.maintain();
    expect((await storedKeys(store)).size).toBe(2);
  });

  it('another node learns of a rotation by reloading before the new key signs', async () => {
    const a = setup(await open(), { refreshIntervalMs: MINUTE, publishLeadMs: 10 * MINUTE });
    await a.keyring.init();
    const b = setup(a.store, { refreshIntervalMs: MINUTE, publishLeadMs: 10 * MINUTE }, a.clock);
    await b.keyring.init();
    const rotated = await a.keyring.rotate();
    expect(b.keyring.resolveVerificationKey(rotated.kid)).toBeUndefined();
    a.clock.advance(MINUTE);
    // A stale copy triggers a background reload; b.refresh() waits for the queue.
    b.keyring.resolveVerificationKey(rotated.kid);
    await b.keyring.refresh();
    expect(b.keyring.resolveVerificationKey(rotated.kid)).toBeDefined();
    a.clock.advance(9 * MINUTE);
    expect(b.keyring.signingKey().kid).toBe(rotated.kid);
    expect(b.verifier.verify(a.sign()).claims.sub).toBe('user-1');
  });

  it('repairs an interrupted rotation: an older unretired key is retired when the newer activates', async () => {
    const { keyring, store, clock } = setup(await open());
    await keyring.init();
    const first = keyring.signingKey().kid;
    const extra = await generateSigningKey('EdDSA');
    await store.insertKey(
      toSigningKeyRecord(extra, { encryptionKey, createdAt: clock(), activatesAt: clock() + MINUTE }),
    );
    await keyring.maintain();
    expect((await storedKeys(store)).get(first)).toMatchObject({ retiredAt: clock() + MINUTE });
    clock.advance(MINUTE);
    expect(keyring.signingKey().kid).toBe(extra.kid);
  });

  it('a wrong encryption key fails clearly at init', async () => {
    const { keyring, store, clock } = setup(await open());
    await keyring.init();
    const kid = keyring.signingKey().kid;
    const wrong = setup(
      store,
      { encryptionKey: deriveKey(Buffer.from('a different master secret, long enough'), 'signing-keys') },
      clock,
    );
    const failure = wrong.keyring.init();
    await expect(failure).rejects.toBeInstanceOf(LatchkeyError);
    await expect(failure).rejects.toMatchObject({
      code: 'config_invalid',
      message: `cannot decrypt signing key ${kid}: wrong LATCHKEY_SECRET?`,
    });
    expect(() => wrong.keyring.signingKey()).toThrow(LatchkeyError);
  });

  it('keyrings starting concurrently on one store create exactly one key', async () => {
    const store = await open();
    const clock = createManualClock();
    const nodes = Array.from({ length: 5 }, () => setup(store, {}, clock));
    await Promise.all(nodes.map((n) => n.keyring.init()));
    expect((await storedKeys(store)).size).toBe(1);
    const kids = new Set(nodes.map((n) => n.keyring.signingKey().kid));
    expect(kids.size).toBe(1);
    // Each node verifies the others' tokens.
    const token = nodes[0]?.sign() ?? '';
    for (const n of nodes) expect(n.verifier.verify(token).claims.sub).toBe('user-1');
  });
}

describe('keyring lifecycle (fake store)', () => {
  lifecycleTests(() => Promise.resolve(createFakeStore()));
});

describeEachStore('keyring lifecycle', stores, (factory) => {
  const opened: Store[] = [];
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
  });
  lifecycleTests(async () => {
    const store = await factory.open();
    opened.push(store);
    return store;
  });
});

describe('jwks', () => {
  it.each([
    ['EdDSA', ['alg', 'crv', 'kid', 'kty', 'use', 'x']],
    ['ES256', ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']],
    ['RS256', ['alg', 'e', 'kid', 'kty', 'n', 'use']],
  ] as const)('%s: only public members, kid, use and alg', async (alg, members) => {
    const { keyring } = setup(createFakeStore(), { algorithm: alg });
    await keyring.init();
    const { keys } = keyring.jwks();
    expect(keys).toHaveLength(1);
    expect(Object.keys(keys[0] ?? {}).sort()).toEqual(members);
    expect(keys[0]).toMatchObject({ alg, use: 'sig', kid: keyring.signingKey().kid });
    // A copy: callers cannot change the keyring's JWKS.
    (keys[0] as { kid: string }).kid = 'changed';
    expect(keyring.jwks().keys[0]?.kid).toBe(keyring.signingKey().kid);
  });

  it('HS256 keys sign and verify but never appear in the JWKS', async () => {
    const { keyring, verifier, sign } = setup(createFakeStore(), { algorithm: 'HS256' });
    await keyring.init();
    expect(keyring.jwks()).toEqual({ keys: [] });
    expect(verifier.verify(sign()).header.alg).toBe('HS256');
  });

  it('switching the configured algorithm creates a key of the new algorithm at once', async () => {
    const { keyring, store, clock, sign } = setup(createFakeStore(), { algorithm: 'EdDSA' });
    await keyring.init();
    const edToken = sign();
    const es = setup(store, { algorithm: 'ES256' }, clock);
    await es.keyring.init();
    expect(es.keyring.signingKey().alg).toBe('ES256');
    expect((await storedKeys(store)).size).toBe(2);
    expect(
      es.keyring
        .jwks()
        .keys.map((k) => k.alg)
        .sort(),
    ).toEqual(['ES256', 'EdDSA']);
    // The EdDSA key is retired, still resolvable for its outstanding tokens.
    expect(es.keyring.resolveVerificationKey(kidOf(edToken))?.alg).toBe('EdDSA');
  });
});
