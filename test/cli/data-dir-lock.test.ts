import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_FILE, lockDataDir, processStartTime, type LockOwner } from '../../src/app/data-dir-lock.js';
import { SECRET } from '../helpers/app.js';
import { freePort, ROOT, startServer, type ServerProcess } from '../helpers/process.js';

let root = '';
const servers: ServerProcess[] = [];
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'latchkey-lock-'));
});
afterAll(async () => {
  for (const server of servers) await server.stop('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

let count = 0;
/** A data directory that does not exist yet (the lock creates it). */
function dataDir(): string {
  count += 1;
  return join(root, `data-${count}`);
}

function owner(overrides: Partial<LockOwner>): LockOwner {
  return {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    command: 'serve',
    hostname: 'test-host',
    since: '2026-01-01T00:00:00.000Z',
    token: 'other',
    ...overrides,
  };
}

/** A PID that was alive a moment ago and is not any more. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  if (child.pid === undefined) throw new Error('no pid');
  return child.pid;
}

function cli(dir: string, env: Record<string, string>, ...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, LATCHKEY_DATA_DIR: dir, LATCHKEY_SECRET: SECRET, LOG_LEVEL: 'warn', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('the data-directory lock', () => {
  it('is taken once: a second taking refuses, naming the process and the directory', async () => {
    const dir = dataDir();
    const lock = await lockDataDir(dir, { command: 'serve' });
    const written = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as LockOwner;
    expect(written).toMatchObject({ pid: process.pid, command: 'serve', token: lock.owner.token });
    const refused = lockDataDir(dir, { command: 'migrate' });
    await expect(refused).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(refused).rejects.toThrow(`The data directory ${dir} is in use by process ${process.pid}`);
    await lock.release();
    await lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const again = await lockDataDir(dir, { command: 'migrate' });
    await again.release();
  });

  it('refuses two takings started at the same time in one process: exactly one wins', async () => {
    const dir = dataDir();
    const results = await Promise.allSettled([1, 2, 3].map(() => lockDataDir(dir, { command: 'serve' })));
    const won = results.filter((result) => result.status === 'fulfilled');
    expect(won).toHaveLength(1);
    await won[0]?.value.release();
  });

  it('takes over a lock left by a process that is gone', async () => {
    const dir = dataDir();
    await lockDataDir(dir, { command: 'x' }).then((lock) => lock.release());
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(owner({ pid: await deadPid() })));
    const lock = await lockDataDir(dir, { command: 'serve' });
    expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('takes over a lock that is not a lock (garbage), and one of a reused PID (Linux)', async () => {
    const dir = dataDir();
    await lockDataDir(dir, { command: 'x' }).then((lock) => lock.release());
    await writeFile(join(dir, LOCK_FILE), 'not json');
    await (await lockDataDir(dir, { command: 'serve' })).release();
    if (processStartTime(process.ppid) === null) return;
    // The parent is alive, but started at another time than the one recorded: another process.
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(owner({ pid: process.ppid, startTime: '1' })));
    await (await lockDataDir(dir, { command: 'serve' })).release();
    // With its real start time, it is the owner, alive: refused.
    const parent = owner({ pid: process.ppid, startTime: processStartTime(process.ppid) });
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(parent));
    await expect(lockDataDir(dir, { command: 'serve' })).rejects.toThrow(
      `in use by process ${process.ppid} on test-host (latchkey serve, since 2026-01-01T00:00:00.000Z)`,
    );
  });
});

describe('one writer per data directory, across processes', () => {
  it('refuses a second `latchkey serve` and CLI commands on a SQLite data directory in use', async () => {
    const dir = dataDir();
    const env = { LATCHKEY_DATA_DIR: dir, LATCHKEY_SECRET: SECRET, PORT: String(await freePort()) };
    const first = await startServer(env, { timeoutMs: 60_000 });
    servers.push(first);
    const pid = first.child.pid ?? 0;
    const second = startServer({ ...env, PORT: String(await freePort()) }, { timeoutMs: 60_000 });
    await expect(second).rejects.toThrow(
      new RegExp(
        `store_unavailable: The data directory ${dir} is in use by process ${pid} \\(latchkey serve`,
      ),
    );
    const users = cli(dir, {}, 'users', 'list');
    expect(users.status).toBe(1);
    expect(users.stderr).toContain(`is in use by process ${pid}`);
    expect(cli(dir, {}, 'migrate').stderr).toContain(`is in use by process ${pid}`);

    // A clean stop releases it; the commands run again.
    expect(await first.stop('SIGTERM')).toBe(0);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    expect(cli(dir, {}, 'users', 'list')).toMatchObject({ status: 0 });
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  }, 120_000);

  it('lets a server start after one was killed (its lock is stale)', async () => {
    const dir = dataDir();
    const env = { LATCHKEY_DATA_DIR: dir, LATCHKEY_SECRET: SECRET, PORT: String(await freePort()) };
    const first = await startServer(env, { timeoutMs: 60_000 });
    servers.push(first);
    await first.stop('SIGKILL');
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
    const second = await startServer(env, { timeoutMs: 60_000 });
    servers.push(second);
    expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
    expect(await second.stop('SIGTERM')).toBe(0);
  }, 120_000);

  it('guards PGlite too: a command refuses before opening it', async () => {
    const dir = dataDir();
    const lock = await lockDataDir(dir, { command: 'serve' });
    try {
      const result = cli(dir, { LATCHKEY_STORE: 'pglite' }, 'users', 'list');
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`The data directory ${dir} is in use by process ${process.pid}`);
      expect(existsSync(join(dir, 'pglite'))).toBe(false);
    } finally {
      await lock.release();
    }
  }, 60_000);
});
