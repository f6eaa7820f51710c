/**
 * The transfer methods of the Redis store (`../../store-transfer.ts`).
 *
 * - Sessions are found through the sweep index `P:{sweep}:sessions`, which holds the id of
 *   every session until the sweep removes it: `ZSCAN` walks it a page at a time (one key, so on
 *   a Cluster too), and each session is read from its own key. `ZSCAN` may return an id twice.
 * - The refresh tokens of a session are the fields of its hash `P:{s:<sid>}:rt`.
 * - A revocation with its seq is one script on the `{rev}` slot (`./transfer-scripts.ts`).
 */

import type { RefreshTokenRecord, RevocationRecord, SessionRecord } from '../../records.js';
import type { ImportOutcome, StoreTransfer } from '../../store-transfer.js';
import { malformed } from './codec.js';
import { mapInChunks, type RedisContext } from './context.js';
import { decodeRefreshToken } from './refresh-tokens.js';
import { decodeSession } from './sessions.js';
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

/**
 * The transfer methods over one Redis store's context.
 *
 * @example
 * return withStoreTransfer(store, createRedisTransfer(context));
 */
export function createRedisTransfer(context: RedisContext): StoreTransfer {
  const { client, keys, run } = context;
  return {
    exportSessions: ({ cursor, limit }) =>
      run(async () => {
        const [next, flat] = await client.zscan(keys.sweep, cursor ?? '0', 'COUNT', limit);
        const ids = flat.filter((_member, index) => index % 2 === 0);
        const raws = await mapInChunks(ids, (id) => client.get(keys.session(id)));
        const records: SessionRecord[] = [];
        raws.forEach((raw, index) => {
          const id = ids[index];
          if (raw !== null && id !== undefined) records.push(decodeSession(id, raw));
        });
        return { records, cursor: next === '0' ? null : next };
      }),

    exportRefreshTokens: (sessionIds) =>
      run(async () => {
        const hashes = await mapInChunks(sessionIds, (id) => client.hgetall(keys.refreshTokens(id)));
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
