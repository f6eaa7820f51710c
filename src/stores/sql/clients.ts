/**
 * Machine clients in SQL (`latchkey_clients`), listed by id (byte order: the "C" collation).
 */

import { LatchkeyError } from '../../errors.js';
import type { ClientStore } from '../../store.js';
import type { SqlContext } from './context.js';
import { rowCountOf, run } from './context.js';
import type { ClientRow } from './rows.js';
import { COLUMNS, toClient } from './rows.js';

/**
 * The client methods of the SQL store.
 *
 * @example
 * const clients = createClientStore(createSqlContext(client, postgresDialect));
 */
export function createClientStore(context: SqlContext): ClientStore {
  const { client, dialect: d, guarded } = context;
  const columns = COLUMNS.clients.join(', ');
  const statements = {
    // Atomic on id: a duplicate inserts nothing (rowCount 0).
    insert: d.prepare(
      d.insert({ table: 'latchkey_clients', columns: COLUMNS.clients, onConflict: { columns: ['id'] } }),
    ),
    byId: d.prepare(`SELECT ${columns} FROM latchkey_clients WHERE id = $1`),
    firstPage: d.prepare(`SELECT ${columns} FROM latchkey_clients ORDER BY id LIMIT $1`),
    nextPage: d.prepare(`SELECT ${columns} FROM latchkey_clients WHERE id > $2 ORDER BY id LIMIT $1`),
    update: d.prepare(`UPDATE latchkey_clients SET disabled_at = ${d.cast('$2', 'bigint')} WHERE id = $1`),
  };

  return {
    createClient: (record) =>
      guarded(async () => {
        const result = await run(client, statements.insert, [
          record.id,
          record.name,
          record.secretHash,
          d.writeStrings(record.scopes),
          d.writeStrings(record.audiences),
          record.createdAt,
          record.disabledAt,
        ]);
        if (rowCountOf(result) === 0) {
          throw new LatchkeyError('internal_error', 'A client with this id already exists');
        }
      }),

    getClient: (id) =>
      guarded(async () => {
        const { rows } = await run<ClientRow>(client, statements.byId, [id]);
        const row = rows[0];
        return row === undefined ? null : toClient(row, d);
      }),

    listClients: (options) =>
      guarded(async () => {
        if (options.limit <= 0) return [];
        const { rows } =
          options.after === undefined
            ? await run<ClientRow>(client, statements.firstPage, [options.limit])
            : await run<ClientRow>(client, statements.nextPage, [options.limit, options.after]);
        return rows.map((row) => toClient(row, d));
      }),

    updateClient: (id, patch) =>
      guarded(async () => rowCountOf(await run(client, statements.update, [id, patch.disabledAt])) > 0),
  };
}
