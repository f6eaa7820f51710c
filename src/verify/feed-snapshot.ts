/**
 * The snapshot a pub/sub feed catches up from on every (re)connection (pub/sub is
 * fire-and-forget: a record published while nobody listens is lost), and its HTTP source, the
 * auth server's `GET /v1/revocations/snapshot?after=N`.
 *
 * @see ./pubsub-feed.ts the engine that reads it
 * @see ./feed-catch-up.ts how it is applied
 */

import { parseWireRevocation } from '../revocation/revocation-list.js';
import type { RevocationRecord } from '../records.js';

/** What a `snapshot` function returns: every live record after the position asked for. */
export interface RevocationSnapshot {
  /** Every live record with `seq > afterSeq` (all live records when `afterSeq` is undefined). */
  readonly records: readonly RevocationRecord[];
  /** The position the snapshot covers: the highest seq it saw, or `afterSeq` when none. */
  readonly lastSeq: number;
}

/**
 * Reads the records a feed may have missed: e.g. the server's
 * `GET /v1/revocations/snapshot?after=N` ({@link createHTTPRevocationSnapshot}), or a direct
 * read of the store (`store.listRevocations({ now, afterSeq })`).
 */
export type RevocationSnapshotFunction = (afterSeq?: number) => Promise<RevocationSnapshot>;

/**
 * A `snapshot` function over the auth server's `GET /v1/revocations/snapshot?after=N`.
 *
 * @example
 * const snapshot = createHTTPRevocationSnapshot({ url: 'https://auth.example.com/v1/revocations/snapshot' });
 * const feed = createRedisRevocationFeed({ url: process.env.REDIS_URL, channel: 'latchkey:revocations', snapshot });
 */
export function createHTTPRevocationSnapshot(options: {
  /** The snapshot endpoint, e.g. `https://auth.example.com/v1/revocations/snapshot`. */
  url: string | URL;
  fetch?: typeof fetch;
  /** Extra request headers (credentials for the feed); a function is called per request. */
  headers?: Readonly<Record<string, string>> | (() => Readonly<Record<string, string>>);
}): RevocationSnapshotFunction {
  const base = new URL(options.url);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  return async (afterSeq) => {
    const url = new URL(base);
    if (afterSeq !== undefined) url.searchParams.set('after', String(afterSeq));
    const extra = typeof options.headers === 'function' ? options.headers() : (options.headers ?? {});
    const response = await fetchImpl(url, {
      headers: { ...extra, accept: 'application/json', 'cache-control': 'no-store' },
      redirect: 'error',
    });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new Error(`snapshot answered ${response.status}`);
    }
    const body = (await response.json()) as { records?: unknown; last_seq?: unknown };
    if (!Array.isArray(body.records) || typeof body.last_seq !== 'number') {
      throw new Error('snapshot sent a malformed document');
    }
    const records: RevocationRecord[] = [];
    for (const item of body.records as unknown[]) {
      const record = parseWireRevocation(item);
      if (record === null) throw new Error('snapshot sent a malformed revocation');
      records.push(record);
    }
    return { records, lastSeq: body.last_seq };
  };
}
