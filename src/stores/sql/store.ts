/**
 * The SQL store: every contract method in SQL, over any driver wrapped as a {@link SqlClient}
 * and any engine described by a {@link SqlDialect}. PGlite and a Postgres server run exactly the
 * same statements (the Postgres dialect).
 *
 * Each record kind has its own module (`users.ts`, `sessions.ts`, `refresh-tokens.ts`,
 * `signing-keys.ts`, `revocations.ts`, `clients.ts`, `counters.ts`, `one-time-tokens.ts`);
 * this one composes them. Atomic operations are single statements (`UPDATE ... WHERE
 * revoked_at IS NULL`, insert-or-ignore, upserts, `DELETE ... RETURNING`) or short
 * transactions; they hold under READ COMMITTED with many processes. Times are integer
 * milliseconds, converted back to `number` whatever the driver returns (string, number or
 * BigInt).
 */

import type { Store } from '../../store.js';
import { withStoreTransfer } from '../../store-transfer.js';
import type { SqlClient } from './client.js';
import { createAuditStore } from './audit.js';
import { createClientStore } from './clients.js';
import { createSqlContext } from './context.js';
import { createCounterStore } from './counters.js';
import type { SqlDialect } from './dialect.js';
import { postgresDialect } from './dialects/postgres.js';
import { createMailStore } from './mails.js';
import { createOneTimeTokenStore } from './one-time-tokens.js';
import { createFactorStore } from './factors.js';
import { createPasskeyStore } from './passkeys.js';
import { createRefreshTokenStore } from './refresh-tokens.js';
import { createRevocationStore } from './revocations.js';
import { createSessionStore } from './sessions.js';
import { createKeyStore } from './signing-keys.js';
import { createSqlTransfer } from './transfer.js';
import { createUserStore } from './users.js';
import { createWebhookStore } from './webhooks.js';

/** Options of {@link createSqlStore}. */
export interface SqlStoreOptions {
  /** The store's `kind` (`pglite`, `postgres`, ...). */
  kind: string;
  /** The engine's dialect; Postgres (also PGlite) when omitted. */
  dialect?: SqlDialect | undefined;
}

/**
 * Creates a store over a migrated database (see `migrate()`, with the same dialect).
 *
 * Conventions shared with the memory store: a record is expired at `now` when its expiry is
 * `<= now`; duplicate ids and kids reject with `LatchkeyError('internal_error')`; sessions are
 * listed newest first (`createdAt` desc, then `id` desc); keys by `createdAt`, then `kid`.
 * `close()` closes the client.
 *
 * @example
 * const client = createPGliteClient(await PGlite.create());
 * await migrate(client);
 * const store = createSqlStore(client, { kind: 'pglite' });
 */
export function createSqlStore(client: SqlClient, options: SqlStoreOptions): Store {
  const context = createSqlContext(client, options.dialect ?? postgresDialect);
  const { guarded } = context;
  const store: Store = {
    kind: options.kind,
    ping: () =>
      guarded(async () => {
        await client.query('SELECT 1');
      }),
    close: () => guarded(() => client.close()),
    ...createUserStore(context),
    ...createSessionStore(context),
    ...createRefreshTokenStore(context),
    ...createKeyStore(context),
    ...createRevocationStore(context),
    ...createClientStore(context),
    ...createCounterStore(context),
    ...createOneTimeTokenStore(context),
    ...createFactorStore(context),
    ...createPasskeyStore(context),
    ...createMailStore(context),
    ...createAuditStore(context),
    ...createWebhookStore(context),
  };
  return withStoreTransfer(store, createSqlTransfer(context));
}
