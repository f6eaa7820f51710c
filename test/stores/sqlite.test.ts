import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LatchkeyError } from '../../src/errors.js';
import type { SqlClient } from '../../src/stores/sql/client.js';
import type { SqlDialect } from '../../src/stores/sql/dialect.js';
import { sqliteDialect } from '../../src/stores/sql/dialects/sqlite.js';
import {
  dialectMigrationsDir,
  migrate,
  pendingMigrations,
  readMigrations,
} from '../../src/stores/sql/migrate.js';
import { createSqlStore } from '../../src/stores/sql/store.js';
import { postgresDialect } from '../../src/stores/sql/dialects/postgres.js';
import {
  createSQLiteClient,
  migrateSQLite,
  openSQLiteDatabase,
  openSQLiteStore,
} from '../../src/stores/sqlite/index.js';
import type { Store } from '../../src/store.js';
import { ROOT } from '../helpers/process.js';
import { describeStoreConformance, T0 } from './conformance.js';

// The conformance suite on a file in a temporary directory (WAL, as the server runs it), and on
// `:memory:` with every single-statement shortcut of the dialect turned off, so that the
// portable forms of the record modules run on SQLite too. The tables are emptied between tests
// and `sqlite_sequence` too, so that `seq` restarts (Postgres: TRUNCATE ... RESTART IDENTITY).

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

/** The SQLite dialect without its single-statement shortcuts. */
const PORTABLE_DIALECT: SqlDialect = {
  ...sqliteDialect,
  supports: {
    insertReturning: false,
    upsertReturning: false,
    updateReturning: false,
    deleteReturning: false,
    writableCte: false,
  },
};

async function emptyTables(client: SqlClient | undefined): Promise<void> {
  await client?.exec(
    [...TABLES.map((table) => `DELETE FROM ${table};`), 'DELETE FROM sqlite_sequence;'].join('\n'),
  );
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-sqlite-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let fileClient: SqlClient | undefined;
describeStoreConformance('sqlite (file, WAL)', {
  open: async () => {
    fileClient = createSQLiteClient(openSQLiteDatabase({ path: join(dir, 'conformance.sqlite') }));
    await migrate(fileClient, { dialect: sqliteDialect });
    return createSqlStore(fileClient, { kind: 'sqlite', dialect: sqliteDialect });
  },
  reset: () => emptyTables(fileClient),
  close: (store) => store.close(),
});

let memoryClient: SqlClient | undefined;
describeStoreConformance(
  'sqlite (:memory:, portable statements)',
  {
    open: async () => {
      memoryClient = createSQLiteClient(openSQLiteDatabase({ path: ':memory:' }));
      await migrate(memoryClient, { dialect: sqliteDialect });
      return createSqlStore(memoryClient, { kind: 'sqlite', dialect: PORTABLE_DIALECT });
    },
    reset: () => emptyTables(memoryClient),
    close: (store) => store.close(),
  },
  { largeSessionCount: 10_000 },
);

const USER = {
  id: 'user-1',
  email: 'sqlite@example.com',
  passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
  status: 'active' as const,
  roles: ['admin', 'ünïcode "quoted"'],
  createdAt: T0,
  updatedAt: T0,
  emailVerifiedAt: null,
};

describe('the SQLite client', () => {
  let client: SqlClient;

  beforeAll(async () => {
    client = createSQLiteClient(openSQLiteDatabase({ path: join(dir, 'client.sqlite') }));
    await client.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL) STRICT');
  });
  afterAll(async () => {
    await client.close();
  });

  it('keeps a transaction to itself: calls from outside wait until it ends', async () => {
    const order: string[] = [];
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => (inside = resolve));
    const failing = client.transaction(async (tx) => {
      await tx.query('INSERT INTO t (id, v) VALUES (?, ?)', [1, 'rolled back']);
      inside();
      // Let other requests run while the transaction is open.
      await new Promise((resolve) => setTimeout(resolve, 20));
      order.push('transaction');
      throw new Error('abort');
    });
    await entered;
    const outside = client.query('INSERT INTO t (id, v) VALUES (?, ?)', [2, 'kept']).then(() => {
      order.push('outside');
    });
    await expect(failing).rejects.toThrow('abort');
    await outside;
    expect(order).toEqual(['transaction', 'outside']);
    const { rows } = await client.query<{ id: number; v: string }>('SELECT id, v FROM t ORDER BY id');
    expect(rows).toEqual([{ id: 2, v: 'kept' }]);
  });

  it('reports rows changed, matched by an UPDATE, and returned', async () => {
    await client.exec('DELETE FROM t');
    expect((await client.query('INSERT INTO t (id, v) VALUES (?, ?)', [3, 'a'])).rowCount).toBe(1);
    expect((await client.query('UPDATE t SET v = ? WHERE id = ?', ['a', 3])).rowCount).toBe(1);
    expect((await client.query('UPDATE t SET v = ? WHERE id = ?', ['a', 99])).rowCount).toBe(0);
    const returned = await client.query<{ id: number }>('DELETE FROM t WHERE id = ? RETURNING id', [3]);
    expect(returned).toEqual({ rows: [{ id: 3 }], rowCount: 1 });
  });

  it('refuses booleans and arrays, which the dialect must encode', async () => {
    await expect(client.query('SELECT ?', [true])).rejects.toThrow(/booleans/);
    await expect(client.query('SELECT ?', [['a']])).rejects.toThrow(/arrays/);
  });
});

