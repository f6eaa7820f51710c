/**
 * Private Postgres and Redis servers that a test may stop and start at will: a Postgres cluster
 * made with initdb in a temporary directory, and a redis-server without persistence, each on a
 * free loopback port. Never used against the shared servers.
 */

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { access, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './process.js';

const run = promisify(execFile);

export const POSTGRES_BIN = process.env.LATCHKEY_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
export const REDIS_SERVER = process.env.LATCHKEY_TEST_REDIS_SERVER ?? '/usr/bin/redis-server';

/** Resolves to null when the binaries exist, or to what is missing. */
export async function probeOwnServerBinaries(): Promise<string | null> {
  const needed = [join(POSTGRES_BIN, 'initdb'), join(POSTGRES_BIN, 'pg_ctl'), REDIS_SERVER];
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
  const pgUser = async (binary: string, args: string[]): Promise<string> => {
    const command = asRoot ? '/usr/sbin/runuser' : join(POSTGRES_BIN, binary);
    const commandArgs = asRoot ? ['-u', 'postgres', '--', join(POSTGRES_BIN, binary), ...args] : args;
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

/** Starts `redis-server --port <free> --save '' --appendonly no` on loopback. */
export async function startOwnRedis(): Promise<OwnRedis> {
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
