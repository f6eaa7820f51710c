/**
 * The in-memory store: one process, no persistence. For tests, development and single-node demos.
 *
 * Every method does its reads and writes synchronously (no `await` in between), so each call is
 * atomic in single-threaded JavaScript. Records are copied on the way in and on the way out: a
 * caller can never mutate the store's state through a returned object.
 *
 * Each record kind lives in its own module (`users.ts`, `sessions.ts`, ...) with its own state;
 * sessions and refresh tokens share theirs (`session-state.ts`) because a session sweep drops
 * its refresh tokens. All of them run through one gate (`runner.ts`), which `close()` shuts.
 */

import type { Store } from '../../store.js';
import { createMemoryAudit } from './audit.js';
import { createMemoryClients } from './clients.js';
import { createMemoryCounters } from './counters.js';
import { createMemoryFactors } from './factors.js';
import { createMemoryMails } from './mails.js';
import { createMemoryOneTimeTokens } from './one-time-tokens.js';
import { createMemoryPasskeys } from './passkeys.js';
import { createMemoryRefreshTokens } from './refresh-tokens.js';
import { createMemoryRevocations } from './revocations.js';
import { createMemoryRunner } from './runner.js';
import { createSessionState } from './session-state.js';
import { createMemorySessions } from './sessions.js';
import { createMemorySigningKeys } from './signing-keys.js';
import { createMemoryUsers } from './users.js';
import { createMemoryWebhooks } from './webhooks.js';

/**
 * Creates an empty in-memory store (`kind: 'memory'`).
 *
 * Conventions shared with the SQL store: a record is expired at `now` when its expiry is
 * `<= now`; duplicate ids and kids reject with `LatchkeyError('internal_error')`; sessions are
 * listed newest first (`createdAt` desc, then `id` desc); keys by `createdAt`, then `kid`.
 * After `close()` every method rejects with `store_unavailable`.
 *
 * No method uses `this`: they may be called detached (tests forward to them through a proxy).
 *
 * @example
 * const store = createMemoryStore();
 * await store.createUser(user);
 */
export function createMemoryStore(): Store {
  const runner = createMemoryRunner();
  const { run } = runner;
  const sessionState = createSessionState();
  const users = createMemoryUsers(run);
  const sessions = createMemorySessions(sessionState, run);
  const oneTimeTokens = createMemoryOneTimeTokens(run);

  return {
    kind: 'memory',

    ping(): Promise<void> {
      return run(() => undefined);
    },

    close(): Promise<void> {
      runner.close();
      return Promise.resolve();
    },

    ...users,
    ...sessions,
    async getSessionWithUser(id) {
      const session = await sessions.getSession(id);
      return session === null ? null : { session, user: await users.getUserById(session.userId) };
    },
    ...createMemoryRefreshTokens(sessionState, run),
    ...createMemorySigningKeys(run),
    ...createMemoryRevocations(run),
    ...createMemoryClients(run),
    ...createMemoryCounters(run),
    ...oneTimeTokens.store,
    ...createMemoryFactors(run),
    ...createMemoryPasskeys(run),
    ...createMemoryMails(run, oneTimeTokens.writes),
    ...createMemoryAudit(run),
    ...createMemoryWebhooks(run),
  };
}
