/**
 * Second factors in SQL (`latchkey_factors`). Accepting a TOTP step is one conditional
 * `UPDATE`: the row changes only when its last used step is lower, so of concurrent callers
 * with the same step exactly one matches it.
 */

import type { FactorKind, FactorRecord } from '../../records.js';
import type { FactorStore } from '../../store.js';
import type { SqlDialect, SqlInteger } from './dialect.js';
import type { SqlContext } from './context.js';
import { rowCountOf, run } from './context.js';

/** A row of `latchkey_factors`. */
interface FactorRow {
  id: string;
  user_id: string;
  kind: string;
  label: string;
  secret: string;
  last_used_step: SqlInteger | null;
  created_at: SqlInteger;
  confirmed_at: SqlInteger | null;
  last_used_at: SqlInteger | null;
}

const COLUMNS = [
  'id',
  'user_id',
  'kind',
  'label',
  'secret',
  'last_used_step',
  'created_at',
  'confirmed_at',
  'last_used_at',
] as const;

function toFactor(row: FactorRow, d: SqlDialect): FactorRecord {
  const nullable = (value: SqlInteger | null): number | null =>
    value === null ? null : d.readInteger(value);
  return {
    id: row.id,
    userId: row.user_id,
    kind: row.kind as FactorKind,
    label: row.label,
    secret: row.secret,
    lastUsedStep: nullable(row.last_used_step),
    createdAt: d.readInteger(row.created_at),
    confirmedAt: nullable(row.confirmed_at),
    lastUsedAt: nullable(row.last_used_at),
  };
}

/**
 * The factor methods of the SQL store.
 *
 * @example
 * const factors = createFactorStore(createSqlContext(client, postgresDialect));
 * await factors.createFactor(record);
 */
export function createFactorStore(context: SqlContext): FactorStore {
  const { client, dialect: d, guarded } = context;
  const statements = {
    // A duplicate id fails as a unique violation, which `guarded` reports as internal_error.
    insert: d.prepare(d.insert({ table: 'latchkey_factors', columns: COLUMNS })),
    list: d.prepare(
      `SELECT ${COLUMNS.join(', ')} FROM latchkey_factors WHERE user_id = $1 ORDER BY created_at, id`,
    ),
    confirm: d.prepare(
      'UPDATE latchkey_factors SET confirmed_at = $3 WHERE user_id = $1 AND id = $2 AND confirmed_at IS NULL',
    ),
    useStep: d.prepare(
      'UPDATE latchkey_factors SET last_used_step = $3, last_used_at = $4 ' +
        'WHERE user_id = $1 AND id = $2 AND (last_used_step IS NULL OR last_used_step < $3)',
    ),
    remove: d.prepare('DELETE FROM latchkey_factors WHERE user_id = $1 AND id = $2'),
  };

  return {
    createFactor: (factor) =>
      guarded(async () => {
        await run(client, statements.insert, [
          factor.id,
          factor.userId,
          factor.kind,
          factor.label,
          factor.secret,
          factor.lastUsedStep,
          factor.createdAt,
          factor.confirmedAt,
          factor.lastUsedAt,
        ]);
      }),

    listFactors: (userId) =>
      guarded(async () =>
        (await run<FactorRow>(client, statements.list, [userId])).rows.map((row) => toFactor(row, d)),
      ),

    confirmFactor: (userId, id, at) =>
      guarded(async () => rowCountOf(await run(client, statements.confirm, [userId, id, at])) > 0),

    useFactorStep: (userId, id, step, at) =>
      guarded(async () => rowCountOf(await run(client, statements.useStep, [userId, id, step, at])) > 0),

    deleteFactor: (userId, id) =>
      guarded(async () => rowCountOf(await run(client, statements.remove, [userId, id])) > 0),
  };
}
