/** The client's state as a UI (or `/lab`) sees it, and the delivery of change events. */

import { decodeJWT } from './jwt.js';
import { hasLocks } from './tabs.js';
import type { ChangeReason, ClientMode, ClientState, ClientStatus, Credentials } from './types.js';

export type ChangeListener = (state: ClientState, reason: ChangeReason) => void;

/**
 * How long before the access token ends the leader refreshes it: a minute, or half the lifetime
 * of a shorter-lived token (so that a late timer still has room).
 */
export function marginOf(credentials: Credentials): number {
  return Math.min(60_000, (credentials.expiresAt - credentials.issuedAt) / 2);
}

export function describeState(input: {
  mode: ClientMode;
  status: ClientStatus;
  credentials: Credentials | null;
  version: number;
  tab: ClientState['tab'];
  channel: ClientState['sync']['channel'];
  refreshes: ClientState['refreshes'];
}): ClientState {
  const held = input.credentials;
  const decoded = held?.accessToken ? decodeJWT(held.accessToken) : null;
  const storage = input.mode === 'token' ? 'memory' : 'httponly-cookie';
  return {
    mode: input.mode,
    status: input.status,
    user: held?.user ?? null,
    session: held?.session ?? null,
    accessToken:
      held === null
        ? null
        : {
            storage,
            issuedAt: held.issuedAt,
            expiresAt: held.expiresAt,
            header: decoded?.header ?? null,
            claims: decoded?.claims ?? null,
          },
    refreshToken: held === null ? null : { storage },
    csrfToken: held?.csrf ? { storage: 'localStorage' } : null,
    version: input.version,
    tab: { ...input.tab },
    sync: { locks: hasLocks(), channel: input.channel },
    refreshes: { ...input.refreshes },
  };
}

/** Calls every listener; one that throws does not stop the others (its error is reported apart). */
export function notify(listeners: Iterable<ChangeListener>, state: ClientState, reason: ChangeReason): void {
  for (const listener of listeners) {
    try {
      listener(state, reason);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}

/** Resolves true once `condition` holds (checked every 10 ms), false after `ms`. */
export async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
