/**
 * In-process CPU cost (µs per op) of `authenticateRequest` with a session cookie picked at random
 * among `--sessions` seeded sessions (the million-sessions row of the bench, in process), with
 * `--concurrency` requests in flight. Run it with the near cache on (default) and off
 * (LATCHKEY_SESSION_CACHE=0) to compare: with random picks among many sessions nearly every
 * request misses a 10,000-entry cache. Sessions are seeded as last seen two minutes before (the
 * first request of each slides its expiry, as in bench/lib/million.ts).
 * Usage: REDIS_URL=... tsx bench/micro-random.ts [--sessions 50000] [--rounds 3] [--ops 50000] [--concurrency 10]
 */
import { parseArgs } from 'node:util';
import { parseCookies } from '../src/cookies/cookies.js';
import { authenticateRequest } from '../src/http/authenticate.js';
import { randomId, randomSecret, sha256 } from '../src/lib/secrets.js';
import { cookieRequest, startMicroServer } from './lib/micro.js';

const { values: flags } = parseArgs({
  options: {
    sessions: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '3' },
    ops: { type: 'string', default: '50000' },
    concurrency: { type: 'string', default: '10' },
  },
});
const { server, latchkey, names, cookie } = await startMicroServer();
const token = parseCookies(cookie).get(names.session) ?? '';
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

const request = () => cookieRequest(cookies[Math.floor(Math.random() * cookies.length)] ?? '', latchkey);

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
