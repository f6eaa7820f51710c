/**
 * `INSERT ... ON CONFLICT (...) DO NOTHING | DO UPDATE SET ... [RETURNING ...]`: the upsert both
 * Postgres and SQLite (3.24+, with `AS` aliases from 3.35) write the same way, so their
 * dialects share this builder. MySQL has its own (`INSERT IGNORE`, `ON DUPLICATE KEY UPDATE`).
 */

import type { SqlInsert, SqlUpsertRefs } from '../dialect.js';

/** The alias of the stored row in an upsert (`INSERT INTO t AS existing ...`). */
const EXISTING = 'existing';

const UPSERT_REFS: SqlUpsertRefs = {
  existing: (column) => `${EXISTING}.${column}`,
  proposed: (column) => `excluded.${column}`,
};

/**
 * The statement of an insert spec, `$n` placeholders as written (the dialect's `prepare`
 * turns them into its own).
 *
 * @example
 * onConflictInsert({ table: 't', columns: ['id', 'n'], onConflict: { columns: ['id'] } });
 * // 'INSERT INTO t (id, n) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING'
 */
export function onConflictInsert(spec: SqlInsert): string {
  const values = spec.values ?? spec.columns.map((_column, index) => `$${index + 1}`);
  const conflict = spec.onConflict;
  const assignments = conflict?.update?.(UPSERT_REFS);
  // The alias names the stored row in the assignments; a plain insert needs none.
  const table = assignments === undefined ? spec.table : `${spec.table} AS ${EXISTING}`;
  let sql = `INSERT INTO ${table} (${spec.columns.join(', ')}) VALUES (${values.join(', ')})`;
  if (conflict !== undefined) {
    const target = `ON CONFLICT (${conflict.columns.join(', ')})`;
    sql +=
      assignments === undefined
        ? ` ${target} DO NOTHING`
        : ` ${target} DO UPDATE SET ${assignments.map(([column, value]) => `${column} = ${value}`).join(', ')}`;
  }
  if (spec.returning !== undefined) sql += ` RETURNING ${spec.returning.join(', ')}`;
  return sql;
}
