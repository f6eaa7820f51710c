import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseStore } from '../../src/app/stores.js';
import { loadConfig } from '../../src/config/config.js';
import { LatchkeyError } from '../../src/errors.js';
import { createCompositeStore } from '../../src/stores/composite.js';
import {
  createMySQLClient,
  createMySQLPool,
  migrateMySQL,
  openMySQLStore,
} from '../../src/stores/mysql/index.js';
import { openRedisStore } from '../../src/stores/redis/index.js';
import type { SqlClient } from '../../src/stores/sql/client.js';
import { mysqlDialect } from '../../src/stores/sql/dialects/mysql.js';
import {
  migrate,
  pendingMigrations,
  readMigrations,
  dialectMigrationsDir,
} from '../../src/stores/sql/migrate.js';
import type { Store } from '../../src/store.js';
import {
  createTestMySQLDatabase,
  mysqlAdminClient,
  probeMySQL,
  truncateMySQL,
  type TestMySQLDatabase,
} from '../helpers/mysql.js';
import { freePort } from '../helpers/process.js';
import {
  createTestRedisPrefix,
  describeWithServices,
  probeRedis,
  type TestRedisPrefix,
} from '../helpers/services.js';
import { describeStoreConformance, T0 } from './conformance.js';

// One database for the whole file (latchkey_test_<pid>_<random>, dropped at the end); the
// conformance suites truncate the tables between tests, and the migration tests make databases
// of their own.

const mysqlProblem = await probeMySQL();
const redisProblem = await probeRedis();
let database: TestMySQLDatabase | undefined;
let admin: SqlClient | undefined;
const extraDatabases: TestMySQLDatabase[] = [];

function adminClient(): SqlClient {
  if (admin === undefined) throw new Error('the test database is not ready');
  return admin;
}

function databaseURL(): string {
  if (database === undefined) throw new Error('the test database is not ready');
  return database.url;
}

async function freshDatabase(): Promise<TestMySQLDatabase> {
  const created = await createTestMySQLDatabase();
  extraDatabases.push(created);
  return created;
}

/** A promise and the function that resolves it (Node 20 has no Promise.withResolvers). */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
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

beforeAll(async () => {
  if (mysqlProblem !== null) return;
  database = await createTestMySQLDatabase();
  await migrateMySQL({ url: database.url });
  admin = mysqlAdminClient(database.url);
});

afterAll(async () => {
  await admin?.close();
  await Promise.all([database?.drop(), ...extraDatabases.map((extra) => extra.drop())]);
});

