/**
 * In-process cost (µs) of the two halves of a cookie `GET /v1/me` that are Latchkey's own code:
 * `authenticateRequest` on a request carrying the session cookie (the near cache on: a hit, or
 * off: one store read), and building and serializing the `/v1/me` document. No HTTP: steadier
 * than a load on a shared machine. Env as for `latchkey serve` (REDIS_URL, LATCHKEY_SESSION_CACHE...).
 * Usage: tsx bench/micro-session.ts [--rounds 5] [--ops 100000]
 */
import { parseArgs } from 'node:util';
import * as authenticate from '../src/http/authenticate.js';
import { publicUser, sessionSummary } from '../src/http/documents.js';
import { cookieRequest, startMicroServer } from './lib/micro.js';

const { values: flags } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, ops: { type: 'string', default: '100000' } },
});
const { server, latchkey, names, cookie } = await startMicroServer();
const request = () => cookieRequest(cookie, latchkey);

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
