/**
 * The metrics of one server, composed: the registry (`src/metrics/`), the measuring store and
 * password hasher, the log tap that counts security events, and the recorder the HTTP server
 * calls. Made by `src/cli/serve.ts` only when metrics are on (`LATCHKEY_METRICS_PORT` or
 * `LATCHKEY_METRICS_ON_MAIN_PORT`); with metrics off nothing is wrapped and nothing is counted.
 */

import { isMetricsEnabled, type MetricsConfig } from '../config/metrics.js';
import { isLatchkeyError } from '../errors.js';
import { countSecurityEvent } from '../metrics/events.js';
import { createHTTPRecorder, type HTTPRecorder } from '../metrics/http.js';
import { tapLogEvents } from '../metrics/log-tap.js';
import { measureHasher, measureStore } from '../metrics/measure.js';
import { createLatchkeyMetrics, type LatchkeyMetrics } from '../metrics/metrics.js';
import type { PasswordHasher } from '../password/hash.js';
import type { Store } from '../store.js';
import type { Latchkey } from './latchkey.js';

export interface Instrumentation {
  metrics: LatchkeyMetrics;
  /** For `createHTTPServer({ metrics })`. */
  http: HTTPRecorder;
  measureStore(store: Store): Store;
  measureHasher(hasher: PasswordHasher): PasswordHasher;
  /** Counts the instance's security events (from its logger), refreshes and revocation records. */
  attach(latchkey: Latchkey): void;
}

const REFRESH_REFUSALS = new Set(['invalid_grant', 'csrf_failed', 'too_many_requests']);
const REVOCATION_KINDS = new Set(['session', 'user', 'token']);

/**
 * The instrumentation the settings ask for, or null when metrics are off.
 *
 * @example
 * const instrumentation = createInstrumentation(config.metrics);
 * const latchkey = await openLatchkey(config, { instrumentation });
 */
export function createInstrumentation(config: MetricsConfig): Instrumentation | null {
  if (!isMetricsEnabled(config)) return null;
  const metrics = createLatchkeyMetrics();
  const refreshOutcomes = {
    success: metrics.refreshes.labels({ outcome: 'success' }),
    error: metrics.refreshes.labels({ outcome: 'error' }),
  };
  return {
    metrics,
    http: createHTTPRecorder(metrics),
    measureStore: (store) => measureStore(store, metrics),
    measureHasher: (hasher) => measureHasher(hasher, metrics),
    attach(latchkey) {
      tapLogEvents(latchkey.logger, (event, fields) => countSecurityEvent(metrics, event, fields));
      latchkey.revocations.onRevocation((record) => {
        metrics.revocationRecords.inc({ kind: REVOCATION_KINDS.has(record.kind) ? record.kind : 'other' });
      });
      const { auth } = latchkey;
      const refresh = auth.refresh.bind(auth);
      latchkey.auth.refresh = async (input) => {
        try {
          const result = await refresh(input);
          refreshOutcomes.success.inc();
          return result;
        } catch (error) {
          if (isLatchkeyError(error) && REFRESH_REFUSALS.has(error.code)) {
            metrics.refreshes.inc({ outcome: error.code });
          } else refreshOutcomes.error.inc();
          throw error;
        }
      };
    },
  };
}
