import { describe, expect, it } from 'vitest';
import { LatchkeyError } from '../../src/errors.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import type { Store } from '../../src/store.js';
import { describeStoreConformance } from './conformance.js';

// The memory store has no "truncate": each test gets a fresh one behind this proxy. (Its
// methods do not use `this`, so they need no binding.)
let current: Store = createMemoryStore();
const proxy = new Proxy({} as Store, {
  get: (_target, property): unknown => Reflect.get(current, property),
});

describeStoreConformance('memory', {
  open: () => Promise.resolve(proxy),
  reset: () => {
    current = createMemoryStore();
    return Promise.resolve();
  },
  close: (store) => store.close(),
});

describe('memory store', () => {
  it('has kind "memory"', () => {
    expect(createMemoryStore().kind).toBe('memory');
  });

  it('rejects with store_unavailable once closed', async () => {
    const store = createMemoryStore();
    await store.close();
    await expect(store.ping()).rejects.toBeInstanceOf(LatchkeyError);
    await expect(store.getUserById('x')).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(store.close()).resolves.toBeUndefined();
  });

  it('rejects every method, of every record kind, once closed', async () => {
    const store = createMemoryStore();
    await store.close();
    const methods = Object.entries(store).filter(
      (entry): entry is [string, (...args: unknown[]) => Promise<unknown>] =>
        typeof entry[1] === 'function' && entry[0] !== 'close',
    );
    expect(methods.length).toBeGreaterThan(30);
    for (const [name, method] of methods) {
      await expect(method('x', 'y', 0), name).rejects.toMatchObject({ code: 'store_unavailable' });
    }
  });

  it('copies one-time tokens in and out', async () => {
    const store = createMemoryStore();
    const token = { id: 't1', purpose: 'p', subject: 's', data: null, createdAt: 0, expiresAt: 10 };
    await store.putOneTimeToken(token);
    token.purpose = 'other';
    const consumed = await store.consumeOneTimeToken('t1', 'p', 0);
    expect(consumed).toEqual({ ...token, purpose: 'p' });
  });

  it('keeps subject and purpose apart in its index, whatever characters they hold', async () => {
    const store = createMemoryStore();
    const base = { data: null, createdAt: 0, expiresAt: 10 };
    await store.putOneTimeToken({ ...base, id: 't1', subject: 'a:b', purpose: 'c' });
    await store.putOneTimeToken({ ...base, id: 't2', subject: 'a', purpose: 'b:c' });
    expect(await store.deleteOneTimeTokens('a', 'b:c')).toBe(1);
    expect(await store.consumeOneTimeToken('t1', 'c', 0)).not.toBeNull();
  });
});
