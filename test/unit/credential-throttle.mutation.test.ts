/**
 * The credential throttle (`src/throttle/credential-throttle.ts`) with its default limits, over
 * the memory store's counters: the windows `docs/security.md` promises (100 failures in 10 min
 * per client, 600 refreshes a minute per client, 100 per 10 min per session), the `Retry-After`
 * they give, and the one warning each throttle logs when it starts.
 */
import { Writable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import type { LatchkeyError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { createCredentialThrottle, type CredentialThrottle } from '../../src/throttle/credential-throttle.js';

let clock: ManualClock;
let throttle: CredentialThrottle;
let logs: Record<string, unknown>[];

beforeEach(() => {
  clock = createManualClock(Date.UTC(2026, 0, 1));
  logs = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  throttle = createCredentialThrottle({
    counters: createMemoryStore(),
    clock,
    logger: createLogger({ level: 'info', destination }),
  });
});

/** Runs `attempt` `times` times; the error of the last one, if it threw. */
async function repeat(times: number, attempt: () => Promise<void>): Promise<LatchkeyError | undefined> {
  let last: LatchkeyError | undefined;
  for (let i = 0; i < times; i++) {
    last = undefined;
    try {
      await attempt();
    } catch (error) {
      last = error as LatchkeyError;
    }
  }
  return last;
}

describe('failed authentications per client', () => {
  it('allow 100 in 10 minutes, then answer 429 until the window ends', async () => {
    expect(await repeat(100, () => throttle.failed('203.0.113.7'))).toBeUndefined();
    const refused = await repeat(1, () => throttle.failed('203.0.113.7'));
    expect(refused).toMatchObject({ code: 'too_many_requests', retryAfter: 600 });
    clock.advance(599_000);
    expect(await repeat(1, () => throttle.failed('203.0.113.7'))).toMatchObject({ retryAfter: 1 });
    clock.advance(1_000);
    expect(await repeat(1, () => throttle.failed('203.0.113.7'))).toBeUndefined();
  });

  it('log one warning when the throttle starts, with the limit and window', async () => {
    await repeat(103, () => throttle.failed('203.0.113.7'));
    const warnings = logs.filter((line) => line.event === 'throttle.auth_failures');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ ip: '203.0.113.7', limit: 100, windowSeconds: 600 });
    expect(warnings[0]?.msg).toMatch(/failed authentications/);
  });
});

describe('refresh floods', () => {
  it('allow 600 refreshes a minute from one client, then 429 for the rest of the minute', async () => {
    expect(await repeat(600, () => throttle.refreshByClient('203.0.113.7'))).toBeUndefined();
    expect(await repeat(1, () => throttle.refreshByClient('203.0.113.7'))).toMatchObject({
      code: 'too_many_requests',
      retryAfter: 60,
    });
    const warning = logs.find((line) => line.event === 'throttle.refresh_flood');
    expect(warning).toMatchObject({ scope: 'client', limit: 600, windowSeconds: 60 });
    expect(warning?.msg).toMatch(/refreshes from one client/);
  });

  it('allow 100 refreshes of one session in 10 minutes, from any address', async () => {
    let n = 0;
    const next = (): Promise<void> => throttle.refreshOfFamily('session-1', `203.0.113.${n++ % 200}`);
    expect(await repeat(100, next)).toBeUndefined();
    expect(await repeat(1, next)).toMatchObject({ code: 'too_many_requests', retryAfter: 600 });
    // Another session is not touched.
    expect(await repeat(1, () => throttle.refreshOfFamily('session-2', '203.0.113.7'))).toBeUndefined();
    const warning = logs.find((line) => line.event === 'throttle.refresh_flood');
    expect(warning).toMatchObject({
      scope: 'family',
      sessionId: 'session-1',
      limit: 100,
      windowSeconds: 600,
    });
    expect(warning?.msg).toMatch(/refreshes of one session/);
  });
});
