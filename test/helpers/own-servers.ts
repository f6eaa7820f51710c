/**
 * Private Postgres, Redis and MariaDB servers that a test may stop and start at will: a Postgres
 * cluster made with initdb in a temporary directory, a redis-server without persistence, and a
 * mariadbd on a data directory made with mariadb-install-db, each on a free loopback port. Never
 * used against the shared servers.
 */

import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readdirSync, realpathSync } from 'node:fs';
import { access, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './process.js';

const run = promisify(execFile);

/** The server binaries a cluster of our own needs, all in one directory. */
const POSTGRES_BINARIES = ['initdb', 'pg_ctl', 'postgres'] as const;

/** Where {@link findPostgresBin} looks; every part can be replaced in a test. */
export interface PostgresBinSearch {
  /** Reads `LATCHKEY_TEST_PG_BIN` and `PATH`. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** `pg_config --bindir`, or null without a pg_config. Default: runs it from `PATH`. */
  pgConfigBindir?: () => string | null;
  /** The directory of Debian's versioned installs. Default: `/usr/lib/postgresql`. */
  versionsRoot?: string;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function hasServerBinaries(dir: string): boolean {
  return POSTGRES_BINARIES.every((binary) => isExecutable(join(dir, binary)));
}

function runPgConfig(): string | null {
  try {
    const out = execFileSync('pg_config', ['--bindir'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    });
    return out.trim() || null;
  } catch {
    return null;
  }
}

/** Newest first, compared as numbers part by part: `16`, `15`, `10`, `9.6`. */
function compareVersionsDescending(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (right[i] ?? -1) - (left[i] ?? -1);
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * The directory of the PostgreSQL server binaries (`initdb`, `pg_ctl`, `postgres`): the
 * `LATCHKEY_TEST_PG_BIN` given, else `pg_config --bindir` when it holds them (Debian's
 * pg_config belongs to libpq and may name a version whose server is not installed), else the
 * newest `/usr/lib/postgresql/<version>/bin` that holds them, else the directory of the
 * `initdb` found on `PATH` (its symbolic links followed: `pg_ctl` looks for `postgres` next to
 * itself). Null when none is found.
 *
 * @example
 * findPostgresBin(); // '/usr/lib/postgresql/16/bin'
 */
export function findPostgresBin(search: PostgresBinSearch = {}): string | null {
  const env = search.env ?? process.env;
  const given = env.LATCHKEY_TEST_PG_BIN;
  if (given !== undefined && given !== '') return given;

  const fromPgConfig = (search.pgConfigBindir ?? runPgConfig)();
  if (fromPgConfig !== null && hasServerBinaries(fromPgConfig)) return fromPgConfig;

  const root = search.versionsRoot ?? '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = readdirSync(root).filter((name) => /^\d+(\.\d+)*$/.test(name));
  } catch {
    // No versioned installs.
  }
  for (const version of versions.sort(compareVersionsDescending)) {
    const dir = join(root, version, 'bin');
    if (hasServerBinaries(dir)) return dir;
  }

  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '' || !isExecutable(join(dir, 'initdb'))) continue;
    const real = dirname(realpathSync(join(dir, 'initdb')));
    if (hasServerBinaries(real)) return real;
  }
  return null;
}

let postgresBin: string | null | undefined;

/** {@link findPostgresBin}, looked up once. */
export function postgresBinDir(): string | null {
  postgresBin ??= findPostgresBin();
  return postgresBin;
}

/** `LATCHKEY_TEST_REDIS_SERVER`, else the first `redis-server` on `PATH`, else `/usr/bin/redis-server`. */
function findRedisServer(): string {
  const given = process.env.LATCHKEY_TEST_REDIS_SERVER;
  if (given !== undefined && given !== '') return given;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && isExecutable(join(dir, 'redis-server'))) return join(dir, 'redis-server');
  }
  return '/usr/bin/redis-server';
}

export const REDIS_SERVER = findRedisServer();

/** Resolves to null when the binaries exist, or to what is missing. */
export async function probeOwnServerBinaries(): Promise<string | null> {
  const bin = postgresBinDir();
  if (bin === null) {
    return (
      'the PostgreSQL server binaries (initdb, pg_ctl, postgres) are not in `pg_config --bindir`, ' +
      '/usr/lib/postgresql/*/bin or PATH: install PostgreSQL or set LATCHKEY_TEST_PG_BIN'
    );
  }
  const needed = [...POSTGRES_BINARIES.map((binary) => join(bin, binary)), REDIS_SERVER];
  if (process.getuid?.() === 0) needed.push('/usr/sbin/runuser');
  for (const file of needed) {
    try {
      await access(file);
    } catch {
      return `${file} is missing`;
    }
  }
  return null;
}

