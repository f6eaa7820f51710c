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
 * Then the cost of one lookup in the verifier's revocation list (`isRevoked`, half of them hits)
 * at 10, 1 000 and 100 000 records: a lookup must not grow with the list (the unit test checks
 * its answers, this its speed).
 *
 * Options: --count <n> (default 50), --transport <sse|redis|postgres> (repeatable; default all),
 * --json (one JSON line per transport and per list size instead of the tables).
 */

import { parseArgs } from 'node:util';
import type { RevocationRecord } from '../src/records.js';
import { createRevocationList } from '../src/revocation/revocation-list.js';
import { probePostgres, probeRedis } from '../test/helpers/services.js';
import { startLiveServer } from '../test/verify/live-server.js';
import { measureRevocationLag, percentile, wire, type Transport } from '../test/verify/revocation-lag.js';
import { median } from './lib/stats.js';

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

/** Nanoseconds per `isRevoked` in a list of `size` session revocations (median of 5 rounds). */
function lookupNanos(size: number): number {
  const now = Date.now();
  const list = createRevocationList();
  for (let i = 0; i < size; i++) {
    const record: RevocationRecord = {
      seq: i + 1,
      kind: 'session',
      subject: `s${i}`,
      issuedBefore: null,
      createdAt: now,
      expiresAt: now + 3_600_000,
    };
    list.apply(record);
  }
  const LOOKUPS = 200_000;
  // Half hits spread over the list, half misses; the strings are made before the clock starts.
  const checks = Array.from({ length: 1_000 }, (_, i) => ({
    sid: i % 2 === 0 ? `s${(i * 7_919) % size}` : `missing-${i}`,
    sub: 'user-1',
    iat: Math.floor(now / 1000) - 60,
    jti: `jti-${i}`,
  }));
  const rounds: number[] = [];
  let hits = 0;
  for (let round = 0; round < 5; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < LOOKUPS; i++) {
      const check = checks[i % checks.length];
      if (check !== undefined && list.isRevoked(check) !== null) hits++;
    }
    rounds.push(Number(process.hrtime.bigint() - started) / LOOKUPS);
  }
  if (hits !== (5 * LOOKUPS) / 2) throw new Error(`${hits} hits: expected half the lookups to hit`);
  return median(rounds);
}

const sizes = [10, 1_000, 100_000];
const nanos = sizes.map((size) => ({ size, ns: lookupNanos(size) }));
if (values.json) {
  for (const row of nanos) console.log(JSON.stringify({ bench: 'revocation-list-lookup', ...row }));
} else {
  console.log('');
  console.log('revocation list lookup (isRevoked, half hits), median of 5 rounds of 200 000');
  for (const row of nanos) {
    console.log(
      `${`${row.size.toLocaleString('en-US')} records`.padEnd(18)}${row.ns.toFixed(1).padStart(8)} ns`,
    );
  }
}