describe('sqlite store on a file', () => {
  it('runs in WAL mode and keeps its data across close and reopen, migrating once', async () => {
    const path = join(dir, 'persist', 'latchkey.sqlite');
    const first = await openSQLiteStore({ path });
    expect(first.kind).toBe('sqlite');
    await first.createUser(USER);
    await first.close();
    await expect(first.ping()).rejects.toMatchObject({ code: 'store_unavailable' });

    const second = await openSQLiteStore({ path, migrate: false });
    expect(await second.getUserByEmail(USER.email)).toEqual(USER);
    await expect(second.createUser({ ...USER, id: 'user-2' })).rejects.toBeInstanceOf(LatchkeyError);
    await second.close();
    expect(await migrateSQLite({ path })).toEqual({ applied: [] });

    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      const versions = db.prepare('SELECT version FROM latchkey_migrations ORDER BY version').pluck().all();
      expect(versions).toEqual(
        (await readMigrations(dialectMigrationsDir(sqliteDialect))).map((m) => m.version),
      );
    } finally {
      db.close();
    }
  });

  it('ships the migration versions of Postgres, so that `latchkey migrate` reads the same', async () => {
    const versions = async (dialect: SqlDialect): Promise<string[]> =>
      (await readMigrations(dialectMigrationsDir(dialect))).map((migration) => migration.version);
    expect(await versions(sqliteDialect)).toEqual(await versions(postgresDialect));
  });

  it('refuses to start with pending migrations when told not to migrate', async () => {
    const path = join(dir, 'unmigrated.sqlite');
    const refused = openSQLiteStore({ path, migrate: false });
    await expect(refused).rejects.toMatchObject({ code: 'config_invalid' });
    await expect(refused).rejects.toThrow(/pending migrations \(0001_init, .*LATCHKEY_MIGRATE is false/);
    const client = createSQLiteClient(openSQLiteDatabase({ path }));
    try {
      const all = await readMigrations(dialectMigrationsDir(sqliteDialect));
      expect(await pendingMigrations(client, { dialect: sqliteDialect })).toHaveLength(all.length);
    } finally {
      await client.close();
    }
  });

  it('names the file when it cannot be opened', async () => {
    const path = join(dir, 'not-a-database.sqlite');
    await writeFile(path, 'this is not a SQLite file, but it is long enough to have a header'.repeat(20));
    const refused = openSQLiteStore({ path });
    await expect(refused).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(refused).rejects.toThrow(`SQLite: opening ${path} failed: SQLITE_NOTADB`);
  });

  it('sweeps sessions through the index built on the dialect expression', () => {
    const db = new Database(join(dir, 'persist', 'latchkey.sqlite'), { readonly: true });
    try {
      const expired = sqliteDialect.earliest(['idle_expires_at', 'absolute_expires_at', 'revoked_at']);
      const plan = db
        .prepare(`EXPLAIN QUERY PLAN SELECT id FROM latchkey_sessions WHERE ${expired} <= ?`)
        .all(T0) as Array<{ detail: string }>;
      expect(plan.map((step) => step.detail).join('\n')).toContain('latchkey_sessions_sweep_idx');
    } finally {
      db.close();
    }
  });
});

describe('sqlite store shared by two processes', () => {
  /** A script that opens the store on `path` and hammers the atomic operations. */
  const worker = (path: string, name: string): string => `
import { openSQLiteStore } from ${JSON.stringify(join(ROOT, 'src/stores/sqlite/index.ts'))};
const store = await openSQLiteStore({ path: ${JSON.stringify(path)} });
let rotated = 0;
for (let i = 0; i < 200; i++) {
  await store.increment('shared', 60_000, ${T0});
  if (i % 4 === 0) {
    await store.addRevocation({ kind: 'session', subject: '${name}-' + i, issuedBefore: null, createdAt: ${T0}, expiresAt: ${T0} + 86_400_000 });
    const id = 'token-' + (i / 4);
    const next = { id: id + '-${name}', sessionId: 's', secretHash: 'h', createdAt: ${T0}, expiresAt: ${T0} + 1, rotatedAt: null, successorId: null };
    if (await store.rotateRefreshToken(id, next, ${T0})) rotated += 1;
  }
}
await store.close();
console.log(JSON.stringify({ rotated }));
`;

  const run = (script: string): Promise<{ rotated: number }> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.once('exit', (code) => {
        if (code === 0) resolve(JSON.parse(out) as { rotated: number });
        else reject(new Error(`worker exited with ${code}: ${err}`));
      });
    });

  it('keeps the atomic operations atomic across processes (BEGIN IMMEDIATE and the busy timeout)', async () => {
    const path = join(dir, 'shared', 'latchkey.sqlite');
    const store: Store = await openSQLiteStore({ path });
    for (let i = 0; i < 50; i++) {
      await store.createRefreshToken({
        id: `token-${i}`,
        sessionId: 's',
        secretHash: 'h',
        createdAt: T0,
        expiresAt: T0 + 1,
        rotatedAt: null,
        successorId: null,
      });
    }
    const scripts = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const script = join(dir, `worker-${name}.mts`);
        await writeFile(script, worker(path, name));
        return script;
      }),
    );
    const [a, b] = await Promise.all(scripts.map(run));
    expect((a?.rotated ?? 0) + (b?.rotated ?? 0)).toBe(50);
    expect(await store.getCounter('shared', T0)).toEqual({ count: 400, expiresAt: T0 + 60_000 });
    const seqs = (await store.listRevocations({ now: T0 })).map((record) => record.seq);
    expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    await store.close();
    expect((await readdir(join(dir, 'shared'))).sort()).toEqual(['latchkey.sqlite']);
  }, 60_000);
});
