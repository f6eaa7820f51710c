/**
 * Measuring wrappers: a store whose every call is timed (`latchkey_store_call_duration_seconds`
 * by store kind and method name), and a password hasher whose argon2 work is timed. Used only
 * when metrics are on; the label objects are made once per method, not per call.
 */

import type { PasswordHasher } from '../password/hash.js';
import type { Store } from '../store.js';
import type { LatchkeyMetrics } from './metrics.js';

type Method = (...args: unknown[]) => unknown;

const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

function isPromise(value: unknown): value is Promise<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as Promise<unknown>).then === 'function'
  );
}

/**
 * The store, each of its methods timed. A new signing key (`insertKey`) also counts as a key
 * rotation; every other property (`kind`, ...) passes through.
 *
 * @example
 * const store = measureStore(await openStore(config), metrics);
 */
export function measureStore(store: Store, metrics: LatchkeyMetrics): Store {
  const wrapped = new Map<PropertyKey, Method>();
  const kind = store.kind;
  const measure = (operation: string, method: Method): Method => {
    const timer = metrics.storeDuration.labels({ store: kind, operation });
    const labels = { store: kind, operation };
    const done = (start: bigint): void => {
      timer.observe(seconds(start));
      if (operation === 'insertKey') metrics.keyRotations.inc();
    };
    const failed = (error: unknown): never => {
      metrics.storeErrors.inc(labels);
      throw error;
    };
    return function (this: unknown): unknown {
      const start = process.hrtime.bigint();
      let result: unknown;
      try {
        // eslint-disable-next-line prefer-rest-params
        result = Reflect.apply(method, store, arguments);
      } catch (error) {
        return failed(error);
      }
      if (!isPromise(result)) {
        done(start);
        return result;
      }
      return result.then((value) => {
        done(start);
        return value;
      }, failed);
    };
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      let method = wrapped.get(property);
      if (method === undefined) {
        method = measure(property, value as Method);
        wrapped.set(property, method);
      }
      return method;
    },
  });
}

/**
 * The hasher, its `hash`, `verify` and `verifyDummy` timed (`latchkey_password_hash_duration_seconds`).
 *
 * @example
 * const hasher = measureHasher(createPasswordHasher(), metrics);
 */
export function measureHasher(hasher: PasswordHasher, metrics: LatchkeyMetrics): PasswordHasher {
  const timers = {
    hash: metrics.passwordHashDuration.labels({ operation: 'hash' }),
    verify: metrics.passwordHashDuration.labels({ operation: 'verify' }),
    verifyDummy: metrics.passwordHashDuration.labels({ operation: 'verify_dummy' }),
  };
  const timed = async <T>(timer: { observe(value: number): void }, work: () => Promise<T>): Promise<T> => {
    const start = process.hrtime.bigint();
    try {
      return await work();
    } finally {
      timer.observe(seconds(start));
    }
  };
  return {
    ...hasher,
    hash: (password) => timed(timers.hash, () => hasher.hash(password)),
    verify: (passwordHash, password) => timed(timers.verify, () => hasher.verify(passwordHash, password)),
    verifyDummy: (password) => timed(timers.verifyDummy, () => hasher.verifyDummy(password)),
    needsRehash: (passwordHash) => hasher.needsRehash(passwordHash),
  };
}
