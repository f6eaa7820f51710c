/**
 * Memory of a server process, from `/proc/<pid>/status`: its resident set now (`VmRSS`) and the
 * highest it has been since the process started (`VmHWM`, so a first start that created the
 * data directory is included). Linux only: elsewhere every reading is null.
 */

import { readFileSync } from 'node:fs';

export interface ProcessMemory {
  rssMiB: number;
  peakMiB: number;
}

/** The process's resident memory now and at its peak, in MiB; null where unknown. */
export function processMemory(pid: number | undefined): ProcessMemory | null {
  if (pid === undefined) return null;
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kib = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1]);
  const rss = kib('VmRSS');
  const peak = kib('VmHWM');
  return Number.isFinite(rss) && Number.isFinite(peak) ? { rssMiB: rss / 1024, peakMiB: peak / 1024 } : null;
}
