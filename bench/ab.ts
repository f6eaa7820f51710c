/**
 * A quick A/B comparison of a few routes, for working on the server's speed: each target is a
 * server process (from this checkout or another one, e.g. an exported older commit), loaded in
 * interleaved rounds right after a discarded warm-up; the report gives, per target, the median
 * req/s, the median ratio to the first target's req/s in the same round, and the server's CPU
 * µs per request (from `/proc/<pid>/stat`), which is the steadier figure on a shared machine.
 *
 * Usage: tsx bench/ab.ts <targets.json> [--rounds 5] [--seconds 3] [--connections 10]
 * where the JSON file is a list of { name, root?, script, env?, path, headers?, login?, tokens? }:
 * `script` is a file of `bench/servers/` under `root` (default: this checkout), `login: "cookie"`
 * signs up and logs in the bench user first and sends its session cookie, and `tokens:
 * { alg, pool }` (for `latchkey-verify`) signs `pool` tokens with a new key, gives the server the
 * key and sends a new token each request. `--profile <dir>` runs each server with `--cpu-prof`
 * into `<dir>/<name>` and prints each one's self time per function at the end.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { processCPUMicros } from './lib/cpu.js';
import { runLoad } from './lib/load.js';
import { BENCH_EMAIL, BENCH_PASSWORD, loginCookie, postJSON } from './lib/latchkey.js';
import { summarizeProfile, tokenPool } from './lib/ab-extras.js';
import type { KeyAlgorithm } from '../src/records.js';
import { freePort, ROOT } from '../test/helpers/process.js';

interface Target {
  name: string;
  root?: string;
  script: string;
  env?: Record<string, string>;
  path: string;
  headers?: Record<string, string>;
  login?: 'cookie';
  tokens?: { alg: KeyAlgorithm; pool: number };
}

interface Started {
  target: Target;
  child: ChildProcess;
  url: string;
  headers: Record<string, string>;
  rotate: { header: string; values: string[] } | undefined;
  profileDir: string | undefined;
  rps: number[];
  ratio: number[];
  cpu: number[];
}

async function start(target: Target, profile: string | undefined): Promise<Started> {
  const port = String(await freePort());
  const url = `http://127.0.0.1:${port}`;
  const pool =
    target.tokens === undefined ? undefined : await tokenPool(target.tokens.alg, target.tokens.pool);
  const env: Record<string, string> = {
    LATCHKEY_DATA_DIR: mkdtempSync(join(tmpdir(), 'latchkey-ab-')),
    ...pool?.env,
    ...target.env,
    PORT: port,
    HOST: '127.0.0.1',
    LATCHKEY_ISSUER: url,
  };
  const root = target.root ?? ROOT;
  const profileDir = profile === undefined ? undefined : join(profile, target.name.replace(/\W+/g, '-'));
  const profileArgs = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const child = spawn(
    process.execPath,
    [...profileArgs, '--import', 'tsx', join('bench', 'servers', `${target.script}.ts`)],
    {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  let listening = false;
  const actualPort = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (listening) return; // the log lines of a loaded server are read and dropped, as a pipe does
      output += chunk.toString();
      const match = /^listening (\d+)$/m.exec(output);
      if (match?.[1] !== undefined) {
        listening = true;
        resolve(Number(match[1]));
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (!listening) output += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`${target.name}: exited with ${code}:\n${output}`)));
  });
  const base = `http://127.0.0.1:${actualPort}`;
  const headers = { ...target.headers };
  if (target.login === 'cookie') {
    const signup = await postJSON(`${base}/v1/signup`, { email: BENCH_EMAIL, password: BENCH_PASSWORD });
    await signup.arrayBuffer();
    headers.cookie = await loginCookie(base);
  }
  const rotate = pool === undefined ? undefined : { header: 'Authorization', values: pool.values };
  return { target, child, url: base, headers, rotate, profileDir, rps: [], ratio: [], cpu: [] };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
};

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10' },
    profile: { type: 'string' },
  },
});
const targets = JSON.parse(readFileSync(positionals[0] ?? 'ab.json', 'utf8')) as Target[];
const rounds = Number(flags.rounds);
const seconds = Number(flags.seconds);
const connections = Number(flags.connections);

const started: Started[] = [];
try {
  for (const target of targets) started.push(await start(target, flags.profile));
  for (let round = 0; round < rounds; round += 1) {
    // Rotate the order every round, so that no target always follows the same one.
    const order = started.map((_, i) => started[(i + round) % started.length] as Started);
    const roundRps = new Map<Started, number>();
    for (const s of order) {
      const url = s.url + s.target.path;
      const rotate = s.rotate === undefined ? {} : { rotate: s.rotate };
      await runLoad({ url, connections, seconds: 1, headers: s.headers, ...rotate });
      const before = processCPUMicros(s.child.pid);
      const result = await runLoad({ url, connections, seconds, headers: s.headers, ...rotate });
      const after = processCPUMicros(s.child.pid);
      if (result.errors > 0) throw new Error(`${s.target.name}: ${result.errors} errors`);
      roundRps.set(s, result.rps);
      s.rps.push(result.rps);
      if (before !== null && after !== null) s.cpu.push((after - before) / result.requests);
    }
    const reference = roundRps.get(started[0] as Started) ?? NaN;
    for (const s of started) s.ratio.push((roundRps.get(s) ?? NaN) / reference);
    process.stderr.write(
      `round ${round + 1}: ${started.map((s) => `${s.target.name} ${Math.round(roundRps.get(s) ?? 0)} req/s ${(s.cpu[s.cpu.length - 1] ?? NaN).toFixed(1)} µs`).join(', ')}\n`,
    );
  }
  console.log(
    `| target | req/s (median) | vs ${started[0]?.target.name} (median, min-max) | CPU µs/req (median, min-max) |`,
  );
  console.log('| --- | --- | --- | --- |');
  for (const s of started) {
    const r = s.ratio;
    console.log(
      `| ${s.target.name} | ${Math.round(median(s.rps))} | ${median(r).toFixed(2)}x (${Math.min(...r).toFixed(2)}-${Math.max(...r).toFixed(2)}) | ${median(s.cpu).toFixed(1)} (${Math.min(...s.cpu).toFixed(1)}-${Math.max(...s.cpu).toFixed(1)}) |`,
    );
  }
} finally {
  const exits = started.map((s) => new Promise((resolve) => s.child.once('exit', resolve)));
  for (const s of started) s.child.kill('SIGTERM');
  if (flags.profile !== undefined) {
    await Promise.all(exits);
    for (const s of started) {
      if (s.profileDir !== undefined)
        console.log(`\n## ${s.target.name}\n${await summarizeProfile(s.profileDir)}`);
    }
  }
}
