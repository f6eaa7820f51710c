/**
 * The shared MySQL / MariaDB server of the test suites: LATCHKEY_TEST_MYSQL_URL (default
 * mysql://root@127.0.0.1:3306/test, the MariaDB that `.ci/run` starts). Each suite works in a
 * database of its own (`latchkey_test_<pid>_<random>`) and drops it at the end; nothing here
 * stops, restarts or flushes the shared server.
 */

import mysql from 'mysql2/promise';
import { createMySQLClient, createMySQLPool } from '../../src/stores/mysql/index.js';
import type { SqlClient } from '../../src/stores/sql/client.js';
import { uniqueSuffix } from './services.js';

export const MYSQL_ADMIN_URL = process.env.LATCHKEY_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** The tables of the schema, emptied between tests (the migration ledger and the locks stay). */
export const MYSQL_TABLES = [
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

async function withAdmin<T>(url: string, run: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection({ uri: url, connectTimeout: 2_000 });
  connection.on('error', () => undefined);
  try {
    return await run(connection);
  } finally {
    await connection.end().catch(() => undefined);
  }
}

/** Resolves to null when the server at `url` answers `SELECT 1`, or to the reason it did not. */
export async function probeMySQL(url: string = MYSQL_ADMIN_URL): Promise<string | null> {
  try {
    await withAdmin(url, (connection) => connection.query('SELECT 1'));
    return null;
  } catch (error) {
    return `MySQL/MariaDB at ${url}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** A database of its own on the shared server. */
export interface TestMySQLDatabase {
  name: string;
  /** `mysql://...` with the database in the path. */
  url: string;
  /** Drops the database (never throws). */
  drop(): Promise<void>;
}

/**
 * Creates `latchkey_test_<pid>_<random>` on the shared server.
 *
 * @example
 * const db = await createTestMySQLDatabase();
 * afterAll(() => db.drop());
 */
export async function createTestMySQLDatabase(
  adminURL: string = MYSQL_ADMIN_URL,
): Promise<TestMySQLDatabase> {
  const name = `latchkey_test_${uniqueSuffix()}`;
  await withAdmin(adminURL, (connection) =>
    connection.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`),
  );
  const url = new URL(adminURL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      await withAdmin(adminURL, (connection) => connection.query(`DROP DATABASE IF EXISTS ${name}`)).catch(
        () => undefined,
      );
    },
  };
}

/** A small pool on `url` wrapped as a SqlClient (multiple statements allowed), for test set-up. */
export function mysqlAdminClient(url: string): SqlClient {
  return createMySQLClient(
    createMySQLPool({ url, max: 2, connectionTimeoutMs: 5_000, multipleStatements: true }),
    { statementTimeoutMs: 0, lockWaitTimeoutS: 50 },
  );
}

/** Empties every table of the schema (TRUNCATE also restarts AUTO_INCREMENT). */
export async function truncateMySQL(client: SqlClient): Promise<void> {
  await client.exec(MYSQL_TABLES.map((table) => `TRUNCATE TABLE ${table}`).join(';\n'));
}
