/**
 * CPU time of a server process, from `/proc/<pid>/stat` (utime + stime, every thread of the
 * process). Linux only: elsewhere every reading is null and the figures built on it are n/a.
 *
 * On a shared machine the CPU a server spends per request is far steadier than its req/s (which
 * moves with whatever else the cores do), and it says directly what a route costs.
 */

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { platform } from 'node:os';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const value = Number(out.stdout?.trim());
    ticksPerSecond = out.error === undefined && Number.isInteger(value) && value > 0 ? value : 100;
  }
  return ticksPerSecond;
}

/** CPU time (user + system) the process has used so far, in microseconds; null where unknown. */
export function processCPUMicros(pid: number | undefined): number | null {
  if (pid === undefined || platform() !== 'linux') return null;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Field 2 (the command) is in parentheses and may hold spaces: count from after its `)`.
  // What follows starts at field 3 (state); utime is field 14 and stime field 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return ((utime + stime) / clockTicks()) * 1e6;
}

/** Runs `work` and returns its result with the CPU microseconds `pid` spent meanwhile (or null). */
export async function withProcessCPU<T>(
  pid: number | undefined,
  work: () => Promise<T>,
): Promise<{ value: T; cpuMicros: number | null }> {
  const before = processCPUMicros(pid);
  const value = await work();
  const after = processCPUMicros(pid);
  return { value, cpuMicros: before === null || after === null ? null : after - before };
}
