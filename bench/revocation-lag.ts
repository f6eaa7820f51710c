/**
 * Revocation lag per transport, in one run: `npx tsx bench/revocation-lag.ts`.
 *
 * For each transport (sse, redis, postgres) a verifier follows an in-process Latchkey server
 * (memory store); `--count` sessions are logged out one by one and the time from the server
 * recording each revocation to the verifier refusing the token is measured (the same code as
 * test/verify/pubsub-feeds.test.ts). Redis and Postgres come from LATCHKEY_TEST_REDIS_URL and
 * LATCHKEY_TEST_POSTGRES_URL (defaults: the local servers); an unreachable one is skipped
 * with a note. Channels are unique per run; nothing is flushed.
 *
 * Options: --count <n> (default 50), --transport <sse|redis|postgres> (repeatable; default all),
 * --json (one JSON line per transport instead of the table).
 */

import { parseArgs } from 'node:util';
import { probePostgres, probeRedis } from '../test/helpers/services.js';
import { startLiveServer } from '../test/verify/live-server.js';
import { measureRevocationLag, percentile, wire, type Transport } from '../test/verify/revocation-lag.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '50' },
    transport: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
  },
});
const COUNT = Number(values.count);
const ALL: readonly Transport[] = ['sse', 'redis', 'postgres'];
const transports = (values.transport ?? ALL) as Transport[];
for (const transport of transports) {
  if (!ALL.includes(transport)) throw new Error(`unknown transport "${transport}"`);
}
if (!Number.isInteger(COUNT) || COUNT < 1) throw new Error('--count must be a positive integer');

interface Row {
  transport: Transport;
  count: number;
  p50: number;
  p99: number;
  max: number;
  endToEndP50: number;
  endToEndP99: number;
}

async function unreachable(transport: Transport): Promise<string | null> {
  if (transport === 'redis') return probeRedis();
  if (transport === 'postgres') return probePostgres();
  return null;
}

/** Measures one transport on its own server (so transports do not share listeners). */
async function run(transport: Transport): Promise<Row> {
  const server = await startLiveServer();
  try {
    const wiring = await wire(transport, server, { retryMs: 50 });
    try {
      await wiring.verifier.ready({ timeoutMs: 10_000 });
      const { delivery, endToEnd } = await measureRevocationLag(server, wiring, {
        count: COUNT,
        email: `bench-${transport}@example.com`,
      });
      const sorted = [...delivery].sort((a, b) => a - b);
      const sortedEnd = [...endToEnd].sort((a, b) => a - b);
      return {
        transport,
        count: delivery.length,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted.at(-1) ?? NaN,
        endToEndP50: percentile(sortedEnd, 50),
        endToEndP99: percentile(sortedEnd, 99),
      };
    } finally {
      await wiring.close();
    }
  } finally {
    await server.close();
  }
}

const rows: Row[] = [];
for (const transport of transports) {
  const problem = await unreachable(transport);
  if (problem !== null) {
    console.warn(`${transport}: skipped, server unreachable (${problem})`);
    continue;
  }
  const row = await run(transport);
  rows.push(row);
  if (values.json) console.log(JSON.stringify({ bench: 'revocation-lag', ...row }));
}

if (!values.json) {
  const ms = (value: number): string => `${value.toFixed(2)} ms`.padStart(10);
  console.log(
    `revocation lag, recorded → refused by the SDK (${COUNT} logouts each; end to end adds the logout call)`,
  );
  console.log(
    `${'transport'.padEnd(10)}${'p50'.padStart(10)}${'p99'.padStart(10)}${'max'.padStart(10)}   end-to-end p50/p99`,
  );
  for (const row of rows) {
    console.log(
      `${row.transport.padEnd(10)}${ms(row.p50)}${ms(row.p99)}${ms(row.max)}   ${row.endToEndP50.toFixed(2)} / ${row.endToEndP99.toFixed(2)} ms`,
    );
  }
}
