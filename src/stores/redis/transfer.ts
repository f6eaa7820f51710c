/**
 * The transfer methods of the Redis store (`../../store-transfer.ts`).
 *
 * - Sessions are found through the sweep index, which holds the id of every session until the
 *   sweep removes it: its buckets `P:{sweep:<n>}:sessions` (each read whole, a page of buckets
 *   at a time; one key per command, so on a Cluster too), then the single `P:{sweep}:sessions`
 *   of earlier versions, walked with `ZSCAN`, which may return an id twice. Each session is
 *   read from its own key.
 * - The refresh tokens of a session are read wherever they are kept (folded into the session,
 *   or its hash `P:{s:<sid>}:rt`, `./refresh-token-scripts.ts`) as the fields of a hash (a chain's
 *   retired tokens, `P:{rt:<id>}:r`, are not copied: they are only kept to recognise reuse).
 * - A revocation with its seq is one script on the `{rev}` slot (`./transfer-scripts.ts`).
 */

import type { RefreshTokenRecord, RevocationRecord, SessionRecord } from '../../records.js';
import type { ImportOutcome, StoreTransfer } from '../../store-transfer.js';
import { malformed } from './codec.js';
import { mapInChunks, type RedisContext } from './context.js';
import { decodeRefreshToken, readTokenFields } from './refresh-tokens.js';
import { sweepBucket, SWEEP_BUCKETS } from './keys.js';
import { decodeSessions } from './sessions.js';
import { importRevocation } from './transfer-scripts.js';

/** The tokens stored in one session's hash (`t:<id>`, `c:<id>`, `r:<id>` fields). */
function tokensOfHash(sessionId: string, hash: Record<string, string>): RefreshTokenRecord[] {
  const tokens: RefreshTokenRecord[] = [];
  for (const [field, secretHash] of Object.entries(hash)) {
    if (!field.startsWith('t:')) continue;
    const id = field.slice(2);
    tokens.push(
      decodeRefreshToken(id, sessionId, {
        secretHash,
        times: hash[`c:${id}`] ?? null,
        rotation: hash[`r:${id}`] ?? null,
      }),
    );
  }
  return tokens;
}

/** The JSON the store keeps in the revocation log (the shape `addRevocation` writes). */
function revocationJSON(record: RevocationRecord): string {
  return JSON.stringify({
    seq: record.seq,
    kind: record.kind,
    subject: record.subject,
    issuedBefore: record.issuedBefore,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
  });
}

function sameRevocationJSON(stored: string, record: RevocationRecord): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    throw malformed('revocation');
  }
  return JSON.stringify(parsed) === revocationJSON(record);
}

/** Sweep buckets read per page of {@link exportSessions}. */
const BUCKETS_PER_PAGE = 256;

/** The ids of one page of every session, and the cursor of the next page (see below). */
async function sessionIdsPage(
  context: RedisContext,
  cursor: string,
  limit: number,
): Promise<{ ids: string[]; next: string | null }> {
  const { client, keys } = context;
  if (cursor.startsWith('b')) {
    // A page of buckets (each small: read whole), then the index of earlier versions.
    const first = Number(cursor.slice(1));
    const last = Math.min(first + BUCKETS_PER_PAGE, SWEEP_BUCKETS);
    const buckets = Array.from({ length: last - first }, (_, i) => keys.sweepBucket(first + i));
    const ids = (await mapInChunks(buckets, (key) => client.zrange(key, 0, -1))).flat();
    return { ids, next: last < SWEEP_BUCKETS ? `b${last}` : 'l0' };
  }
  const [next, flat] = await client.zscan(keys.sweep, cursor.slice(1), 'COUNT', limit);
  const listed = flat.filter((_member, index) => index % 2 === 0);
  // A session of the old index whose score was lowered since is in its bucket too: listed there.
  const inBucket = await mapInChunks(listed, (id) => client.zscore(keys.sweepBucket(sweepBucket(id)), id));
  return { ids: listed.filter((_, i) => inBucket[i] === null), next: next === '0' ? null : `l${next}` };
}

/**
 * Every session, a page at a time: the sweep buckets (`b<first bucket>`), then the single sweep
 * index of earlier versions (`l<ZSCAN cursor>`); a session is in one of them until the sweep
 * removes it.
 */
async function exportSessions(
  context: RedisContext,
  cursor: string | null,
  limit: number,
): Promise<{ records: SessionRecord[]; cursor: string | null }> {
  const { ids, next } = await sessionIdsPage(context, cursor ?? 'b0', limit);
  const raws = await mapInChunks(ids, (id) => context.client.get(context.keys.session(id)));
  const records = await decodeSessions(
    context,
    ids.map((id, index) => ({ id, raw: raws[index] ?? null })),
  );
  return { records, cursor: next };
}

/**
 * The transfer methods over one Redis store's context.
 *
 * @example
 * return withStoreTransfer(store, createRedisTransfer(context));
 */
export function createRedisTransfer(context: RedisContext): StoreTransfer {
  const { keys, run } = context;
  return {
    exportSessions: ({ cursor, limit }) => run(() => exportSessions(context, cursor, limit)),

    exportRefreshTokens: (sessionIds) =>
      run(async () => {
        const hashes = await mapInChunks(sessionIds, (id) => readTokenFields(context, id));
        return hashes.flatMap((hash, index) => tokensOfHash(sessionIds[index] ?? '', hash));
      }),

    importRevocation: (record) =>
      run(async (): Promise<ImportOutcome> => {
        const reply = await context.runScript(
          importRevocation,
          [keys.revocationSeq, keys.revocationLog, keys.revocationExpiry],
          [record.seq, revocationJSON(record), record.expiresAt],
        );
        if (reply === 1) return 'created';
        if (typeof reply !== 'string') throw malformed('revocation');
        return sameRevocationJSON(reply, record) ? 'present' : 'conflict';
      }),
  };
}
