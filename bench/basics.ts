/**
 * The cost of one login (argon2id-bound) and of one `GET /v1/me`, on the memory and PGlite
 * stores, each against a real `latchkey serve` process over loopback.
 *
 *   npx tsx bench/basics.ts [--seconds 5]
 *
 * Interleaves the stores over several rounds and prints medians; compare the stores with each
 * other within one run, not across runs (the machine is shared).
 */
import autocannon from 'autocannon';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startServer, type ServerProcess } from '../test/helpers/process.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' } },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const PASSWORD = 'correct horse battery staple';

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

interface Target {
  name: string;
  server: ServerProcess;
  cookie: string;
}

async function prepare(name: string, env: Record<string, string>): Promise<Target> {
  const server = await startServer({ LOG_LEVEL: 'warn', ...env }, { timeoutMs: 120_000 });
  await post(`${server.url}/v1/signup`, { email: 'bench@example.com', password: PASSWORD });
  const login = await post(`${server.url}/v1/login`, { email: 'bench@example.com', password: PASSWORD });
  const cookie =
    (login.headers.getSetCookie().find((c) => c.startsWith('__Host-latchkey_session=')) ?? '').split(
      ';',
    )[0] ?? '';
  return { name, server, cookie };
}

async function loginLatency(target: Target, count: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await post(`${target.server.url}/v1/login`, {
      email: 'bench@example.com',
      password: PASSWORD,
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`login answered ${response.status}`);
    times.push(performance.now() - started);
  }
  return median(times);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Median latency of one GET /v1/me at a time, measured around fetch (sub-millisecond resolution). */
async function sequentialLatency(target: Target, count: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await fetch(`${target.server.url}/v1/me`, { headers: { cookie: target.cookie } });
    await response.arrayBuffer();
    times.push(performance.now() - started);
  }
  return median(times);
}

async function load(target: Target, connections: number): Promise<{ rps: number; p50: number; p99: number }> {
  const result = await autocannon({
    url: `${target.server.url}/v1/me`,
    headers: { cookie: target.cookie },
    connections,
    duration: seconds,
  });
  if (result.non2xx > 0) throw new Error(`${target.name}: ${result.non2xx} non-2xx responses`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

const dataDir = await mkdtemp(join(tmpdir(), 'latchkey-bench-'));
const targets = [
  await prepare('memory', { LATCHKEY_STORE: 'memory', LATCHKEY_DATA_DIR: join(dataDir, 'memory') }),
  await prepare('pglite', { LATCHKEY_DATA_DIR: join(dataDir, 'pglite') }),
];
const results = new Map<
  string,
  { login: number[]; single: number[]; rps: number[]; p50: number[]; p99: number[] }
>();
try {
  for (let round = 1; round <= rounds; round++) {
    for (const target of targets) {
      process.stderr.write(`round ${round}/${rounds}: ${target.name}\n`);
      const entry = results.get(target.name) ?? { login: [], single: [], rps: [], p50: [], p99: [] };
      entry.login.push(await loginLatency(target, 10));
      entry.single.push(await sequentialLatency(target, 500));
      const many = await load(target, 10);
      entry.rps.push(many.rps);
      entry.p50.push(many.p50);
      entry.p99.push(many.p99);
      results.set(target.name, entry);
    }
  }
} finally {
  for (const target of targets) await target.server.stop('SIGTERM');
  await rm(dataDir, { recursive: true, force: true });
}
console.log(`\nmedians of ${rounds} interleaved rounds, ${seconds} s each load\n`);
console.log('store    login ms  me @1conn ms  me req/s @10conn  me p50 ms  me p99 ms');
for (const [name, entry] of results) {
  console.log(
    `${name.padEnd(8)} ${median(entry.login).toFixed(1).padStart(8)}  ${median(entry.single).toFixed(3).padStart(12)}  ${median(entry.rps).toFixed(0).padStart(16)}  ${median(entry.p50).toFixed(2).padStart(9)}  ${median(entry.p99).toFixed(2).padStart(9)}`,
  );
}
const memory = results.get('memory');
const pglite = results.get('pglite');
if (memory && pglite) {
  console.log(
    `\npglite / memory throughput of GET /v1/me: ${(median(pglite.rps) / median(memory.rps)).toFixed(2)}x`,
  );
}
