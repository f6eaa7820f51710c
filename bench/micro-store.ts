/**
 * In-process CPU cost (µs per op) of a cookie session read on the configured store, layer by
 * layer, with `--concurrency` reads in flight (as a loaded server has them, so that ioredis's
 * auto-pipelining batches them): the store's `getSessionWithUser` alone, and
 * `authenticateRequest` (with the near cache off: LATCHKEY_SESSION_CACHE=0), next to the floor,
 * a bare ioredis GET and JSON.parse of the same session's value on a client of its own.
 * Usage: REDIS_URL=... LATCHKEY_SESSION_CACHE=0 tsx bench/micro-store.ts [--rounds 5] [--ops 50000] [--concurrency 10]
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { parseCookies } from '../src/cookies/cookies.js';
import { authenticateRequest } from '../src/http/authenticate.js';
import { cookieRequest, startMicroServer } from './lib/micro.js';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    ops: { type: 'string', default: '50000' },
    concurrency: { type: 'string', default: '10' },
  },
});
const { server, latchkey, names, cookie } = await startMicroServer();
const token = parseCookies(cookie).get(names.session) ?? '';
const sessionId = token.slice(0, token.indexOf('.'));
const request = () => cookieRequest(cookie, latchkey);

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
