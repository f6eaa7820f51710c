/**
 * In-process cost (µs) of the two halves of a cookie `GET /v1/me` that are Latchkey's own code:
 * `authenticateRequest` on a request carrying the session cookie (the near cache on: a hit, or
 * off: one store read), and building and serializing the `/v1/me` document. No HTTP: steadier
 * than a load on a shared machine. Env as for `latchkey serve` (REDIS_URL, LATCHKEY_SESSION_CACHE...).
 * Usage: tsx bench/micro-session.ts [--rounds 5] [--ops 100000]
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
import * as authenticate from '../src/http/authenticate.js';
import { publicUser, sessionSummary } from '../src/http/documents.js';

const { values: flags } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, ops: { type: 'string', default: '100000' } },
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

/** A new request object each time, as Fastify gives (the cookies parsed on first use). */
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

const { authenticateRequest } = authenticate;
// Where the tree has it (not before): the synchronous answer from the near cache alone.
const fromCache = (authenticate as Record<string, unknown>).authenticateRequestFromCache as
  typeof authenticateRequest | undefined;
const principal = await authenticateRequest(request(), latchkey, names);
const ops = Number(flags.ops);
const measure = async (fn: () => unknown): Promise<number> => {
  const start = process.cpuUsage();
  for (let i = 0; i < ops; i++) await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / ops;
};
const results: Record<string, number[]> = { authenticate: [], document: [] };
if (fromCache !== undefined) results['authenticate, from the cache (sync)'] = [];
for (let round = 0; round < Number(flags.rounds); round++) {
  results.authenticate?.push(await measure(() => authenticateRequest(request(), latchkey, names)));
  if (fromCache !== undefined)
    results['authenticate, from the cache (sync)']?.push(
      await measure(() => fromCache(request(), latchkey, names)),
    );
  results.document?.push(
    await measure(() =>
      JSON.stringify({ user: publicUser(principal.user), session: sessionSummary(principal.session) }),
    ),
  );
}
for (const [name, values] of Object.entries(results)) {
  const sorted = [...values].sort((a, b) => a - b);
  console.log(
    `${name}: best ${sorted[0]?.toFixed(3)} µs, median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(3)} µs`,
  );
}
await server.close();
