/**
 * In-process CPU cost (µs per op) of `authenticateRequest` with a session cookie picked at random
 * among `--sessions` seeded sessions (the million-sessions row of the bench, in process), with
 * `--concurrency` requests in flight. Run it with the near cache on (default) and off
 * (LATCHKEY_SESSION_CACHE=0) to compare: with random picks among many sessions nearly every
 * request misses a 10,000-entry cache. Sessions are seeded as last seen two minutes before (the
 * first request of each slides its expiry, as in bench/lib/million.ts).
 * Usage: REDIS_URL=... tsx bench/micro-random.ts [--sessions 50000] [--rounds 3] [--ops 50000] [--concurrency 10]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { FastifyRequest } from 'fastify';
import { startServer } from '../src/cli/serve.js';
import { loadConfig } from '../src/config/config.js';
import { parseCookies } from '../src/cookies/cookies.js';
import { cookieNames } from '../src/http/auth-cookies.js';
import { authenticateRequest } from '../src/http/authenticate.js';
import { randomId, randomSecret, sha256 } from '../src/lib/secrets.js';

const { values: flags } = parseArgs({
  options: {
    sessions: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '3' },
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
const names = cookieNames(config.insecureCookies);
const token = login.cookies.find((c) => c.name === names.session)?.value ?? '';
const template = await latchkey.store.getSession(token.slice(0, token.indexOf('.')));
if (template === null) throw new Error('no session after login');

const now = Date.now();
const cookies: string[] = [];
const count = Number(flags.sessions);
for (let start = 0; start < count; start += 1000) {
  const batch: Promise<void>[] = [];
  for (let i = start; i < Math.min(count, start + 1000); i++) {
    const secret = randomSecret();
    const id = randomId();
    cookies.push(`${names.session}=${id}.${secret}`);
    batch.push(
      latchkey.store.createSession({
        ...template,
        id,
        secretHash: sha256(secret),
        createdAt: now - 120_000,
        lastSeenAt: now - 120_000,
        authTime: now - 120_000,
      }),
    );
  }
  await Promise.all(batch);
}

function request(): FastifyRequest {
  const cookie = cookies[Math.floor(Math.random() * cookies.length)] ?? '';
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

const ops = Number(flags.ops);
const concurrency = Number(flags.concurrency);
const results: number[] = [];
for (let round = 0; round < Number(flags.rounds); round++) {
  const start = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < ops) await authenticateRequest(request(), latchkey, names);
    }),
  );
  const used = process.cpuUsage(start);
  results.push((used.user + used.system) / ops);
}
const sorted = [...results].sort((a, b) => a - b);
console.log(
  `authenticateRequest, random among ${count}: best ${sorted[0]?.toFixed(2)} µs, median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(2)} µs`,
);
await server.close();
