/**
 * In-process cost of the cookie `GET /v1/me` against the same server's no-auth route, through
 * `app.inject` (no sockets: steadier than HTTP load on a shared machine, and what it measures is
 * the route's own work: hooks, authentication, the document, serialization).
 *
 * Env: what `latchkey serve` reads (e.g. REDIS_URL, LATCHKEY_REDIS_PREFIX, LATCHKEY_SESSION_CACHE,
 * LATCHKEY_REDIS_ALLOW_VOLATILE); a fresh LATCHKEY_DATA_DIR is used when unset.
 * Usage: tsx bench/micro-me.ts [--rounds 7] [--requests 20000]
 * Prints, per route, the best and median µs per request over the rounds.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startServer } from '../src/cli/serve.js';
import { loadConfig } from '../src/config/config.js';
import { addOpenRoute } from './servers/open-route.js';

const { values: flags } = parseArgs({
  options: { rounds: { type: 'string', default: '7' }, requests: { type: 'string', default: '20000' } },
});
const rounds = Number(flags.rounds);
const requests = Number(flags.requests);
const env = {
  LATCHKEY_DATA_DIR: mkdtempSync(join(tmpdir(), 'latchkey-micro-')),
  LOG_LEVEL: 'info',
  ...process.env,
};
const server = await startServer(
  loadConfig({ ...env, PORT: '0', HOST: '127.0.0.1', LATCHKEY_ISSUER: 'http://127.0.0.1:1' }),
  { extend: addOpenRoute },
);
const { app } = server;
await app.ready();
const credentials = { email: 'bench@example.com', password: 'correct horse battery staple' };
await app.inject({ method: 'POST', url: '/v1/signup', payload: credentials });
const login = await app.inject({ method: 'POST', url: '/v1/login', payload: credentials });
const cookie = login.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
const routes: Array<[string, string, Record<string, string>]> = [
  ['open', '/bench/open', { cookie }],
  ['me', '/v1/me', { cookie }],
];
const results = new Map<string, number[]>(routes.map(([name]) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const [name, url, headers] of routes) {
    const start = process.cpuUsage();
    for (let i = 0; i < requests; i++) {
      const response = await app.inject({ method: 'GET', url, headers });
      if (response.statusCode !== 200) throw new Error(`${name}: ${response.statusCode} ${response.body}`);
    }
    const used = process.cpuUsage(start);
    results.get(name)?.push((used.user + used.system) / requests);
  }
}
const open = results.get('open') ?? [];
for (const [name, values] of results) {
  const sorted = [...values].sort((a, b) => a - b);
  const extra =
    name === 'open'
      ? ''
      : `, over open (per round, median): ${median(values.map((v, i) => v - (open[i] ?? NaN))).toFixed(2)}`;
  console.log(`${name}: best ${sorted[0]?.toFixed(2)} µs, median ${median(values).toFixed(2)} µs${extra}`);
}
await server.close();

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}
