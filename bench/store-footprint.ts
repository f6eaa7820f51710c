/**
 * Storage footprint and read latency of a store: `npx tsx bench/store-footprint.ts <target>`.
 *
 * Writes `--sessions` sessions (default 100 000), each with one refresh token, shaped like the
 * server's (22-character ids, SHA-256 hashes, a desktop browser's user agent, one user per five
 * sessions), then reports:
 * - bytes per session: the backend's growth divided by the count (indexes included), and, where
 *   the target can, the size of one session's own records;
 * - p50 / p99 / max of `--reads` (default 10 000) sequential `getSession` calls on random ids.
 *
 * Everything is written under a fresh namespace and deleted at the end. To add a backend, add an
 * entry to `targets`: open a store, say how many bytes the backend uses, clean up.
 *
 * Targets: `redis` (`REDIS_URL`, default `redis://127.0.0.1:6379`; growth is `INFO memory`
 * `used_memory`, so other clients writing to the same server at the same time skew it).
 */

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createRedisClient, openRedisStore } from '../src/stores/redis/index.js';
import type { Store } from '../src/store.js';
import type { RefreshTokenRecord, SessionRecord } from '../src/records.js';

interface FootprintTarget {
  store: Store;
  /** Bytes the backend uses right now, as a whole (compared before and after the writes). */
  bytesUsed(): Promise<number>;
  /** Bytes of the records of one session and its refresh token, if the backend can tell. */
  sampleBytes?(session: SessionRecord, token: RefreshTokenRecord): Promise<number | null>;
  /** Deletes what the benchmark wrote and closes everything. */
  cleanup(): Promise<void>;
}

const targets: Record<string, () => Promise<FootprintTarget>> = {
  async redis() {
    const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const prefix = `latchkey-bench-${process.pid}-${randomBytes(4).toString('hex')}`;
    const admin = createRedisClient(url, { lazyConnect: true });
    await admin.connect();
    const store = await openRedisStore({ url, prefix });
    return {
      store,
      async bytesUsed() {
        const info = await admin.info('memory');
        const match = /^used_memory:(\d+)/m.exec(info);
        if (match?.[1] === undefined) throw new Error('INFO memory has no used_memory');
        return Number(match[1]);
      },
      async sampleBytes(session, token) {
        // The per-session keys (the layout of src/stores/redis/index.ts); index entries in the
        // shared sorted sets are only in the growth figure.
        const keys = [
          `${prefix}:{s:${session.id}}:session`,
          `${prefix}:{s:${session.id}}:rt`,
          `${prefix}:{rt:${token.id}}`,
        ];
        let total = 0;
        for (const key of keys) total += (await admin.memory('USAGE', key, 'SAMPLES', '0')) ?? 0;
        return total;
      },
      async cleanup() {
        await store.close();
        let cursor = '0';
        do {
          const [next, found] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
          cursor = next;
          if (found.length > 0) await admin.unlink(...found);
        } while (cursor !== '0');
        await admin.quit();
      },
    };
  },
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    sessions: { type: 'string', default: '100000' },
    reads: { type: 'string', default: '10000' },
    batch: { type: 'string', default: '1000' },
  },
});
const targetName = positionals[0] ?? '';
const openTarget = targets[targetName];
if (openTarget === undefined) {
  console.error(`usage: npx tsx bench/store-footprint.ts <${Object.keys(targets).join('|')}>`);
  process.exit(2);
}
const SESSIONS = Number(values.sessions);
const READS = Number(values.reads);
const BATCH = Number(values.batch);

/** A fixed clock: 2026-01-01T00:00:00Z. */
const NOW = Date.UTC(2026, 0, 1);
const DAY = 24 * 60 * 60 * 1_000;
const USER_AGENT =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

const id = (): string => randomBytes(16).toString('base64url');
const hash = (): string => randomBytes(32).toString('base64url');

function records(i: number): { session: SessionRecord; token: RefreshTokenRecord } {
  const session: SessionRecord = {
    id: id(),
    userId: `user-${String(i % Math.max(1, Math.floor(SESSIONS / 5))).padStart(6, '0')}`,
    secretHash: hash(),
    mode: 'hybrid',
    createdAt: NOW + i,
    lastSeenAt: NOW + i,
    idleExpiresAt: NOW + i + 7 * DAY,
    absoluteExpiresAt: NOW + i + 30 * DAY,
    userAgent: USER_AGENT,
    ip: '203.0.113.7',
    revokedAt: null,
    persistent: false,
    amr: ['pwd'],
    authTime: NOW + i,
    acr: '1',
  };
  const token: RefreshTokenRecord = {
    id: id(),
    sessionId: session.id,
    secretHash: hash(),
    createdAt: NOW + i,
    expiresAt: NOW + i + 7 * DAY,
    rotatedAt: null,
    successorId: null,
  };
  return { session, token };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const target = await openTarget();
try {
  const { store } = target;
  const ids: string[] = [];
  let sample: { session: SessionRecord; token: RefreshTokenRecord } | undefined;
  const before = await target.bytesUsed();
  const writeStarted = performance.now();
  for (let start = 0; start < SESSIONS; start += BATCH) {
    const batch: Promise<void>[] = [];
    for (let i = start; i < Math.min(SESSIONS, start + BATCH); i += 1) {
      const { session, token } = records(i);
      sample ??= { session, token };
      ids.push(session.id);
      batch.push(store.createSession(session).then(() => store.createRefreshToken(token)));
    }
    await Promise.all(batch);
  }
  const writeMs = performance.now() - writeStarted;
  const after = await target.bytesUsed();
  const sampled =
    sample === undefined ? null : ((await target.sampleBytes?.(sample.session, sample.token)) ?? null);

  for (let i = 0; i < 1_000; i += 1) await store.getSession(ids[i % ids.length] ?? '');
  const latencies: number[] = [];
  for (let i = 0; i < READS; i += 1) {
    const sessionId = ids[Math.floor(Math.random() * ids.length)] ?? '';
    const started = performance.now();
    const found = await store.getSession(sessionId);
    latencies.push(performance.now() - started);
    if (found === null) throw new Error('A written session is missing');
  }
  latencies.sort((a, b) => a - b);

  const round = (n: number, digits = 0): string => n.toFixed(digits);
  console.log(`target ${store.kind}: ${SESSIONS} sessions, each with one refresh token`);
  console.log(
    `  write: ${round(writeMs)} ms (${round((SESSIONS / writeMs) * 1_000)} sessions/s, ${BATCH} at a time)`,
  );
  console.log(
    `  growth: ${round(after - before)} bytes = ${round((after - before) / SESSIONS)} bytes per session`,
  );
  if (sampled !== null) console.log(`  one session's own records: ${sampled} bytes (indexes not included)`);
  console.log(
    `  getSession x${READS} sequential: p50 ${round(percentile(latencies, 50) * 1_000)} µs, ` +
      `p99 ${round(percentile(latencies, 99) * 1_000)} µs, max ${round((latencies.at(-1) ?? 0) * 1_000)} µs`,
  );
} finally {
  await target.cleanup();
}
