/**
 * The audit trail in Redis, in one slot (`{audit}`): a hash of records by id, a listing set of
 * everyone's records and one per user (members `<at>:<id>` at score 0, listed newest first with
 * `ZREVRANGEBYLEX` from the cursor), and a sweep set by expiry. Layout and scripts:
 * `./audit-scripts.ts`. Durable like users (no TTL): the maintenance sweep removes records.
 */

import type { AuditCursor, AuditRecord } from '../../records.js';
import type { AuditStore } from '../../store.js';
import { malformed, parseTuple } from './codec.js';
import { duplicate, mapInChunks, type RedisContext } from './context.js';
import { addAuditRecord, sweepAuditRecord } from './audit-scripts.js';

const WHAT = 'audit record';
const SWEEP_BATCH = 500;

/** The listing member of a record: its time, zero-padded so that byte order is time order. */
function memberOf(record: AuditCursor): string {
  return `${String(record.at).padStart(16, '0')}:${record.id}`;
}

const idOf = (member: string): string => member.slice(member.indexOf(':') + 1);

const textOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

function decodeAuditRecord(id: string, json: string): AuditRecord {
  const [at, event, userId, clientId, sessionId, ip, userAgent, details, expiresAt] = parseTuple(
    json,
    9,
    WHAT,
  );
  if (
    typeof at !== 'number' ||
    typeof event !== 'string' ||
    typeof expiresAt !== 'number' ||
    typeof details !== 'object' ||
    details === null ||
    Array.isArray(details)
  ) {
    throw malformed(WHAT);
  }
  return {
    id,
    at,
    event,
    userId: textOrNull(userId),
    clientId: textOrNull(clientId),
    sessionId: textOrNull(sessionId),
    ip: textOrNull(ip),
    userAgent: textOrNull(userAgent),
    details: details as AuditRecord['details'],
    expiresAt,
  };
}

/**
 * The audit operations of one Redis store.
 *
 * @example
 * const audit = createRedisAudit(context);
 * await audit.addAuditRecord(record);
 */
export function createRedisAudit(context: RedisContext): AuditStore {
  const { run, keys, client } = context;
  return {
    addAuditRecord: (record) =>
      run(async () => {
        const json = JSON.stringify([
          record.at,
          record.event,
          record.userId,
          record.clientId,
          record.sessionId,
          record.ip,
          record.userAgent,
          record.details,
          record.expiresAt,
        ]);
        const hasUser = record.userId !== null;
        const userSet = record.userId === null ? keys.auditAll : keys.auditOf(record.userId);
        const stored = await context.runScript(
          addAuditRecord,
          [keys.auditRecords, keys.auditAll, userSet, keys.auditSweep],
          [record.id, json, memberOf(record), record.expiresAt, hasUser ? '1' : '0'],
        );
        if (stored !== 1) throw duplicate(WHAT);
      }),

    listAuditRecords: ({ limit, userId, before }) =>
      run(async () => {
        if (limit <= 0) return [];
        const set = userId === undefined ? keys.auditAll : keys.auditOf(userId);
        const max = before === undefined ? '+' : `(${memberOf(before)}`;
        const members = await client.zrevrangebylex(set, max, '-', 'LIMIT', 0, limit);
        if (members.length === 0) return [];
        const ids = members.map(idOf);
        const values = await client.hmget(keys.auditRecords, ...ids);
        const records: AuditRecord[] = [];
        values.forEach((json, index) => {
          const id = ids[index];
          if (json !== null && id !== undefined) records.push(decodeAuditRecord(id, json));
        });
        return records;
      }),

    deleteExpiredAuditRecords: (now) =>
      run(async () => {
        let removed = 0;
        const seen = new Set<string>();
        for (;;) {
          const due = await client.zrangebyscore(keys.auditSweep, '-inf', now, 'LIMIT', 0, SWEEP_BATCH);
          const batch = due.filter((member) => !seen.has(member));
          if (batch.length === 0) break;
          const values = await client.hmget(keys.auditRecords, ...batch.map(idOf));
          await mapInChunks([...batch.entries()], async ([index, member]) => {
            seen.add(member);
            const json = values[index];
            const id = idOf(member);
            const owner = json === null || json === undefined ? null : decodeAuditRecord(id, json).userId;
            const userSet = owner === null ? keys.auditAll : keys.auditOf(owner);
            const swept = await context.runScript(
              sweepAuditRecord,
              [keys.auditRecords, keys.auditAll, userSet, keys.auditSweep],
              [id, member, now],
            );
            if (swept === 1) removed += 1;
          });
        }
        return removed;
      }),
  };
}
