/**
 * In-process CPU cost (µs per op) of a cookie session read on the configured store, layer by
 * layer, with `--concurrency` reads in flight (as a loaded server has them, so that ioredis's
 * auto-pipelining batches them): the store's `getSessionWithUser` alone, and
 * `authenticateRequest` (with the near cache off: LATCHKEY_SESSION_CACHE=0), next to the floor,
 * a bare ioredis GET and JSON.parse of the same session's value on a client of its own.
 * Usage: REDIS_URL=... LATCHKEY_SESSION_CACHE=0 tsx bench/micro-store.ts [--rounds 5] [--ops 50000] [--concurrency 10]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { startServer } from '../src/cli/serve.js';
import { loadConfig } from '../src/config/config.js';
import { parseCookies } from '../src/cookies/cookies.js';
import { cookieNames } from '../src/http/auth-cookies.js';
import { authenticateRequest } from '../src/http/authenticate.js';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    ops: { type: 'string', default: '50000' },
    concurrency: { type: 'string', default: '10' },
  },
});
const env = { LATCHKEY_DATA_DIR: mkdtempSync(join(tmpdir(), 'latchkey-micro-')), ...process.env };
const config = loadConfig({ ...env, PORT: '0', HOST: '127.0.0.1', LATCHKEY_ISSUER: 'http://127.0.0.1:1' });
const server = await startServer(config);
const { app, latchkey } = server;
await app.ready();
const credentials = { email: 'bench@example.com', password: 'correct horse battery staple' };
await app.inject({ method: 'POST', url: '/v1/signup', payload: credentials });
const login = await app.inject({ method: 'POST', url: '/v1/login', payload: credentials });
const cookie = login.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
const names = cookieNames(config.insecureCookies);
const token = parseCookies(cookie).get(names.session) ?? '';
const sessionId = token.slice(0, token.indexOf('.'));

function request(): FastifyRequest {
  let parsed: Map<string, string> | null = null;
  return {
    headers: { cookie, host: '127.0.0.1' },
    get cookies() {
      return (parsed ??= parseCookies(cookie));
    },
    ip: '127.0.0.1',
    method: 'GET',
    log: latchkey.logger,
    authDuration: null,
  } as unknown as FastifyRequest;
}

const redisURL = process.env.REDIS_URL;
const raw = redisURL === undefined ? undefined : new Redis(redisURL, { enableAutoPipelining: true });
const rawKey = `micro-store:${sessionId}`;
if (raw !== undefined) {
  const found = await latchkey.store.getSession(sessionId);
  await raw.set(rawKey, JSON.stringify(found), 'EX', 600);
}

const ops = Number(flags.ops);
const concurrency = Number(flags.concurrency);
async function measure(fn: () => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < ops) await fn();
    }),
  );
  const used = process.cpuUsage(start);
  return (used.user + used.system) / ops;
}

const getSessionWithUser = latchkey.store.getSessionWithUser?.bind(latchkey.store);
const cases: Record<string, () => Promise<unknown>> = {};
if (raw !== undefined)
  cases['floor: ioredis GET + JSON.parse'] = async () =>
    JSON.parse((await raw.get(rawKey)) ?? 'null') as unknown;
if (getSessionWithUser !== undefined) cases['store.getSessionWithUser'] = () => getSessionWithUser(sessionId);
cases['authenticateRequest'] = () => authenticateRequest(request(), latchkey, names);
const results: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let round = 0; round < Number(flags.rounds); round++) {
  for (const [name, fn] of Object.entries(cases)) results[name]?.push(await measure(fn));
}
for (const [name, values] of Object.entries(results)) {
  const sorted = [...values].sort((a, b) => a - b);
  console.log(
    `${name}: best ${sorted[0]?.toFixed(2)} µs, median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(2)} µs`,
  );
}
if (raw !== undefined) {
  await raw.del(rawKey);
  raw.disconnect();
}
await server.close();
