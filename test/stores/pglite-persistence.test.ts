import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/app/stores.js';
import { loadConfig } from '../../src/config/config.js';
import { LatchkeyError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { createPGliteClient, openPGliteStore } from '../../src/stores/pglite/index.js';
import type { SqlClient } from '../../src/stores/sql/client.js';
import {
  defaultMigrationsDir,
  migrate,
  pendingMigrations,
  readMigrations,
} from '../../src/stores/sql/migrate.js';
import type { SessionRecord, UserRecord } from '../../src/records.js';

const T0 = Date.UTC(2026, 0, 1);
const ROOT = join(import.meta.dirname, '..', '..');

const USER: UserRecord = {
  id: 'user-1',
  email: 'persist@example.com',
  passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
  status: 'active',
  roles: ['admin'],
  createdAt: T0,
  updatedAt: T0,
  emailVerifiedAt: null,
};

const SESSION: SessionRecord = {
  id: 'session-1',
  userId: 'user-1',
  secretHash: 'c2VjcmV0',
  mode: 'hybrid',
  createdAt: T0,
  lastSeenAt: T0,
  idleExpiresAt: T0 + 86_400_000,
  absoluteExpiresAt: T0 + 30 * 86_400_000,
  userAgent: null,
  ip: '198.51.100.1',
  revokedAt: null,
  persistent: false,
  amr: ['pwd'],
  authTime: T0,
  acr: '1',
};

async function migrationRows(client: SqlClient): Promise<string[]> {
  const { rows } = await client.query<{ version: string }>(
    'SELECT version FROM latchkey_migrations ORDER BY version',
  );
  return rows.map((row) => row.version);
}

/** Every migration the package ships, in order (the runner must apply exactly these). */
async function shippedVersions(): Promise<string[]> {
  return (await readMigrations()).map((migration) => migration.version);
}

describe('migrations folder', () => {
  it('resolves from src/ and from dist/ to the same folder', async () => {
    const expected = join(ROOT, 'migrations');
    expect(defaultMigrationsDir()).toBe(expected + '/');
    const fromDist = pathToFileURL(join(ROOT, 'dist', 'stores', 'sql', 'migrate.js')).href;
    expect(defaultMigrationsDir(fromDist)).toBe(expected + '/');
    const migrations = await readMigrations();
    expect(migrations.map((migration) => migration.version)[0]).toBe('0001_init');
  });
});

describe('pglite store on a data directory', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latchkey-pglite-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps its data across close and reopen, and migrates once', { timeout: 120_000 }, async () => {
    const dataDir = join(dir, 'db');
    const first = await openPGliteStore({ dataDir });
    expect(first.kind).toBe('pglite');
    await first.createUser(USER);
    await first.createSession(SESSION);
    await first.close();
    await expect(first.ping()).rejects.toMatchObject({ code: 'store_unavailable' });

    const second = await openPGliteStore({ dataDir });
    expect(await second.getUserByEmail(USER.email)).toEqual(USER);
    expect(await second.getSession(SESSION.id)).toEqual(SESSION);
    await expect(second.createUser({ ...USER, id: 'user-2' })).rejects.toBeInstanceOf(LatchkeyError);
    await second.close();

    const client = createPGliteClient(await PGlite.create(dataDir));
    try {
      expect(await migrationRows(client)).toEqual(await shippedVersions());
      expect(await pendingMigrations(client)).toEqual([]);
      expect(await migrate(client)).toEqual({ applied: [] });
      expect(await migrationRows(client)).toEqual(await shippedVersions());
    } finally {
      await client.close();
    }
  });
});

describe('an existing PGlite data directory, after the upgrade to SQLite as the default', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latchkey-upgrade-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is kept, nothing lost, and the log says how to move', { timeout: 120_000 }, async () => {
    // What an earlier version left: PGlite in <dataDir>/pglite, with a user and a session.
    const before = await openPGliteStore({ dataDir: join(dir, 'pglite') });
    await before.createUser(USER);
    await before.createSession(SESSION);
    await before.close();

    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'warn', destination });
    const store = await openStore(loadConfig({ LATCHKEY_DATA_DIR: dir }), { logger });
    try {
      expect(store.kind).toBe('pglite');
      expect(await store.getUserByEmail(USER.email)).toEqual(USER);
      expect(await store.getSession(SESSION.id)).toEqual(SESSION);
    } finally {
      await store.close();
    }
    const warning = lines.join('');
    expect(warning).toContain('"event":"store.pglite_kept"');
    expect(warning).toContain(
      'Set LATCHKEY_STORE=pglite to silence this; moving to SQLite: see docs/deploying.md',
    );
  });
});

describe('migration runner', () => {
  let client: SqlClient;
  let dir: string;

  beforeAll(async () => {
    client = createPGliteClient(await PGlite.create());
    dir = await mkdtemp(join(tmpdir(), 'latchkey-migrations-'));
  });

  afterAll(async () => {
    await client.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies pending migrations once, even when started twice at the same time', async () => {
    expect(await pendingMigrations(client)).toEqual(await shippedVersions());
    const [a, b] = await Promise.all([migrate(client), migrate(client)]);
    expect([...a.applied, ...b.applied]).toEqual(await shippedVersions());
    expect(await migrate(client)).toEqual({ applied: [] });
    expect(await pendingMigrations(client)).toEqual([]);
    expect(await migrationRows(client)).toEqual(await shippedVersions());
  });

  it('applies files in order, each in its own transaction, and stops at a failing one', async () => {
    await writeFile(
      join(dir, '0001_alpha.sql'),
      'CREATE TABLE mig_alpha (id int);\nINSERT INTO mig_alpha VALUES (1);',
    );
    await writeFile(join(dir, '0002_beta.sql'), 'ALTER TABLE mig_alpha ADD COLUMN note text;');
    await writeFile(join(dir, '0003_broken.sql'), 'CREATE TABLE mig_gamma (id int);\nTHIS IS NOT SQL;');
    await writeFile(join(dir, 'README.md'), 'not a migration');

    expect(await pendingMigrations(client, { migrationsDir: dir })).toEqual([
      '0001_alpha',
      '0002_beta',
      '0003_broken',
    ]);
    await expect(migrate(client, { migrationsDir: dir })).rejects.toThrow();
    expect(await pendingMigrations(client, { migrationsDir: dir })).toEqual(['0003_broken']);
    const { rows } = await client.query<{ present: boolean }>(
      "SELECT to_regclass('mig_gamma') IS NOT NULL AS present",
    );
    expect(rows[0]?.present).toBe(false);

    await writeFile(join(dir, '0003_broken.sql'), 'CREATE TABLE mig_gamma (id int);');
    expect(await migrate(client, { migrationsDir: dir })).toEqual({ applied: ['0003_broken'] });
    expect(await migrate(client, { migrationsDir: dir })).toEqual({ applied: [] });
  });
});
