/**
 * The store drivers are optional packages: `latchkey` installs better-sqlite3 by default (an
 * optionalDependency: the default store, whose native build may fail without failing the
 * install) and none of the others (optional peer dependencies: PGlite, `pg`, `mysql2`,
 * `ioredis`), which the operator installs for the store they choose. A store module imports its
 * driver statically, so importing the module is what fails when the driver is missing; this
 * turns that failure into an error that names the package to install.
 */

import { LatchkeyError } from '../errors.js';

/** The npm package of each driver. */
export const DRIVER_PACKAGES = {
  sqlite: 'better-sqlite3',
  pglite: '@electric-sql/pglite',
  postgres: 'pg',
  mysql: 'mysql2',
  redis: 'ioredis',
} as const;

export type Driver = keyof typeof DRIVER_PACKAGES;

/** What asked for the driver, as the operator configured it. */
const WHO_NEEDS_IT: Record<Driver, string> = {
  sqlite: 'SQLite, the default embedded store,',
  pglite: 'PGlite (LATCHKEY_STORE=pglite, or a data directory that holds a PGlite database)',
  postgres: 'PostgreSQL (a postgres:// DATABASE_URL)',
  mysql: 'MySQL / MariaDB (a mysql:// or mariadb:// DATABASE_URL)',
  redis: 'Redis (REDIS_URL)',
};

/** Whether `error` is Node's "Cannot find package 'name'" for this very package. */
function isMissingPackage(error: unknown, name: string): boolean {
  return (
    error instanceof Error &&
    (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' &&
    error.message.includes(`'${name}'`)
  );
}

/**
 * The error for a driver that is missing (or, for better-sqlite3, did not build), naming the
 * package to install.
 *
 * @example
 * missingDriver('postgres', error).message;
 * // 'PostgreSQL (a postgres:// DATABASE_URL) needs the npm package pg, which is not installed: npm install pg'
 */
export function missingDriver(driver: Driver, cause: unknown): LatchkeyError {
  const name = DRIVER_PACKAGES[driver];
  if (driver === 'sqlite') {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new LatchkeyError(
      'config_invalid',
      `${WHO_NEEDS_IT.sqlite} needs the npm package ${name}, an optional dependency that did not ` +
        `install or does not load here (${reason}): npm install ${name} (a prebuilt binary, or ` +
        'a C++ compiler to build it), or choose another store (LATCHKEY_STORE, DATABASE_URL)',
      { cause },
    );
  }
  return new LatchkeyError(
    'config_invalid',
    `${WHO_NEEDS_IT[driver]} needs the npm package ${name}, which is not installed: npm install ${name}`,
    { cause },
  );
}

/**
 * Imports a store module (`load`), turning a missing driver into {@link missingDriver}. Any
 * other failure is rethrown as it is; for SQLite every failure is the driver's (its native
 * addon is loaded on purpose by `load`).
 *
 * @example
 * const { openPostgresStore } = await importDriver('postgres', () => import('../stores/postgres/index.js'));
 */
export async function importDriver<T>(driver: Driver, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (driver === 'sqlite' || isMissingPackage(error, DRIVER_PACKAGES[driver]))
      throw missingDriver(driver, error);
    throw error;
  }
}
