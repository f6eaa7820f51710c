/**
 * Signing keys in SQL (`latchkey_signing_keys`), listed by creation time, then kid.
 */

import type { KeyStore } from '../../store.js';
import type { SqlParam } from './client.js';
import type { SqlContext } from './context.js';
import { run } from './context.js';
import type { SigningKeyRow } from './rows.js';
import { COLUMNS, toSigningKey } from './rows.js';

/**
 * The signing-key methods of the SQL store.
 *
 * @example
 * const keys = createKeyStore(createSqlContext(client, postgresDialect));
 */
export function createKeyStore(context: SqlContext): KeyStore {
  const { client, dialect: d, guarded } = context;
  const statements = {
    list: d.prepare(
      `SELECT ${COLUMNS.signingKeys.join(', ')} FROM latchkey_signing_keys ORDER BY created_at, kid`,
    ),
    insert: d.prepare(d.insert({ table: 'latchkey_signing_keys', columns: COLUMNS.signingKeys })),
    delete: d.prepare('DELETE FROM latchkey_signing_keys WHERE kid = $1'),
  };

  return {
    listKeys: () =>
      guarded(async () => {
        const { rows } = await run<SigningKeyRow>(client, statements.list);
        return rows.map((row) => toSigningKey(row, d));
      }),

    insertKey: (key) =>
      guarded(async () => {
        await run(client, statements.insert, [
          key.kid,
          key.alg,
          key.publicJwk,
          key.encryptedPrivateKey,
          key.createdAt,
          key.activatesAt,
          key.retiredAt,
          key.expiresAt,
        ]);
      }),

    updateKey: (kid, patch) =>
      guarded(async () => {
        // Only the fields present are set; the statement is built per call (keys change rarely).
        const assignments: string[] = [];
        const params: SqlParam[] = [kid];
        if (patch.retiredAt !== undefined) {
          params.push(patch.retiredAt);
          assignments.push(`retired_at = ${d.cast(`$${params.length}`, 'bigint')}`);
        }
        if (patch.expiresAt !== undefined) {
          params.push(patch.expiresAt);
          assignments.push(`expires_at = ${d.cast(`$${params.length}`, 'bigint')}`);
        }
        if (assignments.length === 0) return;
        const update = d.prepare(`UPDATE latchkey_signing_keys SET ${assignments.join(', ')} WHERE kid = $1`);
        await run(client, update, params);
      }),

    deleteKey: (kid) =>
      guarded(async () => {
        await run(client, statements.delete, [kid]);
      }),
  };
}
