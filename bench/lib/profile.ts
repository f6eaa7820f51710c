/**
 * A CPU profile of `latchkey serve` under one load: run from source with `--cpu-prof`, signed in
 * with a cookie session, loaded on `GET /v1/me`, stopped with SIGTERM (which writes the profile),
 * and summarized as self time per function and per file or package.
 */

import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ROOT } from '../../test/helpers/process.js';
import { BENCH_EMAIL, BENCH_PASSWORD, loginCookie, postJSON } from './latchkey.js';
import { runLoad } from './load.js';
import { stopChild, trackChild } from './processes.js';

export interface ProfileSummary {
  scenario: string;
  /** Self time share per function, highest first. */
  functions: Array<{ name: string; share: number }>;
  /** Self time share per source file of Latchkey, dependency package, or node internals. */
  places: Array<{ name: string; share: number }>;
}

interface ProfileNode {
  id: number;
  hitCount?: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

function placeOf(url: string): string {
  if (url === '') return '(native / GC / idle)';
  if (url.startsWith('node:')) return 'node internals';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules?.[1] !== undefined) return modules[1];
  const index = url.indexOf('/src/');
  return index >= 0 ? url.slice(index + 1) : url.replace(/^file:\/\//, '');
}

function top(map: Map<string, number>, total: number, count: number): Array<{ name: string; share: number }> {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, hits]) => ({ name, share: hits / total }));
}

/** Profiles `latchkey serve` with `env` under `seconds` of load at `connections`. */
export async function profileLatchkeySession(options: {
  scenario: string;
  env: Record<string, string>;
  seconds: number;
  connections: number;
}): Promise<ProfileSummary> {
  const dir = await mkdtemp(join(tmpdir(), 'latchkey-prof-'));
  const port = String(await freePort());
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', 'tsx', 'src/cli/main.ts', 'serve'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        LATCHKEY_DATA_DIR: join(dir, 'data'),
        ...options.env,
        PORT: port,
        HOST: '127.0.0.1',
        LATCHKEY_ISSUER: url,
      },
      stdio: 'ignore',
    },
  );
  trackChild(child);
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`profiled server exited with ${child.exitCode}`);
      const ok = await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error('profiled server did not become healthy');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await (
      await postJSON(`${url}/v1/signup`, { email: BENCH_EMAIL, password: BENCH_PASSWORD })
    ).arrayBuffer();
    const cookie = await loginCookie(url);
    await runLoad({
      url: `${url}/v1/me`,
      connections: options.connections,
      seconds: options.seconds,
      headers: { cookie },
    });
    await stopChild(child, 15_000);
    const file = (await readdir(dir)).find((name) => name.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error('no .cpuprofile written');
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as { nodes: ProfileNode[] };
    const byFunction = new Map<string, number>();
    const byPlace = new Map<string, number>();
    let total = 0;
    for (const node of profile.nodes) {
      const hits = node.hitCount ?? 0;
      if (hits === 0 || node.callFrame.functionName === '(idle)') continue;
      total += hits;
      const place = placeOf(node.callFrame.url);
      const name = `${node.callFrame.functionName || '(anonymous)'} (${place}${node.callFrame.url === '' ? '' : `:${node.callFrame.lineNumber + 1}`})`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
      byPlace.set(place, (byPlace.get(place) ?? 0) + hits);
    }
    return {
      scenario: options.scenario,
      functions: top(byFunction, total, 12),
      places: top(byPlace, total, 10),
    };
  } finally {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  }
}
