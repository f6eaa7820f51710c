/**
 * The audit trail in SQL (`latchkey_audit_events`): append, list newest first by keyset
 * (`(occurred_at, id) < cursor`, on the indexes of migration 0009), sweep by expiry. The details
 * are a JSON object in a text column.
 */

import type { AuditRecord } from '../../records.js';
import type { AuditStore } from '../../store.js';
import type { SqlContext } from './context.js';
import { rowCountOf, run } from './context.js';
import type { SqlParam } from './client.js';
import type { SqlDialect, SqlInteger, SqlStatement } from './dialect.js';

/** A row of `latchkey_audit_events`. */
interface AuditRow {
  id: string;
  occurred_at: SqlInteger;
  event: string;
  user_id: string | null;
  client_id: string | null;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: string;
  expires_at: SqlInteger;
}

const COLUMNS = [
  'id',
  'occurred_at',
  'event',
  'user_id',
  'client_id',
  'session_id',
  'ip',
  'user_agent',
  'details',
  'expires_at',
] as const;

function parseDetails(text: string): AuditRecord['details'] {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  const details: AuditRecord['details'] = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      details[key] = value;
    }
  }
  return details;
}

function toAuditRecord(row: AuditRow, dialect: SqlDialect): AuditRecord {
  return {
    id: row.id,
    at: dialect.readInteger(row.occurred_at),
    event: row.event,
    userId: row.user_id,
    clientId: row.client_id,
    sessionId: row.session_id,
    ip: row.ip,
    userAgent: row.user_agent,
    details: parseDetails(row.details),
    expiresAt: dialect.readInteger(row.expires_at),
  };
}

/**
 * The audit methods of the SQL store.
 *
 * @example
 * const audit = createAuditStore(createSqlContext(client, postgresDialect));
 * await audit.addAuditRecord(record);
 */
export function createAuditStore(context: SqlContext): AuditStore {
  const { client, dialect: d, guarded } = context;
  const columns = COLUMNS.join(', ');
  const order = 'ORDER BY occurred_at DESC, id DESC LIMIT';
  const older = (at: string, id: string): string =>
    `(occurred_at < ${at} OR (occurred_at = ${at} AND id < ${id}))`;
  const statements = {
    insert: d.prepare(d.insert({ table: 'latchkey_audit_events', columns: COLUMNS })),
    all: d.prepare(`SELECT ${columns} FROM latchkey_audit_events ${order} $1`),
    allBefore: d.prepare(
      `SELECT ${columns} FROM latchkey_audit_events WHERE ${older('$2', '$3')} ${order} $1`,
    ),
    ofUser: d.prepare(`SELECT ${columns} FROM latchkey_audit_events WHERE user_id = $2 ${order} $1`),
    ofUserBefore: d.prepare(
      `SELECT ${columns} FROM latchkey_audit_events WHERE user_id = $2 AND ${older('$3', '$4')} ${order} $1`,
    ),
    deleteExpired: d.prepare('DELETE FROM latchkey_audit_events WHERE expires_at <= $1'),
  };

  function query(options: Parameters<AuditStore['listAuditRecords']>[0]): [SqlStatement, SqlParam[]] {
    const { limit, userId, before } = options;
    if (userId === undefined) {
      return before === undefined
        ? [statements.all, [limit]]
        : [statements.allBefore, [limit, before.at, before.id]];
    }
    return before === undefined
      ? [statements.ofUser, [limit, userId]]
      : [statements.ofUserBefore, [limit, userId, before.at, before.id]];
  }

  return {
    addAuditRecord: (record) =>
      guarded(async () => {
        await run(client, statements.insert, [
          record.id,
          record.at,
          record.event,
          record.userId,
          record.clientId,
          record.sessionId,
          record.ip,
          record.userAgent,
          JSON.stringify(record.details),
          record.expiresAt,
        ]);
      }),

    listAuditRecords: (options) =>
      guarded(async () => {
        if (options.limit <= 0) return [];
        const [statement, values] = query(options);
        const { rows } = await run<AuditRow>(client, statement, values);
        return rows.map((row) => toAuditRecord(row, d));
      }),

    deleteExpiredAuditRecords: (now) =>
      guarded(async () => rowCountOf(await run(client, statements.deleteExpired, [now]))),
  };
}
