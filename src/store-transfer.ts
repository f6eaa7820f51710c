/**
 * What moving a deployment to another store (`latchkey copy`) needs from a store beyond the
 * contract of `./store.ts`: reading out every session and every refresh token, which no request
 * ever does, and writing a revocation with the `seq` it already has, so that the position a
 * resource service holds in the revocation feed stays valid on the new store.
 *
 * It is a separate, narrow interface so that the request path never sees it. Each backend
 * implements it in its own module (`stores/sql/transfer.ts`, `stores/redis/transfer.ts`) and
 * attaches it to the `Store` it builds with {@link withStoreTransfer}; a composite store passes
 * on its hot store's (sessions, refresh tokens and revocations live there). The copy itself is
 * composition-root code: `app/copy.ts`.
 */

import type { RefreshTokenRecord, RevocationRecord, SessionRecord } from './records.js';
import type { Store } from './store.js';

/** One page of an export: the records, and where the next page starts (null: there is none). */
export interface ExportPage<T> {
  records: T[];
  cursor: string | null;
}

/** The outcome of writing one record that may already be there. */
export type ImportOutcome = 'created' | 'present' | 'conflict';

export interface StoreTransfer {
  /**
   * Every session the store holds (live or not), a page of at most about `limit` at a time:
   * start with `cursor: null`, pass each page's `cursor` to get the next, stop when it is null.
   * Memory stays bounded by one page whatever the number of sessions. A session may appear in
   * two pages (Redis scans); callers tolerate it.
   */
  exportSessions(options: { cursor: string | null; limit: number }): Promise<ExportPage<SessionRecord>>;
  /** Every refresh token (rotated ones too) of these sessions; at most 500 ids per call. */
  exportRefreshTokens(sessionIds: readonly string[]): Promise<RefreshTokenRecord[]>;
  /**
   * Stores a revocation under its own `seq`, and makes every later `addRevocation` take a larger
   * one. `present` when a revocation with this seq holds the same record, `conflict` when it
   * holds another (nothing is written then).
   */
  importRevocation(record: RevocationRecord): Promise<ImportOutcome>;
}

/** Where a store keeps its transfer methods: a symbol, so that it survives an object spread. */
const TRANSFER = Symbol('latchkey.storeTransfer');

type WithTransfer = { [TRANSFER]?: StoreTransfer };

/**
 * Attaches `transfer` to `store` (in place) and returns it: the one line each backend's
 * `index.ts` adds.
 *
 * @example
 * return withStoreTransfer(store, createSqlTransfer(context));
 */
export function withStoreTransfer<S extends Store>(store: S, transfer: StoreTransfer | null): S {
  if (transfer !== null) (store as S & WithTransfer)[TRANSFER] = transfer;
  return store;
}

/**
 * The transfer methods of a store, or null when its backend has none (the memory store).
 *
 * @example
 * const transfer = storeTransferOf(store);
 * if (transfer === null) throw new Error(`${store.kind} cannot be copied`);
 */
export function storeTransferOf(store: Store): StoreTransfer | null {
  return (store as Store & WithTransfer)[TRANSFER] ?? null;
}
