import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { LatchkeyError } from '../../src/errors.js';
import { createCompositeStore } from '../../src/stores/composite.js';
import { createPostgresClient, openPostgresStore } from '../../src/stores/postgres/index.js';
import { openRedisStore } from '../../src/stores/redis/index.js';
import type { SqlClient } from '../../src/stores/sql/client.js';
import type { SqlDialect } from '../../src/stores/sql/dialect.js';
import { postgresDialect } from '../../src/stores/sql/dialects/postgres.js';
import { migrate, pendingMigrations, readMigrations } from '../../src/stores/sql/migrate.js';
import { createSqlStore } from '../../src/stores/sql/store.js';
import type { Store } from '../../src/store.js';
import { freePort } from '../helpers/process.js';
import {
  createTestDatabase,
  createTestRedisPrefix,
  describeWithServices,
  probePostgres,
  probeRedis,
  schemaURL,
  type TestDatabase,
  type TestRedisPrefix,
} from '../helpers/services.js';
import { describeStoreConformance } from './conformance.js';

// One database for the whole file (latchkey_test_<pid>_<random>, dropped at the end); the
// conformance suites truncate the tables between tests, and the migration tests work in schemas
// of their own inside it.

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

/** The Postgres dialect without its single-statement shortcuts. */
const PORTABLE_DIALECT: SqlDialect = {
  ...postgresDialect,
  supports: {
    insertReturning: false,
    upsertReturning: false,
    updateReturning: false,
    deleteReturning: false,
    writableCte: false,
  },
};

const postgresProblem = await probePostgres();
const redisProblem = await probeRedis();
let database: TestDatabase | undefined;
let admin: SqlClient | undefined;

function adminClient(): SqlClient {
  if (admin === undefined) throw new Error('the test database is not ready');
  return admin;
}

function databaseURL(): string {
  if (database === undefined) throw new Error('the test database is not ready');
  return database.url;
}

/**
 * The conformance suite's connections skip waiting for the WAL flush: a test database need not
 * survive a power cut, and the 100 000-session case writes 100 000 separate transactions.
 */
function withoutSyncCommit(url: string): string {
  const withOptions = new URL(url);
  withOptions.searchParams.set('options', '-c synchronous_commit=off');
  return withOptions.toString();
}

async function expectLatchkeyError(
  promise: Promise<unknown>,
  code: LatchkeyError['code'],
): Promise<LatchkeyError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(LatchkeyError);
  expect((error as LatchkeyError).code).toBe(code);
  return error as LatchkeyError;
}

// File-level hooks: both blocks below share the database.
beforeAll(async () => {
  if (postgresProblem !== null) return;
  database = await createTestDatabase();
  admin = createPostgresClient(new pg.Pool({ connectionString: database.url, max: 2 }));
});

afterAll(async () => {
  await admin?.close();
  await database?.drop();
});

