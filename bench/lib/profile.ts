/**
 * A CPU profile of the Latchkey server under one load: `bench/servers/latchkey-serve.ts` (what
 * `latchkey serve` runs) from source with `--cpu-prof`, signed in with a cookie session, loaded on
 * `GET /v1/me`, stopped with SIGTERM (which writes the profile), and summarized as self time per
 * function and per file or package; with the server's CPU time per request during the load.
 */

import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withProcessCPU } from './cpu.js';
import { loginCookie, startLatchkey } from './latchkey.js';
import { runLoad } from './load.js';

export interface ProfileSummary {
  scenario: string;
  /** Self time share per function, highest first. */
  functions: Array<{ name: string; share: number }>;
  /** Self time share per source file of Latchkey, dependency package, or node internals. */
  places: Array<{ name: string; share: number }>;
  /** Self time share per kind of place: Latchkey's code, store clients, Fastify, pino, node, native. */
  groups: Array<{ name: string; share: number }>;
  /** Requests served during the profiled load, and the server's CPU µs per request (profiler on). */
  requests: number;
  cpuMicrosPerRequest: number | null;
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

const GROUPS: ReadonlyArray<[string, (place: string) => boolean]> = [
  ["Latchkey's code (src/)", (p) => p.startsWith('src/')],
  ['benchmark server (bench/)', (p) => p.includes('/bench/') || p.startsWith('bench/')],
  [
    'store clients (ioredis, redis, pg, PGlite)',
    (p) =>
      /^(ioredis|redis|@redis\/.*|pg|pg-.*|@electric-sql\/.*|redis-parser|denque|cluster-key-slot)$/.test(p),
  ],
  [
    'Fastify and its deps',
    (p) =>
      /^(fastify|@fastify\/.*|find-my-way|avvio|light-my-request|fast-json-stringify|fast-querystring|safe-regex2|ret|secure-json-parse|abstract-logging|process-warning|rfdc|toad-cache|ajv|ajv-formats|fast-uri|fast-deep-equal|json-schema-traverse|@fastify\/ajv-compiler)$/.test(
        p,
      ),
  ],
  [
    'pino (logging)',
    (p) =>
      /^(pino|pino-.*|sonic-boom|thread-stream|on-exit-leak-free|quick-format-unescaped|atomic-sleep|safe-stable-stringify|real-require|fast-redact|@pinojs\/.*)$/.test(
        p,
      ),
  ],
  ['node internals', (p) => p === 'node internals'],
  ['native, GC (no JS frame)', (p) => p === '(native / GC / idle)'],
];

function groupOf(place: string): string {
  for (const [name, test] of GROUPS) if (test(place)) return name;
  return 'other packages (tsx, jose, ...)';
}

function top(map: Map<string, number>, total: number, count: number): Array<{ name: string; share: number }> {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, hits]) => ({ name, share: hits / total }));
}

/** Profiles the Latchkey server with `env` under `seconds` of load at `connections`. */
export async function profileLatchkeySession(options: {
  scenario: string;
  env: Record<string, string>;
  seconds: number;
  connections: number;
}): Promise<ProfileSummary> {
  const dir = await mkdtemp(join(tmpdir(), 'latchkey-prof-'));
  const profiles = join(dir, 'profiles');
  try {
    const server = await startLatchkey(
      'profiled',
      { LATCHKEY_DATA_DIR: join(dir, 'data'), ...options.env },
      { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profiles}`] },
    );
    let load: Awaited<ReturnType<typeof runLoad>>;
    let cpuMicros: number | null;
    try {
      const cookie = await loginCookie(server.url);
      ({ value: load, cpuMicros } = await withProcessCPU(server.server.child.pid, () =>
        runLoad({
          url: `${server.url}/v1/me`,
          connections: options.connections,
          seconds: options.seconds,
          headers: { cookie },
        }),
      ));
    } finally {
      await server.server.stop(15_000);
    }
    // One profile per thread (tsx runs a loader thread): the main thread's is the largest.
    const files = (await readdir(profiles)).filter((name) => name.endsWith('.cpuprofile'));
    if (files.length === 0) throw new Error('no .cpuprofile written');
    const sizes = await Promise.all(files.map(async (name) => (await stat(join(profiles, name))).size));
    const file = files[sizes.indexOf(Math.max(...sizes))] ?? '';
    const profile = JSON.parse(await readFile(join(profiles, file), 'utf8')) as { nodes: ProfileNode[] };
    const byFunction = new Map<string, number>();
    const byPlace = new Map<string, number>();
    const byGroup = new Map<string, number>();
    let total = 0;
    for (const node of profile.nodes) {
      const hits = node.hitCount ?? 0;
      if (hits === 0 || node.callFrame.functionName === '(idle)') continue;
      total += hits;
      const place = placeOf(node.callFrame.url);
      const name = `${node.callFrame.functionName || '(anonymous)'} (${place}${node.callFrame.url === '' ? '' : `:${node.callFrame.lineNumber + 1}`})`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
      byPlace.set(place, (byPlace.get(place) ?? 0) + hits);
      byGroup.set(groupOf(place), (byGroup.get(groupOf(place)) ?? 0) + hits);
    }
    return {
      scenario: options.scenario,
      functions: top(byFunction, total, 12),
      places: top(byPlace, total, 10),
      groups: top(byGroup, total, 10),
      requests: load.requests,
      cpuMicrosPerRequest: cpuMicros === null || !(load.requests > 0) ? null : cpuMicros / load.requests,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
