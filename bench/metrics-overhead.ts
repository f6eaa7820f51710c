/**
 * What the Prometheus metrics cost per request: `npx tsx bench/metrics-overhead.ts [seconds] [rounds]`.
 *
 * Two `latchkey serve` processes (bench/servers/latchkey-serve.ts, memory store, no near session
 * cache so every authenticated request reads the store, LOG_LEVEL=warn), one with metrics off,
 * one with `LATCHKEY_METRICS_PORT` set. Each round loads both on `GET /.well-known/jwks.json` (the
 * HTTP hook and the log tap alone) and `GET /v1/me` with a cookie session (plus the measured
 * store), in alternating order; the figures are medians over rounds and the comparison is the
 * ratio with metrics to without, measured in the same run.
 */

import { randomBytes } from 'node:crypto';
import { runLoad } from './lib/load.js';
import { killAllChildren, startBenchServer, type BenchServer } from './lib/processes.js';
import { median } from './lib/stats.js';

const seconds = Number(process.argv[2] ?? 5);
const rounds = Number(process.argv[3] ?? 3);
const secret = randomBytes(32).toString('base64url');

async function start(name: string, extra: Record<string, string>): Promise<BenchServer> {
  return startBenchServer(name, 'latchkey-serve', {
    PORT: '0',
    LATCHKEY_STORE: 'memory',
    LATCHKEY_SECRET: secret,
    LATCHKEY_SESSION_CACHE: '0',
    LOG_LEVEL: 'warn',
    ...extra,
  });
}

async function sessionCookie(server: BenchServer): Promise<string> {
  const body = JSON.stringify({ email: 'bench@example.com', password: 'correct horse battery staple' });
  const headers = { 'content-type': 'application/json' };
  await fetch(`${server.url}/v1/signup`, { method: 'POST', headers, body });
  const login = await fetch(`${server.url}/v1/login`, { method: 'POST', headers, body });
  const cookie = login.headers.getSetCookie().find((header) => header.includes('_session='));
  if (cookie === undefined) throw new Error(`${server.name}: no session cookie (${login.status})`);
  return cookie.split(';')[0] ?? '';
}

process.on('exit', killAllChildren);
const servers = [await start('metrics off', {}), await start('metrics on', { LATCHKEY_METRICS_PORT: '0' })];
const cookies = await Promise.all(servers.map(sessionCookie));
const routes = [
  { name: 'GET /.well-known/jwks.json', path: '/.well-known/jwks.json', cookie: false },
  { name: 'GET /v1/me (cookie session)', path: '/v1/me', cookie: true },
];
const results = new Map<string, { rps: number[]; p99: number[]; errors: number }>();
for (let round = 0; round < rounds; round++) {
  for (const route of routes) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const index of order) {
      const server = servers[index] as BenchServer;
      const headers: Record<string, string> = route.cookie ? { cookie: cookies[index] ?? '' } : {};
      const load = await runLoad(
        { url: `${server.url}${route.path}`, connections: 10, seconds, headers },
        true,
      );
      const key = `${route.name}\t${server.name}`;
      const entry = results.get(key) ?? { rps: [], p99: [], errors: 0 };
      entry.rps.push(load.rps);
      entry.p99.push(load.p99);
      entry.errors += load.errors;
      results.set(key, entry);
    }
  }
}
for (const server of servers) await server.stop();
console.log(`autocannon, 10 connections, ${seconds} s x ${rounds} rounds, medians`);
for (const route of routes) {
  const off = results.get(`${route.name}\tmetrics off`);
  const on = results.get(`${route.name}\tmetrics on`);
  if (off === undefined || on === undefined) continue;
  const ratio = median(on.rps) / median(off.rps);
  console.log(
    `${route.name}: off ${median(off.rps).toFixed(0)} req/s (p99 ${median(off.p99)} ms), ` +
      `on ${median(on.rps).toFixed(0)} req/s (p99 ${median(on.p99)} ms); on/off ${ratio.toFixed(3)}; ` +
      `errors ${off.errors}/${on.errors}; rounds off ${off.rps.map((r) => r.toFixed(0)).join(',')} on ${on.rps
        .map((r) => r.toFixed(0))
        .join(',')}`,
  );
}
