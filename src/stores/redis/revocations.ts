/**
 * Revocations in Redis, all under the `{rev}` tag: `P:{rev}:seq` (the last seq), `P:{rev}:log`
 * (the records as JSON with their seq, scored by seq) and `P:{rev}:exp` (seqs scored by
 * `expiresAt`, for the expiry sweep). No TTL: the sweep removes them.
 *
 * Seqs start from `createdAt × 1000` when the seq key is missing (first use, or after a flush),
 * so they keep increasing across a flush and feed positions stay valid.
 */

import type { NewRevocation, RevocationKind, RevocationRecord } from '../../records.js';
import type { RevocationStore } from '../../store.js';
import {
  malformed,
  oneOf,
  parseObject,
  readNullableNumber,
  readNumber,
  readString,
  replyArray,
  replyNumber,
} from './codec.js';
import { SWEEP_BATCH, type RedisContext } from './context.js';
import {
  addRevocation as addScript,
  deleteExpiredRevocations as deleteExpiredScript,
  listRevocations as listScript,
} from './revocation-scripts.js';

const REVOCATION_KINDS: readonly RevocationKind[] = ['session', 'user', 'token'];

function decodeRevocation(raw: string): RevocationRecord {
  const what = 'revocation';
  const json = parseObject(raw, what);
  return {
    seq: readNumber(json, 'seq', what),
    kind: oneOf(readString(json, 'kind', what), REVOCATION_KINDS, what),
    subject: readString(json, 'subject', what),
    issuedBefore: readNullableNumber(json, 'issuedBefore', what),
    createdAt: readNumber(json, 'createdAt', what),
    expiresAt: readNumber(json, 'expiresAt', what),
  };
}

async function addRevocation(context: RedisContext, record: NewRevocation): Promise<RevocationRecord> {
  const { keys } = context;
  const json = JSON.stringify({
    kind: record.kind,
    subject: record.subject,
    issuedBefore: record.issuedBefore,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
  });
  // When the seq key is missing (first use, or after a flush), seqs restart from
  // createdAt × 1000, above any seq issued before: feed positions stay valid.
  const initial = Math.floor(record.createdAt) * 1_000;
  const seq = replyNumber(
    await context.runScript(
      addScript,
      [keys.revocationSeq, keys.revocationLog, keys.revocationExpiry],
      [json, record.expiresAt, Number.isSafeInteger(initial) && initial > 0 ? initial : 0],
    ),
    'revocation seq',
  );
  return {
    seq,
    kind: record.kind,
    subject: record.subject,
    issuedBefore: record.issuedBefore,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
  };
}

async function listRevocations(
  context: RedisContext,
  options: { now: number; afterSeq?: number; limit?: number },
): Promise<RevocationRecord[]> {
  const { now, afterSeq, limit } = options;
  if (limit !== undefined && limit <= 0) return [];
  const reply = await context.runScript(
    listScript,
    [context.keys.revocationLog],
    [afterSeq === undefined ? '-inf' : `(${afterSeq}`, now, limit ?? -1],
  );
  return replyArray(reply, 'revocation list').map((raw) => {
    if (typeof raw !== 'string') throw malformed('revocation');
    return decodeRevocation(raw);
  });
}

async function deleteExpiredRevocations(context: RedisContext, now: number): Promise<number> {
  const { keys } = context;
  let removed = 0;
  for (;;) {
    const count = replyNumber(
      await context.runScript(
        deleteExpiredScript,
        [keys.revocationLog, keys.revocationExpiry],
        [now, SWEEP_BATCH],
      ),
      'revocation count',
    );
    removed += count;
    if (count < SWEEP_BATCH) return removed;
  }
}

/**
 * The revocation operations of one Redis store.
 *
 * @example
 * const revocations = createRedisRevocations(context);
 * const { seq } = await revocations.addRevocation(record);
 */
export function createRedisRevocations(context: RedisContext): RevocationStore {
  const { run } = context;
  return {
    addRevocation: (record) => run(() => addRevocation(context, record)),
    listRevocations: (options) => run(() => listRevocations(context, options)),
    deleteExpiredRevocations: (now) => run(() => deleteExpiredRevocations(context, now)),
  };
}
