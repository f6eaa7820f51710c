/**
 * How many store calls each request makes, counted on a real memory store wrapped in a proxy.
 * A request reads each record at most once: the cookie `GET /v1/me` reads the session and its
 * user in one call (`getSessionWithUser`: one round trip on Redis and SQL); the hybrid
 * `POST /v1/refresh` reads the refresh token, its session and the user. The near cache is off,
 * so every read reaches the store. A due sliding-expiry write is sent, never waited for.
 *
 * Throttling: a login without a device cookie reads its three locks (account and source,
 * address, account ceiling), concurrently; a refresh counts itself against its client and its
 * family (two increments, each alongside a read). A successful authenticated request counts
 * nothing: only failed credentials are counted.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, json, PASSWORD, setCookies, signup, type TestApp } from '../helpers/app.js';

interface CountingStore {
  store: Store;
  calls: Map<string, number>;
  /** The calls since the last `take()`, as a plain object sorted by method name. */
  take(): Record<string, number>;
}

function countingStore(inner: Store): CountingStore {
  const calls = new Map<string, number>();
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]): unknown => {
        calls.set(property, (calls.get(property) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    store,
    calls,
    take() {
      const taken = Object.fromEntries([...calls.entries()].sort(([a], [b]) => a.localeCompare(b)));
      calls.clear();
      return taken;
    },
  };
}

/** Shorter than the keyring's reload (a minute), so that moving the clock past it reloads no keys. */
const TOUCH_INTERVAL = 10_000;

describe('store calls per request (near cache off)', () => {
  let t: TestApp;
  let counting: CountingStore;

  beforeEach(async () => {
    counting = countingStore(createMemoryStore());
    t = await createTestApp({
      store: counting.store,
      config: { sessionCache: 0, sessionTouchInterval: TOUCH_INTERVAL },
    });
    await signup(t.app, 'alice@example.com');
    counting.take();
  });

  afterEach(async () => {
    await t.close();
  });

  async function login(mode: 'cookie' | 'token' | 'hybrid'): Promise<LightMyRequestResponse> {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: PASSWORD, mode },
    });
    expect(response.statusCode).toBe(200);
    return response;
  }

  it('cookie mode: login, GET /v1/me, logout', async () => {
    const response = await login('cookie');
    // The login reads the account's second factors once (none here: no challenge), and its
    // security event is kept in the audit trail.
    expect(counting.take()).toEqual({
      addAuditRecord: 1,
      createSession: 1,
      getCounter: 3,
      getUserByEmail: 1,
      listFactors: 1,
    });
    const cookie = `__Host-latchkey_session=${setCookies(response).get('__Host-latchkey_session')?.value ?? ''}`;
    const csrf = json<{ csrf_token: string }>(response).csrf_token;

    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie } });
    expect(me.statusCode).toBe(200);
    // Within the touch interval nothing is written.
    expect(counting.take()).toEqual({ getSessionWithUser: 1 });

    t.clock.advance(TOUCH_INTERVAL);
    expect((await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie } })).statusCode).toBe(200);
    expect(counting.take()).toEqual({ getSessionWithUser: 1, touchSession: 1 });

    const logout = await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(logout.statusCode).toBe(204);
    expect(counting.take()).toEqual({
      addAuditRecord: 1,
      addRevocation: 1,
      getSessionWithUser: 1,
      revokeSession: 1,
    });
  });

  it('hybrid mode: POST /v1/refresh reads the token, the session and the user once each', async () => {
    const response = await login('hybrid');
    expect(counting.take()).toEqual({
      addAuditRecord: 1,
      createRefreshToken: 1,
      createSession: 1,
      getCounter: 3,
      getUserByEmail: 1,
      listFactors: 1,
    });
    const refreshCookie = setCookies(response).get('__Secure-latchkey_refresh')?.value ?? '';
    const csrf = json<{ csrf_token: string }>(response).csrf_token;

    t.clock.advance(TOUCH_INTERVAL);
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      headers: { cookie: `__Secure-latchkey_refresh=${refreshCookie}`, 'x-csrf-token': csrf },
    });
    expect(refresh.statusCode).toBe(200);
    expect(counting.take()).toEqual({
      getRefreshToken: 1,
      getSession: 1,
      getUserById: 1,
      increment: 2,
      rotateRefreshToken: 1,
      touchSession: 1,
    });
  });

  it('token mode: POST /v1/refresh from the body, the same reads and writes', async () => {
    const response = await login('token');
    const { refresh_token: token } = json<{ refresh_token: string }>(response);
    counting.take();
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      payload: { refresh_token: token },
    });
    expect(refresh.statusCode).toBe(200);
    expect(counting.take()).toEqual({
      getRefreshToken: 1,
      getSession: 1,
      getUserById: 1,
      increment: 2,
      rotateRefreshToken: 1,
    });
  });

  it('a refused hybrid refresh (no CSRF token) reads only the token and changes nothing but its client count', async () => {
    const response = await login('hybrid');
    const refreshCookie = setCookies(response).get('__Secure-latchkey_refresh')?.value ?? '';
    counting.take();
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      headers: { cookie: `__Secure-latchkey_refresh=${refreshCookie}` },
    });
    expect(refresh.statusCode).toBe(403);
    expect(json(refresh)).toMatchObject({ code: 'csrf_failed' });
    expect(counting.take()).toEqual({ getRefreshToken: 1, increment: 1 });
  });
});

describe('the sliding-expiry write and stores without getSessionWithUser', () => {
  async function cookieOf(t: TestApp): Promise<string> {
    await signup(t.app, 'bob@example.com');
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'bob@example.com', password: PASSWORD, mode: 'cookie' },
    });
    expect(response.statusCode).toBe(200);
    return `__Host-latchkey_session=${setCookies(response).get('__Host-latchkey_session')?.value ?? ''}`;
  }

  it('answers without waiting for the sliding-expiry write, and sends one write at a time', async () => {
    const inner = createMemoryStore();
    let touches = 0;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    // A store whose touch hangs until released: a request that waited for it would never answer.
    const store: Store = {
      ...inner,
      touchSession: async (id, update) => {
        touches += 1;
        await held;
        return inner.touchSession(id, update);
      },
    };
    const t = await createTestApp({
      store,
      config: { sessionCache: 0, sessionTouchInterval: TOUCH_INTERVAL },
    });
    try {
      const cookie = await cookieOf(t);
      t.clock.advance(TOUCH_INTERVAL);
      for (let i = 0; i < 3; i += 1) {
        const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie } });
        expect(me.statusCode).toBe(200);
      }
      expect(touches).toBe(1);
      release();
      await held;
      await new Promise((resolve) => setImmediate(resolve));
      // Once written, the next request finds nothing due.
      const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie } });
      expect(me.statusCode).toBe(200);
      expect(touches).toBe(1);
    } finally {
      await t.close();
    }
  });

  it('reads the session then its user on a store without getSessionWithUser', async () => {
    const withoutIt: Store = { ...createMemoryStore() };
    delete withoutIt.getSessionWithUser;
    const counting = countingStore(withoutIt);
    const t = await createTestApp({ store: counting.store, config: { sessionCache: 0 } });
    try {
      const cookie = await cookieOf(t);
      counting.take();
      const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie } });
      expect(me.statusCode).toBe(200);
      expect(counting.take()).toEqual({ getSession: 1, getUserById: 1 });
    } finally {
      await t.close();
    }
  });
});
