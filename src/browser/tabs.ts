/**
 * What the tabs of one origin share: a channel for state messages (BroadcastChannel, or the
 * `storage` event where it is missing), Web Locks (single-flight refresh, one leader), and the
 * hybrid marker in localStorage (the CSRF token and the access token's expiry, so that a reload
 * or a new tab finds the session; never a token).
 */

import type { Credentials } from './types.js';

export type TabMessage =
  | { type: 'hello'; from: string }
  | { type: 'state'; from: string; reason: 'login' | 'refresh' | 'sync'; credentials: Credentials }
  | { type: 'signed-out'; from: string; version: number; reason: 'logout' | 'revoked' };

export interface Messenger {
  kind: 'broadcast-channel' | 'storage-event' | 'none';
  post(message: TabMessage): void;
  close(): void;
}

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

/** Without BroadcastChannel, messages go through localStorage: tokens are stripped first. */
function withoutTokens(message: TabMessage): TabMessage {
  if (message.type !== 'state') return message;
  return { ...message, credentials: { ...message.credentials, accessToken: null, refreshToken: null } };
}

export function openMessenger(name: string, onMessage: (message: TabMessage) => void): Messenger {
  if (typeof BroadcastChannel === 'function') {
    const channel = new BroadcastChannel(name);
    channel.onmessage = (event: MessageEvent<TabMessage>) => onMessage(event.data);
    return {
      kind: 'broadcast-channel',
      post: (message) => channel.postMessage(message),
      close: () => channel.close(),
    };
  }
  const store = storage();
  if (store === null || typeof addEventListener !== 'function') {
    return { kind: 'none', post: () => undefined, close: () => undefined };
  }
  const key = `${name}:message`;
  const listener = (event: StorageEvent): void => {
    if (event.key !== key || event.newValue === null) return;
    try {
      onMessage((JSON.parse(event.newValue) as { message: TabMessage }).message);
    } catch {
      // Not ours, or damaged: ignored.
    }
  };
  addEventListener('storage', listener);
  return {
    kind: 'storage-event',
    post(message) {
      // A nonce makes every write a change, so that the same message twice fires twice.
      const nonce = Math.random().toString(36).slice(2);
      try {
        store.setItem(key, JSON.stringify({ message: withoutTokens(message), nonce }));
      } catch {
        // Storage full or refused: the other tabs catch up at their next request.
      }
    },
    close: () => removeEventListener('storage', listener),
  };
}

export function hasLocks(): boolean {
  return typeof navigator !== 'undefined' && typeof navigator.locks?.request === 'function';
}

/** Runs `task` holding the exclusive lock `name` across the origin's tabs (alone where Web Locks are missing). */
export async function withLock<T>(name: string, task: () => Promise<T>): Promise<T> {
  if (!hasLocks()) return task();
  return navigator.locks.request(name, task);
}

/**
 * Queues for the lock `name` and holds it until released: the tab holding it is the leader.
 * Returns the release (which also leaves the queue).
 */
export function requestLeadership(name: string, onGranted: () => void): () => void {
  if (!hasLocks()) {
    onGranted();
    return () => undefined;
  }
  const abort = new AbortController();
  let release = (): void => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  navigator.locks
    .request(name, { signal: abort.signal }, () => {
      onGranted();
      return held;
    })
    .catch(() => undefined);
  return () => {
    abort.abort();
    release();
  };
}

/** The hybrid marker: what a reload needs to find the session (no token). */
export interface HybridMarker {
  version: number;
  issuedAt: number;
  expiresAt: number;
  csrf: string;
}

export function readMarker(key: string): HybridMarker | null {
  try {
    const text = storage()?.getItem(key) ?? null;
    if (text === null) return null;
    const value = JSON.parse(text) as Partial<HybridMarker>;
    const { version, issuedAt, expiresAt, csrf } = value;
    if (typeof version !== 'number' || typeof issuedAt !== 'number') return null;
    if (typeof expiresAt !== 'number' || typeof csrf !== 'string') return null;
    return { version, issuedAt, expiresAt, csrf };
  } catch {
    return null;
  }
}

export function writeMarker(key: string, marker: HybridMarker | null): void {
  try {
    if (marker === null) storage()?.removeItem(key);
    else storage()?.setItem(key, JSON.stringify(marker));
  } catch {
    // Refused (private mode, quota): a reload then starts signed out.
  }
}

const VERSION_LOCK = ':version:';

/**
 * Records in the lock manager that the refresh of `version` happened, by holding a lock named
 * after it until `release`. The lock manager is one place for all tabs: a tab granted the refresh
 * lock next sees this mark in `latestRefreshVersion`, even if the refresher's message is still on
 * its way, and so never sends a refresh token that was just rotated.
 */
export async function markRefreshVersion(name: string, version: number): Promise<() => void> {
  if (!hasLocks()) return () => undefined;
  let release = (): void => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  await new Promise<void>((granted) => {
    navigator.locks
      // Shared: never waits, even if another tab marked the same number.
      .request(`${name}${VERSION_LOCK}${version}`, { mode: 'shared' }, () => {
        granted();
        return held;
      })
      .catch(() => granted());
  });
  return release;
}

/** The highest version marked by `markRefreshVersion` in any live tab (-1 for none). */
export async function latestRefreshVersion(name: string): Promise<number> {
  if (!hasLocks()) return -1;
  const prefix = `${name}${VERSION_LOCK}`;
  const snapshot = await navigator.locks.query();
  let latest = -1;
  for (const lock of snapshot.held ?? []) {
    if (lock.name?.startsWith(prefix) === true)
      latest = Math.max(latest, Number(lock.name.slice(prefix.length)));
  }
  return latest;
}
