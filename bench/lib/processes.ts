/**
 * Starting and stopping the small servers of `bench/servers/`: each is run as
 * `node --import tsx bench/servers/<name>.ts` with its configuration in the environment, and
 * prints `listening <port>` once it accepts connections.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../test/helpers/process.js';

export interface BenchServer {
  name: string;
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs` (3 s by default). */
  stop(graceMs?: number): Promise<void>;
}

/** Every child started here, so that a failure or ctrl-c can stop them all. */
const running = new Set<ChildProcess>();

/** Kills every child still running (SIGKILL): the last resort of an exit handler. */
export function killAllChildren(): void {
  for (const child of running)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Adds a child started elsewhere (e.g. `startServer`) to the set `killAllChildren` covers. */
export function trackChild(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/** Stops a child: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts `bench/servers/<script>.ts` and waits (at most `timeoutMs`) for its `listening` line. */
export async function startBenchServer(
  name: string,
  script: string,
  env: Record<string, string>,
  options: { timeoutMs?: number; nodeArgs?: readonly string[] } = {},
): Promise<BenchServer> {
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--import', 'tsx', join('bench', 'servers', `${script}.ts`)],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  trackChild(child);
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name}: no "listening" line within ${options.timeoutMs ?? 30_000} ms:\n${output}`));
    }, options.timeoutMs ?? 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      // Its log lines are kept for an error message, but only the last 64 KiB of them.
      output = (output + chunk.toString()).slice(-65_536);
      const match = /^listening (\d+)$/m.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-65_536)));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name}: exited with ${code}:\n${output}`));
    });
  });
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => output,
    stop: (graceMs?: number) => stopChild(child, graceMs),
  };
}
