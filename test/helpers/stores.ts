/**
 * Every store kind, as a factory of fresh, isolated stores for HTTP and keyring tests that must
 * hold on every backend, not only on the memory store.
 *
 * | kind       | shared by the file                          | isolation per test                       |
 * | ---------- | ------------------------------------------- | ---------------------------------------- |
 * | `memory`   | nothing                                     | a new store                              |
 * | `pglite`   | one in-memory PGlite (~5 s, ~800 MB to make) | its tables emptied after the test        |
 * | `sqlite`   | one SQLite file in a temporary directory    | its tables emptied after the test        |
 * | `postgres` | a database of its own on the shared server  | its tables emptied after the test        |
 * | `redis`    | nothing                                     | a key prefix of its own, removed after   |
 * | `mysql`    | a database of its own on the shared MariaDB | its tables emptied after the test        |
 *
 * A kind whose server is unreachable is skipped with a warning on a developer machine and fails
 * in CI (`describeWithServices`). A new backend (MySQL) is one more entry in `FACTORIES`.
 *
 * @example
 * const stores = await probeStores();
 * describeEachStore('security rules', stores, (kind) => {
 *   let t: TestApp;
 *   beforeEach(async () => (t = await createTestApp({ store: await kind.open() })));
 *   afterEach(() => t.close()); // describeEachStore empties the store after the test
 * });
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { createPGliteClient } from '../../src/stores/pglite/index.js';
import { sqliteDialect } from '../../src/stores/sql/dialects/sqlite.js';
import { createSQLiteClient, openSQLiteDatabase } from '../../src/stores/sqlite/index.js';
import { openMySQLStore } from '../../src/stores/mysql/index.js';
import { createPostgresClient, openPostgresStore } from '../../src/stores/postgres/index.js';
import { openRedisStore } from '../../src/stores/redis/index.js';
import type { SqlClient } from '../../src/stores/sql/client.js';
import { migrate } from '../../src/stores/sql/migrate.js';
import { createSqlStore } from '../../src/stores/sql/store.js';
import type { Store } from '../../src/store.js';
import {
  createTestDatabase,
  createTestRedisPrefix,
  describeWithServices,
  probePostgres,
  probeRedis,
  type TestDatabase,
  type TestRedisPrefix,
} from './services.js';
import {
  createTestMySQLDatabase,
  mysqlAdminClient,
  probeMySQL,
  truncateMySQL,
  type TestMySQLDatabase,
} from './mysql.js';

export type StoreKind = 'memory' | 'pglite' | 'sqlite' | 'postgres' | 'redis' | 'mysql';

export const STORE_KINDS: readonly StoreKind[] = ['memory', 'pglite', 'sqlite', 'postgres', 'redis', 'mysql'];

/** Fresh stores of one kind, for the tests of one file. */
export interface StoreFactory {
  readonly kind: StoreKind;
  /** Null when the kind can run here, else why not (a server that did not answer). */
  readonly problem: string | null;
  /** Makes what the file shares (PGlite instance, SQLite file, database); in `beforeAll`. */
  setup(): Promise<void>;
  /**
   * An empty store for one test (open one per test: a second one in the same test shares the
   * first one's data on PGlite, SQLite and Postgres, not on memory and Redis). Closing it, as
   * `TestApp.close()` does, never closes what the file shares.
   */
  open(): Promise<Store>;
  /** Empties what the test wrote; in `afterEach`, after the test closed its stores. */
  reset(): Promise<void>;
  /** Releases what the file shares; in `afterAll`. */
  teardown(): Promise<void>;
}