describe('the MySQL dialect, without a server', () => {
  it('turns the house style into ? placeholders and backtick-quoted names', () => {
    const statement = mysqlDialect.prepare(
      'SELECT count FROM latchkey_counters WHERE "key" = $2 AND x > $1 OR y = $2',
    );
    expect(statement.text).toBe('SELECT count FROM latchkey_counters WHERE `key` = ? AND x > ? OR y = ?');
    expect(statement.params(['a', 'b'])).toEqual(['b', 'a', 'b']);
  });

  it('writes insert-or-ignore as INSERT IGNORE and upserts as ON DUPLICATE KEY UPDATE', () => {
    expect(mysqlDialect.insert({ table: 't', columns: ['id', 'v'], onConflict: { columns: ['id'] } })).toBe(
      'INSERT IGNORE INTO t (id, v) VALUES ($1, $2)',
    );
    expect(
      mysqlDialect.insert({
        table: 't',
        columns: ['id', 'v'],
        onConflict: {
          columns: ['id'],
          update: ({ existing, proposed }) => [['v', `${existing('v')} + ${proposed('v')}`]],
        },
      }),
    ).toBe('INSERT INTO t (id, v) VALUES ($1, $2) ON DUPLICATE KEY UPDATE v = v + VALUES(v)');
    expect(() => mysqlDialect.insert({ table: 't', columns: ['id'], returning: ['id'] })).toThrow(
      /RETURNING/,
    );
  });

  it('takes the earliest non-null time, as Postgres LEAST does', () => {
    expect(mysqlDialect.earliest(['a', 'b'])).toBe('LEAST(COALESCE(a, b), COALESCE(b, a))');
    expect(mysqlDialect.earliest(['a'])).toBe('a');
  });

  it('reads booleans, string arrays and integers whatever the driver returns', () => {
    expect([1, '1', true, 1n].map((value) => mysqlDialect.readBoolean(value))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect([0, '0', false, null].map((value) => mysqlDialect.readBoolean(value))).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(mysqlDialect.readStrings('["a","é 🔑"]')).toEqual(['a', 'é 🔑']);
    expect(mysqlDialect.readStrings(Buffer.from('[]'))).toEqual([]);
    expect(() => mysqlDialect.readStrings('[1]')).toThrow(TypeError);
    expect(mysqlDialect.readInteger('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => mysqlDialect.readInteger('9007199254740993')).toThrow(RangeError);
  });

  it('summarises driver errors without the quoted values or the statement', () => {
    const duplicate = Object.assign(new Error("Duplicate entry 'c2VjcmV0LWhhc2g' for key 'PRIMARY'"), {
      code: 'ER_DUP_ENTRY',
      errno: 1062,
      sqlState: '23000',
      sql: "INSERT INTO t VALUES ('c2VjcmV0LWhhc2g')",
    });
    expect(mysqlDialect.isUniqueViolation(duplicate)).toBe(true);
    const summary = mysqlDialect.describeError(duplicate);
    expect(summary).toBe("ER_DUP_ENTRY, errno 1062, SQLSTATE 23000: Duplicate entry '…' for key '…'");
    expect(summary).not.toContain('c2VjcmV0');
    const missing = Object.assign(new Error("Table 'db.latchkey_users' doesn't exist"), { errno: 1146 });
    expect(mysqlDialect.describeError(missing)).toContain("'db.latchkey_users'");
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED' });
    expect(mysqlDialect.isUniqueViolation(refused)).toBe(false);
    expect(mysqlDialect.describeError(refused)).toBe('ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:3306');
  });

  it('has the same migration versions as Postgres', async () => {
    const versions = async (name: string): Promise<string[]> =>
      (await readMigrations(dialectMigrationsDir({ name }))).map((migration) => migration.version);
    expect(await versions('mysql')).toEqual(await versions('postgres'));
  });

  it('is chosen by DATABASE_URL=mysql:// or mariadb://, alone or with Redis', () => {
    for (const url of ['mysql://root@127.0.0.1:3306/test', 'mariadb://latchkey:pw@db/latchkey']) {
      expect(chooseStore(loadConfig({ DATABASE_URL: url }))).toBe('mysql');
      expect(chooseStore(loadConfig({ DATABASE_URL: url, REDIS_URL: 'redis://cache:6379' }))).toBe(
        'mysql+redis',
      );
    }
    expect(chooseStore(loadConfig({ DATABASE_URL: 'postgres://db/latchkey' }))).toBe('postgres');
  });
});

describeWithServices('mysql store', [mysqlProblem], () => {
  describeStoreConformance('mysql', {
    open: () => openMySQLStore({ url: databaseURL(), migrate: false }),
    reset: () => truncateMySQL(adminClient()),
    close: (store) => store.close(),
  });

  describe('migrations', () => {
    it('applies each migration once when two nodes migrate at the same moment', async () => {
      const { url } = await freshDatabase();
      const [a, b] = await Promise.all([migrateMySQL({ url }), migrateMySQL({ url })]);
      const versions = (await readMigrations(dialectMigrationsDir(mysqlDialect))).map((m) => m.version);
      expect([...(a?.applied ?? []), ...(b?.applied ?? [])].sort()).toEqual(versions);
      const client = mysqlAdminClient(url);
      try {
        const { rows } = await client.query<{ version: string }>(
          'SELECT version FROM latchkey_migrations ORDER BY version',
        );
        expect(rows.map((row) => row.version)).toEqual(versions);
        expect(await pendingMigrations(client, { dialect: mysqlDialect })).toEqual([]);
        expect(await migrate(client, { dialect: mysqlDialect })).toEqual({ applied: [] });
      } finally {
        await client.close();
      }
    });

    it('refuses to open with pending migrations when migrate is false, naming them and the command', async () => {
      const { url } = await freshDatabase();
      const error = await expectLatchkeyError(openMySQLStore({ url, migrate: false }), 'config_invalid');
      expect(error.message).toContain('latchkey migrate');
      expect(error.message).toContain('0001_init');

      const store = await openMySQLStore({ url, migrate: true });
      await store.close();
      const again = await openMySQLStore({ url, migrate: false });
      expect(again.kind).toBe('mysql');
      await again.close();
    });
  });

  describe('faults and errors', () => {
    it('rejects with store_unavailable when nothing listens', async () => {
      const url = `mysql://root@127.0.0.1:${await freePort()}/test`;
      const error = await expectLatchkeyError(openMySQLStore({ url }), 'store_unavailable');
      expect(error.message).toContain('ECONNREFUSED');
    });

    it('reports a duplicate id as internal_error, without the id in any message', async () => {
      const store = await openMySQLStore({ url: databaseURL(), migrate: false, poolSize: 2 });
      try {
        await truncateMySQL(adminClient());
        const session = {
          id: 'dup-c2VjcmV0',
          userId: 'u',
          secretHash: 'hash',
          mode: 'cookie' as const,
          createdAt: T0,
          lastSeenAt: T0,
          idleExpiresAt: T0 + 1,
          absoluteExpiresAt: T0 + 1,
          userAgent: null,
          ip: null,
          revokedAt: null,
          persistent: false,
          amr: ['pwd'],
          authTime: T0,
          acr: '1',
        };
        await store.createSession(session);
        const error = await expectLatchkeyError(store.createSession(session), 'internal_error');
        const cause = error.cause instanceof Error ? error.cause.message : '';
        expect(cause).toContain('ER_DUP_ENTRY');
        expect(`${error.message} ${cause}`).not.toContain('c2VjcmV0');
      } finally {
        await store.close();
      }
    });

    it('runs a transaction again after a deadlock, so that both sides commit once', async () => {
      const client = createMySQLClient(
        createMySQLPool({ url: databaseURL(), max: 4, connectionTimeoutMs: 2_000 }),
        {
          statementTimeoutMs: 20_000,
          lockWaitTimeoutS: 10,
        },
      );
      try {
        await adminClient().exec(
          'CREATE TABLE lk_deadlock (id INT PRIMARY KEY, n INT NOT NULL) ENGINE = InnoDB',
        );
        await adminClient().exec('INSERT INTO lk_deadlock VALUES (1, 0), (2, 0)');
        const firstLocks = [deferred(), deferred()];
        let attempts = 0;
        // Each side locks one row, waits until the other holds the other row, then wants it: a
        // deadlock, whose victim the server rolls back and the client runs again (without waiting).
        const side = (mine: number, theirs: number, index: number): Promise<void> =>
          client.transaction(async (tx) => {
            attempts += 1;
            const round = attempts;
            await tx.query('UPDATE lk_deadlock SET n = n + 1 WHERE id = ?', [mine]);
            if (round <= 2) {
              firstLocks[index]?.resolve();
              await firstLocks[1 - index]?.promise;
            }
            await tx.query('UPDATE lk_deadlock SET n = n + 1 WHERE id = ?', [theirs]);
          });
        await Promise.all([side(1, 2, 0), side(2, 1, 1)]);
        expect(attempts).toBe(3);
        const { rows } = await adminClient().query<{ n: number }>('SELECT n FROM lk_deadlock ORDER BY id');
        expect(rows.map((row) => row.n)).toEqual([2, 2]);
      } finally {
        await client.close();
        await adminClient().exec('DROP TABLE IF EXISTS lk_deadlock');
      }
    });

    it('survives its connections being killed: no crash, and the next call reconnects', async () => {
      const store: Store = await openMySQLStore({ url: databaseURL(), migrate: false, poolSize: 4 });
      try {
        await Promise.all(Array.from({ length: 8 }, () => store.ping()));
        const { rows } = await adminClient().query<{ id: number }>(
          `SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()`,
        );
        expect(rows.length).toBeGreaterThan(0);
        for (const { id } of rows) await adminClient().exec(`KILL CONNECTION ${id}`);
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

// The deployment with both URLs: users and keys in MySQL, the rest in Redis (a prefix of its
// own, emptied with SCAN + UNLINK between tests; never FLUSHALL).
describeWithServices('mysql+redis composite store', [mysqlProblem, redisProblem], () => {
  let redisPrefix: TestRedisPrefix | undefined;

  beforeAll(() => {
    redisPrefix = createTestRedisPrefix();
  });

  afterAll(async () => {
    await redisPrefix?.cleanup();
  });

  describeStoreConformance(
    'mysql+redis',
    {
      open: async () => {
        if (redisPrefix === undefined) throw new Error('no redis prefix');
        const durable = await openMySQLStore({ url: databaseURL(), migrate: false });
        const hot = await openRedisStore({ url: redisPrefix.url, prefix: redisPrefix.prefix });
        return createCompositeStore({ durable, hot });
      },
      reset: async () => {
        await truncateMySQL(adminClient());
        await redisPrefix?.cleanup();
      },
      close: (store) => store.close(),
    },
    { largeSessionCount: 10_000 },
  );
});
