/**
 * Sessions written before they kept their assurance (migration 0008 on SQL, the eleven-field
 * session on Redis) read back as a password login at their creation: the lowest assurance they
 * can have had, so an upgrade never lets an old session pass a step-up it did not make. And
 * the new fields are written next to them by the same store afterwards.
 */

import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionRecord } from '../../src/records.js';
import { createPostgresClient } from '../../src/stores/postgres/index.js';
import { openRedisStore } from '../../src/stores/redis/index.js';
import { redisKeys } from '../../src/stores/redis/keys.js';
import type { SqlClient } from '../../src/stores/sql/client.js';
import type { SqlDialect } from '../../src/stores/sql/dialect.js';
import { mysqlDialect } from '../../src/stores/sql/dialects/mysql.js';
import { postgresDialect } from '../../src/stores/sql/dialects/postgres.js';
import { sqliteDialect } from '../../src/stores/sql/dialects/sqlite.js';
import { dialectMigrationsDir, migrate } from '../../src/stores/sql/migrate.js';
import { createSqlStore } from '../../src/stores/sql/store.js';
import { createSQLiteClient, openSQLiteDatabase } from '../../src/stores/sqlite/index.js';
import { createTestMySQLDatabase, mysqlAdminClient, probeMySQL } from '../helpers/mysql.js';
import {
  createTestDatabase,
  createTestRedisPrefix,
  describeWithServices,
  probePostgres,
  probeRedis,
} from '../helpers/services.js';

const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;
const [postgresProblem, redisProblem, mysqlProblem] = await Promise.all([
  probePostgres(),
  probeRedis(),
  probeMySQL(),
]);

/** What every old session reads as, beside its own fields. */
const LEGACY = { amr: ['pwd'], authTime: T0, acr: '1' };

/** A folder with the dialect's migrations up to 0007: the schema before sessions kept their assurance. */
async function migrationsBefore0008(
  dialect: SqlDialect,
): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'latchkey-test-0007-'));
  const source = dialectMigrationsDir(dialect);
  for (const name of await readdir(source)) {
    if (/^\d{4}_/.test(name) && name < '0008') await copyFile(join(source, name), join(dir, name));
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Migrates to 0007, writes a session as a 0007 store did, migrates on, and reads it back. */
async function upgradeAndRead(client: SqlClient, dialect: SqlDialect, kind: string): Promise<void> {
  const before = await migrationsBefore0008(dialect);
  try {
    await migrate(client, { dialect, migrationsDir: before.dir });
  } finally {
    await before.remove();
  }
  const persistent = dialect.name === 'postgres' ? 'TRUE' : '1';
  await client.exec(
    `INSERT INTO latchkey_sessions (id, user_id, secret_hash, mode, created_at, last_seen_at,
       idle_expires_at, absolute_expires_at, user_agent, ip, revoked_at, persistent)
     VALUES ('old', 'u1', 'hash', 'hybrid', ${T0}, ${T0 + 5}, ${T0 + DAY}, ${T0 + 2 * DAY}, NULL, NULL, NULL, ${persistent})`,
  );
  const { applied } = await migrate(client, { dialect });
  // 0008 first, then whatever later migrations exist (0009, ...).
  expect(applied[0]).toBe('0008_session_assurance');
  expect(applied.every((version) => version >= '0008')).toBe(true);
  const store = createSqlStore(client, { kind, dialect });
  expect(await store.getSession('old')).toMatchObject({
    id: 'old',
    mode: 'hybrid',
    persistent: true,
    lastSeenAt: T0 + 5,
    ...LEGACY,
  });
  const old = await store.getSession('old');
  if (old === null) throw new Error('the old session is gone');
  const fresh: SessionRecord = {
    ...old,
    id: 'new',
    amr: ['pwd', 'otp', 'mfa'],
    authTime: T0 + 7,
    acr: 'mfa',
  };
  await store.createSession(fresh);
  expect(await store.getSession('new')).toEqual(fresh);
}

describe('sessions from before migration 0008 (sqlite)', () => {
  it('read as a password login at their creation', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'latchkey-test-upgrade-'));
    const client = createSQLiteClient(openSQLiteDatabase({ path: join(dir, 'latchkey.sqlite') }));
    try {
      await upgradeAndRead(client, sqliteDialect, 'sqlite');
    } finally {
      await client.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describeWithServices('sessions from before migration 0008 (postgres)', [postgresProblem], () => {
  it('read as a password login at their creation', async () => {
    const database = await createTestDatabase();
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    pool.on('error', () => undefined);
    const client = createPostgresClient(pool);
    try {
      await upgradeAndRead(client, postgresDialect, 'postgres');
    } finally {
      await client.close();
      await database.drop();
    }
  });
});

describeWithServices('sessions from before migration 0008 (mysql)', [mysqlProblem], () => {
  it('read as a password login at their creation', async () => {
    const database = await createTestMySQLDatabase();
    const client = mysqlAdminClient(database.url);
    try {
      await upgradeAndRead(client, mysqlDialect, 'mysql');
    } finally {
      await client.close();
      await database.drop();
    }
  });
});

describeWithServices('sessions from before the assurance fields (redis)', [redisProblem], () => {
  const prefix = createTestRedisPrefix();
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(prefix.url, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    redis.disconnect();
    await prefix.cleanup();
  });

  it('read the seven- and eight-field sessions as a password login at their creation', async () => {
    const keys = redisKeys(prefix.prefix);
    const header = `${T0 + 5},${T0 + DAY},|`;
    const seven = ['u1', 'hash', 'cookie', T0, T0 + 2 * DAY, 'Mozilla/5.0', '203.0.113.7'];
    await redis.set(keys.session('seven'), header + JSON.stringify(seven), 'PX', DAY);
    await redis.set(keys.session('eight'), header + JSON.stringify([...seven, 1]), 'PX', DAY);
    await redis.set(
      keys.session('broken'),
      header + JSON.stringify([...seven, 1, 'pwd otp mfa', 'yesterday', 'mfa']),
      'PX',
      DAY,
    );
    const store = await openRedisStore({ url: prefix.url, prefix: prefix.prefix });
    try {
      expect(await store.getSession('seven')).toMatchObject({ persistent: false, ...LEGACY });
      expect(await store.getSession('eight')).toMatchObject({ persistent: true, ...LEGACY });
      // A record with the fields must have them right: no silent downgrade of a garbled one.
      await expect(store.getSession('broken')).rejects.toThrow();
    } finally {
      await store.close();
    }
  });
});
