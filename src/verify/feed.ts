/**
 * The contract between the verifier and a revocation transport (SSE today; Redis pub/sub and
 * Postgres LISTEN/NOTIFY can plug in without touching the verifier).
 *
 * A transport's whole job: deliver every live revocation record at least once, and say
 * honestly whether it is up to date. The verifier owns the list, the staleness rule and the
 * decision to fail closed.
 */

import type { RevocationRecord } from '../records.js';

/**
 * Where a transport stands:
 * - `connecting`: (re)connecting; nothing new is arriving;
 * - `live`: the backlog (snapshot, or everything since the resume position) has been applied
 *   and new records are being pushed. Report `live` again on every sign of life (a heartbeat):
 *   the verifier counts it as contact;
 * - `disconnected`: the connection dropped or failed; `reason` is for health output and logs
 *   and must not contain a credential.
 */
export type RevocationFeedState =
  | { readonly status: 'connecting' }
  | { readonly status: 'live' }
  | { readonly status: 'disconnected'; readonly reason: string };

/**
 * A revocation transport.
 *
 * Rules for implementations:
 * 1. `start` is called once and returns at once; the work runs in the background. It must
 *    never throw later: failures become `disconnected` states and reconnections.
 * 2. Deliver through `apply` every live record made since the last position you reached
 *    (`seq`), in any order and possibly twice: `apply` is idempotent. A cold start delivers
 *    every live record (a snapshot) before reporting `live`.
 * 3. After a disconnection, resume from your own last position (as SSE does with
 *    `Last-Event-ID`), or replay a snapshot; report `live` only once caught up.
 * 4. Reconnect by yourself, with backoff, until `close()`.
 * 5. `close()` stops everything (sockets, timers) and resolves when done; no `apply` or
 *    `onState` call may happen after it resolves.
 *
 * @example
 * const feed: RevocationFeed = {
 *   start(apply, onState) {
 *     subscriber.on('message', (_channel, message) => apply(parseWireRevocation(JSON.parse(message))!));
 *     onState({ status: 'live' });
 *   },
 *   async close() { await subscriber.quit(); },
 * };
 * @see ./sse-feed.ts the HTTP transport
 */
export interface RevocationFeed {
  start(apply: (record: RevocationRecord) => void, onState: (state: RevocationFeedState) => void): void;
  close(): Promise<void>;
}