describeWithServices('postgres store', [postgresProblem], () => {
  describeStoreConformance('postgres', {
    open: () => openPostgresStore({ url: withoutSyncCommit(databaseURL()) }),
    reset: () => adminClient().exec(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY`),
    close: (store) => store.close(),
  });

  // The record modules' portable forms (what a dialect without RETURNING or writable WITH runs:
  // SQLite, MySQL), checked on a pool of real connections so that their atomicity is attacked
  // with real concurrency. Fewer large-count sessions: the forms, not the volume, are under test.
  describeStoreConformance(
    'postgres, portable SQL forms',
    {
      open: async () => {
        const client = createPostgresClient(
          new pg.Pool({ connectionString: withoutSyncCommit(databaseURL()), max: 10 }),
        );
        await migrate(client);
        return createSqlStore(client, { kind: 'postgres', dialect: PORTABLE_DIALECT });
      },
      reset: () => adminClient().exec(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY`),
      close: (store) => store.close(),
    },
    { largeSessionCount: 10_000 },
  );

  describe('migrations', () => {
    it('applies each migration once when two nodes migrate at the same moment', async () => {
      const url = await schemaURL(databaseURL(), 'race');
      const clients = [0, 1].map(() => createPostgresClient(new pg.Pool({ connectionString: url, max: 2 })));
      try {
        const [a, b] = await Promise.all(clients.map((client) => migrate(client)));
        const versions = (await readMigrations()).map((migration) => migration.version);
        expect([...(a?.applied ?? []), ...(b?.applied ?? [])].sort()).toEqual(versions);
        const first = clients[0];
        if (first === undefined) throw new Error('no client');
        const { rows } = await first.query<{ version: string }>(
          'SELECT version FROM latchkey_migrations ORDER BY version',
        );
        expect(rows.map((row) => row.version)).toEqual(versions);
        expect(await pendingMigrations(first)).toEqual([]);
        expect(await migrate(first)).toEqual({ applied: [] });
      } finally {
        await Promise.all(clients.map((client) => client.close()));
      }
    });

    it('refuses to open with pending migrations when migrate is false, naming them and the command', async () => {
      const url = await schemaURL(databaseURL(), 'pending');
      const error = await expectLatchkeyError(openPostgresStore({ url, migrate: false }), 'config_invalid');
      expect(error.message).toContain('latchkey migrate');
      expect(error.message).toContain('0001_init');

      const store = await openPostgresStore({ url, migrate: true });
      await store.close();
      const again = await openPostgresStore({ url, migrate: false });
      expect(again.kind).toBe('postgres');
      await again.close();
    });
  });

  describe('faults', () => {
    it('rejects with store_unavailable within the connection timeout when nothing listens', async () => {
      const url = `postgres://postgres@127.0.0.1:${await freePort()}/postgres`;
      // It rejects rather than waiting: the connection timeout ends the attempt (the test's own
      // timeout would catch a hang; how fast is the bench's business, not this test's).
      await expectLatchkeyError(openPostgresStore({ url }), 'store_unavailable');
    });

    it('survives its connections being killed: no crash, and the next call reconnects', async () => {
      const store: Store = await openPostgresStore({ url: databaseURL(), poolSize: 4 });
      try {
        // Fill the pool with idle connections, then kill them all from the server side.
        await Promise.all(Array.from({ length: 8 }, () => store.ping()));
        const { rows } = await adminClient().query<{ killed: number }>(
          `SELECT count(*)::int AS killed FROM (
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = 'latchkey'
           ) AS terminated`,
        );
        expect(rows[0]?.killed ?? 0).toBeGreaterThan(0);
        await new Promise((resolve) => setTimeout(resolve, 200));
        // A call may land on a connection that has not noticed yet: that one is 503, never a crash.
        let answered = false;
        for (let attempt = 0; attempt < 10 && !answered; attempt += 1) {
          try {
            await store.ping();
            answered = true;
          } catch (error) {
            expect(error).toBeInstanceOf(LatchkeyError);
            expect((error as LatchkeyError).code).toBe('store_unavailable');
          }
        }
        expect(answered).toBe(true);
        expect(await store.getSession('missing')).toBeNull();
      } finally {
        await store.close();
      }
    });
  });
});

// The deployment with both URLs: users and keys in Postgres, the rest in Redis (a prefix of its
// own, emptied with SCAN + UNLINK between tests; never FLUSHALL).
describeWithServices('postgres+redis composite store', [postgresProblem, redisProblem], () => {
  let redisPrefix: TestRedisPrefix | undefined;

  beforeAll(() => {
    redisPrefix = createTestRedisPrefix();
  });

  afterAll(async () => {
    await redisPrefix?.cleanup();
  });

  describeStoreConformance('postgres+redis', {
    open: async () => {
      if (redisPrefix === undefined) throw new Error('no redis prefix');
      const durable = await openPostgresStore({ url: withoutSyncCommit(databaseURL()) });
      const hot = await openRedisStore({ url: redisPrefix.url, prefix: redisPrefix.prefix });
      return createCompositeStore({ durable, hot });
    },
    reset: async () => {
      await adminClient().exec(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY`);
      await redisPrefix?.cleanup();
    },
    close: (store) => store.close(),
  });

  it('keeps users in Postgres and sessions in Redis', async () => {
    if (redisPrefix === undefined) throw new Error('no redis prefix');
    const durable = await openPostgresStore({ url: databaseURL() });
    const hot = await openRedisStore({ url: redisPrefix.url, prefix: redisPrefix.prefix });
    const store = createCompositeStore({ durable, hot });
    try {
      await adminClient().exec(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY`);
      await redisPrefix.cleanup();
      const now = Date.now();
      await store.createUser({
        id: 'split-user',
        email: 'split@example.com',
        passwordHash: 'hash',
        status: 'active',
        roles: [],
        createdAt: now,
        updatedAt: now,
        emailVerifiedAt: null,
      });
      await store.createSession({
        id: 'split-session',
        userId: 'split-user',
        secretHash: 'hash',
        mode: 'cookie',
        createdAt: now,
        lastSeenAt: now,
        idleExpiresAt: now + 60_000,
        absoluteExpiresAt: now + 60_000,
        userAgent: null,
        ip: null,
        revokedAt: null,
        persistent: false,
        amr: ['pwd'],
        authTime: now,
        acr: '1',
      });
      const counts = await adminClient().query<{ users: number; sessions: number }>(
        'SELECT (SELECT count(*) FROM latchkey_users)::int AS users, (SELECT count(*) FROM latchkey_sessions)::int AS sessions',
      );
      expect(counts.rows[0]).toEqual({ users: 1, sessions: 0 });
      expect(await hot.getSession('split-session')).not.toBeNull();
      expect(await hot.getUserById('split-user')).toBeNull();
    } finally {
      await store.close();
    }
  });
});
