/**
 * Every Prometheus metric of a Latchkey server, in one registry of its own (never prom-client's
 * global one, so that two instances in one process, as in tests, do not mix). Label values are
 * bounded: each comes from a fixed list, a route pattern, or a store method name; never a user id,
 * an email or a raw path.
 */

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface LatchkeyMetrics {
  registry: Registry;
  securityEvents: Counter<'event'>;
  logins: Counter<'mode' | 'outcome'>;
  loginFailures: Counter<'reason'>;
  signups: Counter;
  refreshes: Counter<'outcome'>;
  refreshReuse: Counter;
  revocations: Counter<'cause'>;
  throttleLockouts: Counter<'limit' | 'scope'>;
  csrfRefusals: Counter<'check'>;
  mfa: Counter<'method' | 'outcome'>;
  keyRotations: Counter;
  httpDuration: Histogram<'route' | 'method' | 'status'>;
  throttledRequests: Counter<'route'>;
  storeDuration: Histogram<'store' | 'operation'>;
  storeErrors: Counter<'store' | 'operation'>;
  passwordHashDuration: Histogram<'operation'>;
  feedSubscribers: Gauge;
  feedLag: Histogram;
  cacheChannelLive: Gauge;
  revocationRecords: Counter<'kind'>;
  /** The text a scrape answers, and its content type. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const STORE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1];
const LAG_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60];
const HASH_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 2];

/**
 * Creates the registry with the default Node process metrics (`process_*`, `nodejs_*`).
 *
 * @example
 * const metrics = createLatchkeyMetrics();
 * metrics.signups.inc();
 */
export function createLatchkeyMetrics(): LatchkeyMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> =>
    new Counter<L>({ name, help, labelNames, registers });
  return {
    registry,
    securityEvents: counter('latchkey_security_events_total', 'Security events logged, by event', ['event']),
    logins: counter('latchkey_logins_total', 'Login attempts by session mode and outcome', [
      'mode',
      'outcome',
    ]),
    loginFailures: counter('latchkey_login_failures_total', 'Failed logins by reason', ['reason']),
    signups: counter('latchkey_signups_total', 'Accounts created'),
    refreshes: counter('latchkey_refreshes_total', 'Refresh token rotations by outcome', ['outcome']),
    refreshReuse: counter(
      'latchkey_refresh_reuse_detected_total',
      'Spent refresh tokens presented again after the grace window (the session was revoked)',
    ),
    revocations: counter('latchkey_session_revocations_total', 'Session revocations by cause', ['cause']),
    throttleLockouts: counter(
      'latchkey_throttle_lockouts_total',
      'Throttles that started: which limit, and its scope',
      ['limit', 'scope'],
    ),
    csrfRefusals: counter('latchkey_csrf_refusals_total', 'Requests refused by a CSRF or origin check', [
      'check',
    ]),
    mfa: counter('latchkey_mfa_total', 'Second-factor verifications by method and outcome', [
      'method',
      'outcome',
    ]),
    keyRotations: counter(
      'latchkey_signing_keys_created_total',
      'Signing keys created (the first one and every rotation)',
    ),
    httpDuration: new Histogram({
      name: 'latchkey_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern, method and status class',
      labelNames: ['route', 'method', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    throttledRequests: counter('latchkey_http_throttled_total', 'Requests answered 429, by route pattern', [
      'route',
    ]),
    storeDuration: new Histogram({
      name: 'latchkey_store_call_duration_seconds',
      help: 'Store call duration by store kind and operation',
      labelNames: ['store', 'operation'],
      buckets: STORE_BUCKETS,
      registers,
    }),
    storeErrors: counter('latchkey_store_call_errors_total', 'Store calls that failed', [
      'store',
      'operation',
    ]),
    passwordHashDuration: new Histogram({
      name: 'latchkey_password_hash_duration_seconds',
      help: 'argon2id time: hash, verify, and the dummy verification of unknown accounts',
      labelNames: ['operation'],
      buckets: HASH_BUCKETS,
      registers,
    }),
    feedSubscribers: new Gauge({
      name: 'latchkey_revocation_feed_connections',
      help: 'Open connections to the revocation feed (GET /v1/revocations)',
      registers,
    }),
    feedLag: new Histogram({
      name: 'latchkey_revocation_feed_lag_seconds',
      help: "From a revocation (on any node) to its delivery to this node's near session cache over the channel",
      buckets: LAG_BUCKETS,
      registers,
    }),
    cacheChannelLive: new Gauge({
      name: 'latchkey_session_cache_channel_live',
      help: 'Whether the revocation channel of the near session cache is live (1) or down, the cache bypassed (0)',
      registers,
    }),
    revocationRecords: counter(
      'latchkey_revocation_records_total',
      'Revocation records published to the feed, by kind',
      ['kind'],
    ),
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
