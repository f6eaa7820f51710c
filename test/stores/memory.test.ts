import { describe, expect, it } from 'vitest';
import { LatchkeyError } from '../../src/errors.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import type { Store } from '../../src/stores/types.js';
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
});