/** The tables of the schema (without the migration ledger), read from the database itself. */
async function latchkeyTables(client: SqlClient): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT tablename AS name FROM pg_tables
      WHERE schemaname = current_schema() AND tablename LIKE 'latchkey\\_%' AND tablename <> 'latchkey_migrations'
      ORDER BY tablename`,
  );
  return rows.map((row) => row.name);
}

async function truncateAll(client: SqlClient): Promise<void> {
  const tables = await latchkeyTables(client);
  if (tables.length === 0) throw new Error('no latchkey tables: were the migrations applied?');
  await client.exec(`TRUNCATE ${tables.join(', ')} RESTART IDENTITY`);
}

function memoryFactory(): StoreFactory {
  return {
    kind: 'memory',
    problem: null,
    setup: () => Promise.resolve(),
    open: () => Promise.resolve(createMemoryStore()),
    reset: () => Promise.resolve(),
    teardown: () => Promise.resolve(),
  };
}

/** One in-memory PGlite for the file; each store wraps it with a `close()` that leaves it open. */
function pgliteFactory(): StoreFactory {
  let client: SqlClient | undefined;
  const shared = (): SqlClient => {
    if (client === undefined) throw new Error('pglite: setup() has not run');
    return client;
  };
  return {
    kind: 'pglite',
    problem: null,
    async setup() {
      client ??= createPGliteClient(await PGlite.create());
      await migrate(client);
    },
    open: () => Promise.resolve(createSqlStore(borrow(shared()), { kind: 'pglite' })),
    reset: () => truncateAll(shared()),
    async teardown() {
      await client?.close();
      client = undefined;
    },
  };
}

/** A store over `client` whose `close()` leaves the client open (the file's to close). */
function borrow(inner: SqlClient): SqlClient {
  return {
    query: (sql, params) => inner.query(sql, params),
    exec: (sql) => inner.exec(sql),
    transaction: (fn) => inner.transaction(fn),
    close: () => Promise.resolve(),
  };
}

/** One SQLite file (WAL, as the server runs it) in a temporary directory for the file. */
function sqliteFactory(): StoreFactory {
  let dir: string | undefined;
  let client: SqlClient | undefined;
  const shared = (): SqlClient => {
    if (client === undefined) throw new Error('sqlite: setup() has not run');
    return client;
  };
  return {
    kind: 'sqlite',
    problem: null,
    async setup() {
      dir ??= await mkdtemp(join(tmpdir(), 'latchkey-test-sqlite-'));
      client ??= createSQLiteClient(openSQLiteDatabase({ path: join(dir, 'latchkey.sqlite') }));
      await migrate(client, { dialect: sqliteDialect });
    },
    open: () => Promise.resolve(createSqlStore(borrow(shared()), { kind: 'sqlite', dialect: sqliteDialect })),
    async reset() {
      const inner = shared();
      const { rows } = await inner.query<{ name: string }>(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'latchkey\\_%' ESCAPE '\\' AND name <> 'latchkey_migrations'",
      );
      if (rows.length === 0) throw new Error('no latchkey tables: were the migrations applied?');
      // The `seq` of revocations restarts, as TRUNCATE ... RESTART IDENTITY does on Postgres.
      await inner.exec(
        [...rows.map((row) => `DELETE FROM ${row.name};`), 'DELETE FROM sqlite_sequence;'].join('\n'),
      );
    },
    async teardown() {
      await client?.close();
      client = undefined;
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      dir = undefined;
    },
  };
}

/** A database of the file's own on the shared server, migrated once, emptied between tests. */
function postgresFactory(problem: string | null): StoreFactory {
  let database: TestDatabase | undefined;
  let admin: SqlClient | undefined;
  /** The test database skips waiting for the WAL flush: it need not survive a power cut. */
  const url = (): string => {
    if (database === undefined) throw new Error('postgres: setup() has not run');
    const withOptions = new URL(database.url);
    withOptions.searchParams.set('options', '-c synchronous_commit=off');
    return withOptions.toString();
  };
  return {
    kind: 'postgres',
    problem,
    async setup() {
      database ??= await createTestDatabase();
      if (admin === undefined) {
        const pool = new pg.Pool({ connectionString: database.url, max: 1 });
        // The database is dropped WITH (FORCE) at teardown: a connection still closing then is
        // terminated by the server, which the pool reports as an error on an idle client.
        pool.on('error', () => undefined);
        admin = createPostgresClient(pool);
      }
      await migrate(admin);
    },
    open: () => openPostgresStore({ url: url(), migrate: false, poolSize: 4 }),
    async reset() {
      if (admin !== undefined) await truncateAll(admin);
    },
    async teardown() {
      await admin?.close();
      admin = undefined;
      await database?.drop();
      database = undefined;
    },
  };
}

/** A key prefix of its own for every store opened; `reset` removes the keys of each. */
function redisFactory(problem: string | null): StoreFactory {
  let prefixes: TestRedisPrefix[] = [];
  const cleanup = async (): Promise<void> => {
    const used = prefixes;
    prefixes = [];
    await Promise.all(used.map((prefix) => prefix.cleanup()));
  };
  return {
    kind: 'redis',
    problem,
    setup: () => Promise.resolve(),
    open() {
      const prefix = createTestRedisPrefix();
      prefixes.push(prefix);
      return openRedisStore({ url: prefix.url, prefix: prefix.prefix });
    },
    reset: cleanup,
    teardown: cleanup,
  };
}

/** A database of the file's own on the shared MySQL / MariaDB, migrated once, emptied between tests. */
function mysqlFactory(problem: string | null): StoreFactory {
  let database: TestMySQLDatabase | undefined;
  let admin: SqlClient | undefined;
  const url = (): string => {
    if (database === undefined) throw new Error('mysql: setup() has not run');
    return database.url;
  };
  return {
    kind: 'mysql',
    problem,
    async setup() {
      database ??= await createTestMySQLDatabase();
      admin ??= mysqlAdminClient(database.url);
      await openMySQLStore({ url: database.url, poolSize: 1 }).then((store) => store.close());
    },
    open: () => openMySQLStore({ url: url(), migrate: false, poolSize: 4 }),
    async reset() {
      if (admin !== undefined) await truncateMySQL(admin);
    },
    async teardown() {
      await admin?.close();
      admin = undefined;
      await database?.drop();
      database = undefined;
    },
  };
}

/**
 * The factories of `kinds` (all by default), each with the answer of its server's probe.
 * Call it with top-level `await`, before the `describe` blocks.
 */
export async function probeStores(kinds: readonly StoreKind[] = STORE_KINDS): Promise<StoreFactory[]> {
  const [postgresProblem, redisProblem, mysqlProblem] = await Promise.all([
    kinds.includes('postgres') ? probePostgres() : Promise.resolve(null),
    kinds.includes('redis') ? probeRedis() : Promise.resolve(null),
    kinds.includes('mysql') ? probeMySQL() : Promise.resolve(null),
  ]);
  const factories: Record<StoreKind, () => StoreFactory> = {
    memory: memoryFactory,
    pglite: pgliteFactory,
    sqlite: sqliteFactory,
    postgres: () => postgresFactory(postgresProblem),
    redis: () => redisFactory(redisProblem),
    mysql: () => mysqlFactory(mysqlProblem),
  };
  return kinds.map((kind) => factories[kind]());
}

/**
 * One `describe` per store kind (`<name> (<kind>)`), with the factory's `setup` in `beforeAll`,
 * its `reset` after each test (registered first, so it runs after the body's own `afterEach`,
 * which closes the test's stores) and its `teardown` in `afterAll`. A kind whose server did not
 * answer is skipped with a warning, or fails in CI.
 */
export function describeEachStore(
  name: string,
  factories: readonly StoreFactory[],
  body: (factory: StoreFactory) => void,
): void {
  for (const factory of factories) {
    describeWithServices(`${name} (${factory.kind})`, [factory.problem], () => {
      beforeAll(() => factory.setup());
      afterEach(() => factory.reset());
      afterAll(() => factory.teardown());
      body(factory);
    });
  }
}
