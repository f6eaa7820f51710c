/**
 * The near session cache's channel in the metrics: how long a revocation took to reach this node
 * (`latchkey_revocation_feed_lag_seconds`) and whether the channel is live
 * (`latchkey_session_cache_channel_live`), both counted at the default log level, where the
 * per-record debug line is not written.
 */

import { Writable } from 'node:stream';
import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';
import { expect, it } from 'vitest';
import { connectSessionCache } from '../../src/app/session-cache.js';
import { createLogger } from '../../src/log.js';
import { countSecurityEvent } from '../../src/metrics/events.js';
import { tapLogEvents } from '../../src/metrics/log-tap.js';
import { createLatchkeyMetrics } from '../../src/metrics/metrics.js';
import type { RevocationRecord } from '../../src/records.js';
import { createRevocationRecorder } from '../../src/revocation/revocations.js';
import { createSessionCache } from '../../src/session/session-cache.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import type { RevocationFeed, RevocationFeedState } from '../../src/verify/feed.js';

function family(text: string, name: string): PrometheusFamily | undefined {
  return parsePrometheusTextFormat(text).find((candidate) => candidate.name === name);
}

it('observes each delivered record’s lag and follows the channel’s state', async () => {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  });
  const metrics = createLatchkeyMetrics();
  tapLogEvents(logger, (event, fields) => countSecurityEvent(metrics, event, fields));

  let deliver: (record: RevocationRecord) => void = () => undefined;
  let report: (state: RevocationFeedState) => void = () => undefined;
  const feed: RevocationFeed = {
    start(apply, onState) {
      deliver = apply;
      report = onState;
    },
    close: () => Promise.resolve(),
  };
  const cache = createSessionCache({ maxAge: 60_000, clock: Date.now, live: false });
  const revocations = createRevocationRecorder({
    store: createMemoryStore(),
    clock: Date.now,
    retention: 60_000,
  });
  connectSessionCache(cache, { revocations, feed, logger });

  report({ status: 'live' });
  const record = (seq: number, ageMs: number): RevocationRecord => ({
    seq,
    kind: 'session',
    subject: `s${seq}`,
    issuedBefore: null,
    createdAt: Date.now() - ageMs,
    expiresAt: Date.now() + 60_000,
  });
  deliver(record(1, 40));
  deliver(record(2, 3_000));
  // Another node's clock a little ahead: no negative lag.
  deliver(record(3, -500));

  let text = (await metrics.scrape()).body;
  const lag = family(text, 'latchkey_revocation_feed_lag_seconds');
  expect(lag?.metrics[0]).toMatchObject({ count: '3' });
  const sum = Number((lag?.metrics[0] as { sum?: string } | undefined)?.sum);
  expect(sum).toBeGreaterThanOrEqual(3.04);
  expect(sum).toBeLessThan(10);
  expect(family(text, 'latchkey_session_cache_channel_live')?.metrics[0]).toMatchObject({ value: '1' });

  report({ status: 'disconnected', reason: 'socket closed' });
  text = (await metrics.scrape()).body;
  expect(family(text, 'latchkey_session_cache_channel_live')?.metrics[0]).toMatchObject({ value: '0' });
  // At info, the per-record line is not written; only the channel's transitions are.
  expect(lines.join('')).not.toContain('session_cache.record');
  expect(lines.join('')).toContain('session_cache.channel_down');
});