/** The PostgreSQL binary directory; throws when there is none (after the probe said so). */
function requirePostgresBin(): string {
  const bin = postgresBinDir();
  if (bin === null) throw new Error('no PostgreSQL server binaries (see probeOwnServerBinaries)');
  return bin;
}

/** A Postgres cluster of the test's own. */
export interface OwnPostgres {
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  url: string;
  start(): Promise<void>;
  /** `pg_ctl stop -m immediate`: no clean shutdown, as in a crash. */
  stopImmediately(): Promise<void>;
  /** Stops the server if it runs and removes its directory; never throws. */
  destroy(): Promise<void>;
}

/**
 * Creates a cluster with initdb and starts it. Postgres refuses to run as root: as root, every
 * command runs as the `postgres` user (through runuser) on a directory chowned to it.
 */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const root = await mkdtemp(join(tmpdir(), 'lk-pg-'));
  const dataDir = join(root, 'data');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const bin = requirePostgresBin();
  const pgUser = async (binary: string, args: string[]): Promise<string> => {
    const command = asRoot ? '/usr/sbin/runuser' : join(bin, binary);
    const commandArgs = asRoot ? ['-u', 'postgres', '--', join(bin, binary), ...args] : args;
    const { stdout } = await run(command, commandArgs, { timeout: 60_000 });
    return stdout;
  };
  const destroy = async (): Promise<void> => {
    try {
      await pgUser('pg_ctl', ['-D', dataDir, 'stop', '-m', 'immediate', '-w', '-t', '10']);
    } catch {
      // Not running, or pg_ctl failed: make sure with the postmaster's pid.
      try {
        const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
        if (Number.isInteger(pid) && pid > 0) process.kill(pid, 'SIGKILL');
      } catch {
        // No pid file: nothing runs.
      }
    }
    await rm(root, { recursive: true, force: true }).catch(() => undefined);
  };
  try {
    if (asRoot) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      await chown(root, Number(stdout.trim()), Number(gid.trim()));
    }
    await pgUser('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  } catch (error) {
    await destroy();
    throw error;
  }
  const start = async (): Promise<void> => {
    const options = [
      `-p ${port}`,
      `-k ${root}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c max_connections=50',
      '-c shared_buffers=16MB',
    ].join(' ');
    await pgUser('pg_ctl', [
      '-D',
      dataDir,
      '-o',
      options,
      '-l',
      join(root, 'log'),
      '-w',
      '-t',
      '30',
      'start',
    ]);
  };
  try {
    await start();
  } catch (error) {
    await destroy();
    throw error;
  }
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stopImmediately: async () => {
      await pgUser('pg_ctl', ['-D', dataDir, 'stop', '-m', 'immediate', '-w', '-t', '30']);
    },
    destroy,
  };
}

/** A redis-server of the test's own, without persistence. */
export interface OwnRedis {
  port: number;
  url: string;
  /** Starts it again on the same port (empty: it keeps nothing). */
  start(): Promise<void>;
  /** Kills it with SIGKILL and waits for the exit. */
  kill(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open and nothing answers. */
  pause(): void;
  resume(): void;
  destroy(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const { createConnection } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Starts `redis-server --port <free> --save '' --appendonly no` on loopback; `dir` is where it
 * would write (a test that turns persistence on with CONFIG SET passes a temporary one).
 */
export async function startOwnRedis(options: { dir?: string } = {}): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const spawned = spawn(
      REDIS_SERVER,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--loglevel',
        'warning',
        ...(options.dir === undefined ? [] : ['--dir', options.dir]),
      ],
      { stdio: 'ignore' },
    );
    child = spawned;
    await waitForPort(port, spawned, 10_000);
  };
  const kill = async (): Promise<void> => {
    const current = child;
    if (current === undefined || current.exitCode !== null || current.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      current.once('exit', () => resolve());
      current.kill('SIGCONT');
      current.kill('SIGKILL');
    });
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    kill,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    destroy: () => kill().catch(() => undefined),
  };
}

/** `LATCHKEY_TEST_<NAME>` if set, else the first of `names` on `PATH` or in `/usr/sbin`, or null. */
function findServerBinary(variable: string, names: readonly string[]): string | null {
  const given = process.env[variable];
  if (given !== undefined && given !== '') return given;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin'];
  for (const name of names) {
    for (const dir of dirs) {
      if (dir !== '' && isExecutable(join(dir, name))) return join(dir, name);
    }
  }
  return null;
}

/** `LATCHKEY_TEST_MARIADBD`, else `mariadbd` (or `mysqld`) on `PATH` or in /usr/sbin. */
export const MARIADB_SERVER = findServerBinary('LATCHKEY_TEST_MARIADBD', ['mariadbd', 'mysqld']);
/** `LATCHKEY_TEST_MARIADB_INSTALL_DB`, else `mariadb-install-db` (or `mysql_install_db`). */
export const MARIADB_INSTALL_DB = findServerBinary('LATCHKEY_TEST_MARIADB_INSTALL_DB', [
  'mariadb-install-db',
  'mysql_install_db',
]);

/** Resolves to null when a MariaDB of the test's own can be made here, or to what is missing. */
export function probeOwnMariaDBBinaries(): Promise<string | null> {
  if (MARIADB_SERVER === null || MARIADB_INSTALL_DB === null) {
    return Promise.resolve(
      'the MariaDB server binaries (mariadbd and mariadb-install-db) are not on PATH or in /usr/sbin: ' +
        'install mariadb-server or set LATCHKEY_TEST_MARIADBD and LATCHKEY_TEST_MARIADB_INSTALL_DB',
    );
  }
  return Promise.resolve(null);
}

/** A MariaDB server of the test's own, with an empty database `latchkey`. */
export interface OwnMariaDB {
  port: number;
  /** `mysql://root@127.0.0.1:<port>/latchkey`. */
  url: string;
  /** Starts it again on the same port and data directory (InnoDB recovers what was committed). */
  start(): Promise<void>;
  /** Kills it with SIGKILL, as in a crash, and waits for the exit. */
  kill(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open and nothing answers. */
  pause(): void;
  resume(): void;
  /** Stops it if it runs and removes its directory; never throws. */
  destroy(): Promise<void>;
}

/** Waits until the server at `url` answers `SELECT 1` (its database exists), or throws. */
async function waitForMySQL(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const { default: mysql } = await import('mysql2/promise');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mariadbd exited with ${child.exitCode}`);
    try {
      const connection = await mysql.createConnection({ uri: url, connectTimeout: 1_000 });
      connection.on('error', () => undefined);
      await connection.query('SELECT 1');
      await connection.end();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`mariadbd did not answer on ${url}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * Creates a data directory with mariadb-install-db and starts `mariadbd` on a free loopback port
 * (`--no-defaults`: nothing of the machine's configuration, and never the machine's server).
 * Root has an empty password over TCP. As root, the server runs as root (`--user=root`).
 */
export async function startOwnMariaDB(): Promise<OwnMariaDB> {
  if (MARIADB_SERVER === null || MARIADB_INSTALL_DB === null) {
    throw new Error('no MariaDB server binaries (see probeOwnMariaDBBinaries)');
  }
  const server = MARIADB_SERVER;
  const root = await mkdtemp(join(tmpdir(), 'lk-mariadb-'));
  const dataDir = join(root, 'data');
  const port = await freePort();
  const url = `mysql://root@127.0.0.1:${port}/latchkey`;
  const user = process.getuid?.() === 0 ? ['--user=root'] : [];
  let child: ChildProcess | undefined;
  const kill = async (): Promise<void> => {
    const current = child;
    if (current === undefined || current.exitCode !== null || current.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      current.once('exit', () => resolve());
      current.kill('SIGCONT');
      current.kill('SIGKILL');
    });
  };
  const destroy = async (): Promise<void> => {
    await kill().catch(() => undefined);
    await rm(root, { recursive: true, force: true }).catch(() => undefined);
  };
  const initFile = join(root, 'init.sql');
  const start = async (): Promise<void> => {
    const spawned = spawn(
      server,
      [
        '--no-defaults',
        `--datadir=${dataDir}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--socket=${join(root, 'mysqld.sock')}`,
        `--pid-file=${join(root, 'mysqld.pid')}`,
        `--log-error=${join(root, 'error.log')}`,
        `--init-file=${initFile}`,
        '--skip-name-resolve',
        '--skip-log-bin',
        '--innodb-buffer-pool-size=32M',
        '--max-connections=100',
        ...user,
      ],
      { stdio: 'ignore' },
    );
    child = spawned;
    await waitForMySQL(url, spawned, 60_000);
  };
  try {
    await run(
      MARIADB_INSTALL_DB,
      [
        '--no-defaults',
        `--datadir=${dataDir}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        '--skip-name-resolve',
        ...user,
      ],
      { timeout: 120_000 },
    );
    await writeFile(
      initFile,
      'CREATE DATABASE IF NOT EXISTS latchkey CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;\n',
    );
    await start();
  } catch (error) {
    await destroy();
    throw error;
  }
  return {
    port,
    url,
    start,
    kill,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    destroy,
  };
}
