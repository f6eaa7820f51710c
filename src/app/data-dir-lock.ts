/**
 * The data-directory lock: only one process may write an embedded store (SQLite, PGlite). Two
 * `latchkey serve` on one SQLite file would each keep a near session cache that the other's
 * revocations never reach, and two on one PGlite directory corrupt it. So `latchkey serve`, and
 * every CLI command that opens the embedded store, first takes `<dataDir>/latchkey.lock`; a
 * second one refuses, naming the process that holds it.
 *
 * The file holds its owner as JSON (PID, process start time, command, host, since when). It is
 * written under a temporary name and hard-linked into place, which fails if the lock exists, as
 * `O_EXCL` does, but never shows a half-written file. It is removed on release, and at exit if
 * the process ends without releasing. One left by a process that died (SIGKILL, a crash, a
 * power cut) is stale: its PID is not alive, or (Linux) belongs to a process started at another
 * time (a PID reused after a restart, as in a container where the server is always PID 1); the
 * next process takes it over. The lock guards the processes of one host: a data directory must
 * not be shared between hosts.
 */

import { randomUUID } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { LatchkeyError } from '../errors.js';

/** The lock's file name in the data directory. */
export const LOCK_FILE = 'latchkey.lock';

/** Who holds a lock, as written in its file. */
export interface LockOwner {
  pid: number;
  /** The process's start time (Linux: clock ticks since boot, from `/proc`), null elsewhere. */
  startTime: string | null;
  /** What it runs: `serve`, `migrate`, `users`, ... */
  command: string;
  hostname: string;
  /** ISO time it took the lock. */
  since: string;
  /** Unique per taking: release removes the file only while it still holds this. */
  token: string;
}

/** A lock this process holds. */
export interface DataDirLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** Removes the lock file (if it is still this one); idempotent. */
  release(): Promise<void>;
}

/**
 * The locks this process holds or is taking, by path: a second taking in the same process is
 * refused too (it is marked before the first await, so that two concurrent takings cannot both
 * see the other's file as an earlier life's).
 */
const held = new Map<string, LockOwner>();

/** Linux: field 22 of `/proc/<pid>/stat`, the start time; null where there is no `/proc`. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(owner: LockOwner): boolean {
  if (owner.pid === process.pid) return false; // not held here (checked first): an earlier life
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: alive, but another user's.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = processStartTime(owner.pid);
  return owner.startTime === null || now === null || now === owner.startTime;
}

function parseOwner(text: string): LockOwner | null {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    return typeof value.pid === 'number' && Number.isInteger(value.pid) && value.pid > 0
      ? ({ startTime: null, command: '?', hostname: '?', since: '?', token: '', ...value } as LockOwner)
      : null;
  } catch {
    return null;
  }
}

/** The refusal: who holds the data directory, and what to do. */
function refusal(dataDir: string, path: string, owner: LockOwner): LatchkeyError {
  const where = owner.hostname === hostname() ? '' : ` on ${owner.hostname}`;
  const self = owner.pid === process.pid ? ' (this process)' : '';
  return new LatchkeyError(
    'store_unavailable',
    `The data directory ${dataDir} is in use by process ${owner.pid}${self}${where} ` +
      `(latchkey ${owner.command}, since ${owner.since}): only one process may write the embedded ` +
      'store. Stop that process first, or run this command through it. If no such process is ' +
      `running, remove ${path}.`,
  );
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Removes a stale lock whose content was `stale`, unless another process replaced it meanwhile:
 * it is moved aside first, and put back if it turns out not to be the stale one.
 */
async function removeStale(path: string, stale: string, token: string): Promise<void> {
  const aside = `${path}.stale-${token}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else removed it
    throw error;
  }
  try {
    if ((await readText(aside)) !== stale) await link(aside, path).catch(() => undefined);
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

function exitHook(path: string, token: string): () => void {
  return () => {
    try {
      if (parseOwner(readFileSync(path, 'utf8'))?.token === token) unlinkSync(path);
    } catch {
      // Already gone, or unreadable: nothing to do at exit.
    }
  };
}

function holding(path: string, owner: LockOwner): DataDirLock {
  const onExit = exitHook(path, owner.token);
  process.on('exit', onExit);
  let released = false;
  return {
    path,
    owner,
    async release() {
      if (released) return;
      released = true;
      process.removeListener('exit', onExit);
      held.delete(path);
      const current = await readText(path).catch(() => null);
      if (current !== null && parseOwner(current)?.token === owner.token) {
        await unlink(path).catch(() => undefined);
      }
    },
  };
}

/**
 * Takes the lock of `dataDir` (creating the directory, mode 0700, if needed), or rejects with
 * `LatchkeyError('store_unavailable')` naming the process that holds it and what to do.
 *
 * @example
 * const lock = await lockDataDir(config.dataDir, { command: 'serve' });
 * try { ... } finally { await lock.release(); }
 */
export async function lockDataDir(dataDir: string, options: { command: string }): Promise<DataDirLock> {
  const path = resolve(dataDir, LOCK_FILE);
  const taken = held.get(path);
  if (taken !== undefined) throw refusal(dataDir, path, taken);
  const owner: LockOwner = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    command: options.command,
    hostname: hostname(),
    since: new Date().toISOString(),
    token: randomUUID(),
  };
  held.set(path, owner);
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await take(dataDir, path, owner);
  } catch (error) {
    held.delete(path);
    throw error;
  }
  return holding(path, owner);
}

/** Links the lock into place, setting stale ones aside; rejects when a live process holds it. */
async function take(dataDir: string, path: string, owner: LockOwner): Promise<void> {
  const temp = join(dataDir, `${LOCK_FILE}.${owner.token}.tmp`);
  const content = `${JSON.stringify(owner)}\n`;
  await writeFile(temp, content, { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await linkOrRead(temp, path, content);
      if (current === null) return;
      const holder = parseOwner(current);
      if (holder !== null && isAlive(holder)) throw refusal(dataDir, path, holder);
      // Stale (a dead process, or a file that is not a lock): set it aside, then try again.
      await removeStale(path, current, owner.token);
    }
    throw new LatchkeyError('store_unavailable', `Could not take ${path}: other processes keep taking it`);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** File systems without hard links: the lock is then created with `O_EXCL` directly. */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

async function exclusiveCreate(temp: string, path: string, content: string): Promise<void> {
  try {
    await link(temp, path);
  } catch (error) {
    if (!NO_LINKS.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    await writeFile(path, content, { flag: 'wx', mode: 0o644 });
  }
}

/** Links the lock into place (null), or returns the content of the one in the way. */
async function linkOrRead(temp: string, path: string, content: string): Promise<string | null> {
  for (;;) {
    try {
      await exclusiveCreate(temp, path, content);
      return null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const current = await readText(path);
    if (current !== null) return current;
    // Released between the two calls: try again.
  }
}
