/**
 * Passkeys in SQL (`latchkey_passkeys`, keyed by the credential id). Recording a use is one
 * conditional `UPDATE`: the row changes only when the new signature counter is higher (or both
 * are 0), so a replayed or cloned counter changes nothing and, of concurrent uses with one
 * counter, exactly one matches.
 */

import { LatchkeyError } from '../../errors.js';
import type { PasskeyRecord } from '../../records.js';
import type { PasskeyStore } from '../../store.js';
import type { SqlDialect, SqlInteger } from './dialect.js';
import type { SqlContext } from './context.js';
import { rowCountOf, run } from './context.js';

/** A row of `latchkey_passkeys`. */
interface PasskeyRow {
  id: string;
  user_id: string;
  public_key: string;
  counter: SqlInteger;
  transports: string;
  backup_eligible: unknown;
  backed_up: unknown;
  aaguid: string;
  name: string;
  created_at: SqlInteger;
  last_used_at: SqlInteger | null;
}

const COLUMNS = [
  'id',
  'user_id',
  'public_key',
  'counter',
  'transports',
  'backup_eligible',
  'backed_up',
  'aaguid',
  'name',
  'created_at',
  'last_used_at',
] as const;

function toPasskey(row: PasskeyRow, d: SqlDialect): PasskeyRecord {
  return {
    id: row.id,
    userId: row.user_id,
    publicKey: row.public_key,
    counter: d.readInteger(row.counter),
    transports: row.transports === '' ? [] : row.transports.split(','),
    backupEligible: d.readBoolean(row.backup_eligible),
    backedUp: d.readBoolean(row.backed_up),
    aaguid: row.aaguid,
    name: row.name,
    createdAt: d.readInteger(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : d.readInteger(row.last_used_at),
  };
}

/**
 * The passkey methods of the SQL store.
 *
 * @example
 * const passkeys = createPasskeyStore(createSqlContext(client, postgresDialect));
 * await passkeys.createPasskey(record);
 */
export function createPasskeyStore(context: SqlContext): PasskeyStore {
  const { client, dialect: d, guarded } = context;
  const select = `SELECT ${COLUMNS.join(', ')} FROM latchkey_passkeys`;
  const statements = {
    insert: d.prepare(d.insert({ table: 'latchkey_passkeys', columns: COLUMNS })),
    get: d.prepare(`${select} WHERE id = $1`),
    list: d.prepare(`${select} WHERE user_id = $1 ORDER BY created_at, id`),
    use: d.prepare(
      'UPDATE latchkey_passkeys SET counter = $2, backed_up = $3, last_used_at = $4 ' +
        'WHERE id = $1 AND (counter < $2 OR (counter = 0 AND $2 = 0))',
    ),
    rename: d.prepare('UPDATE latchkey_passkeys SET name = $3 WHERE user_id = $1 AND id = $2'),
    remove: d.prepare('DELETE FROM latchkey_passkeys WHERE user_id = $1 AND id = $2'),
  };

  return {
    createPasskey: (passkey) =>
      guarded(async () => {
        try {
          await run(client, statements.insert, [
            passkey.id,
            passkey.userId,
            passkey.publicKey,
            passkey.counter,
            passkey.transports.join(','),
            d.writeBoolean(passkey.backupEligible),
            d.writeBoolean(passkey.backedUp),
            passkey.aaguid,
            passkey.name,
            passkey.createdAt,
            passkey.lastUsedAt,
          ]);
        } catch (error) {
          if (d.isUniqueViolation(error)) throw new LatchkeyError('passkey_exists');
          throw error;
        }
      }),

    getPasskey: (id) =>
      guarded(async () => {
        const row = (await run<PasskeyRow>(client, statements.get, [id])).rows[0];
        return row === undefined ? null : toPasskey(row, d);
      }),

    listPasskeys: (userId) =>
      guarded(async () =>
        (await run<PasskeyRow>(client, statements.list, [userId])).rows.map((row) => toPasskey(row, d)),
      ),

    usePasskey: (id, use) =>
      guarded(
        async () =>
          rowCountOf(
            await run(client, statements.use, [id, use.counter, d.writeBoolean(use.backedUp), use.at]),
          ) > 0,
      ),

    renamePasskey: (userId, id, name) =>
      guarded(async () => rowCountOf(await run(client, statements.rename, [userId, id, name])) > 0),

    deletePasskey: (userId, id) =>
      guarded(async () => rowCountOf(await run(client, statements.remove, [userId, id])) > 0),
  };
}
