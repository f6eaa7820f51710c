import { PGlite } from '@electric-sql/pglite';
import { describeStoreConformance } from './conformance.js';
import { createPGliteClient } from '../../src/stores/pglite/index.js';
import { migrate } from '../../src/stores/sql/migrate.js';
import { createSqlStore } from '../../src/stores/sql/store.js';
import type { SqlClient } from '../../src/stores/sql/client.js';

// One in-memory PGlite for the whole file (creating one costs seconds and ~300 MiB);
// the tables are truncated between tests. The 100 000-session test takes ~20 s here;
// LATCHKEY_PGLITE_LARGE_SESSIONS (>= 10 000) shortens it while iterating.
let client: SqlClient | undefined;

const TABLES = [
  'latchkey_users',
  'latchkey_sessions',
  'latchkey_refresh_tokens',
  'latchkey_signing_keys',
  'latchkey_revocations',
  'latchkey_counters',
  'latchkey_clients',
  'latchkey_one_time_tokens',
  'latchkey_factors',
  'latchkey_passkeys',
  'latchkey_mails',
  'latchkey_audit_events',
  'latchkey_webhooks',
  'latchkey_webhook_deliveries',
];

describeStoreConformance(
  'pglite',
  {
    open: async () => {
      client = createPGliteClient(await PGlite.create());
      await migrate(client);
      return createSqlStore(client, { kind: 'pglite' });
    },
    reset: async () => {
      await client?.exec(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY`);
    },
    close: (store) => store.close(),
  },
  { largeSessionCount: Number(process.env.LATCHKEY_PGLITE_LARGE_SESSIONS ?? 100_000) },
);
