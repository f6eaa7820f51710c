/**
 * What the HTTP layer records per request, framework-free: the duration histogram by route
 * pattern, method and status class, and the 429 counter by route. The prom-client children are
 * made once per (route, method, status class) and kept, so a request costs two map reads and an
 * `observe`.
 */

import type { LatchkeyMetrics } from './metrics.js';

/** The route label of a request no route matched (the 404 handler). */
export const UNMATCHED_ROUTE = 'unmatched';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const STATUS_CLASSES = ['1xx', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

type Timer = { observe(value: number): void };

export interface HTTPRecorder {
  /** `route`: the matched route pattern (never the raw URL), undefined when none matched. */
  record(route: string | undefined, method: string, status: number, seconds: number): void;
  /** The revocation feed gained (+1) or lost (-1) a connection. */
  feedConnections(delta: 1 | -1): void;
  /** The metrics as Prometheus text. */
  scrape: LatchkeyMetrics['scrape'];
}

/**
 * @example
 * const recorder = createHTTPRecorder(metrics);
 * recorder.record('/v1/login', 'POST', 200, 0.012);
 */
export function createHTTPRecorder(metrics: LatchkeyMetrics): HTTPRecorder {
  const timers = new Map<string, Map<string, Timer[]>>();
  const throttled = new Map<string, { inc(): void }>();

  function timer(route: string, method: string, statusClass: number): Timer {
    let byMethod = timers.get(route);
    if (byMethod === undefined) timers.set(route, (byMethod = new Map<string, Timer[]>()));
    let byClass = byMethod.get(method);
    if (byClass === undefined) byMethod.set(method, (byClass = []));
    return (byClass[statusClass] ??= metrics.httpDuration.labels({
      route,
      method,
      status: STATUS_CLASSES[statusClass] ?? '5xx',
    }));
  }

  return {
    record(route, method, status, seconds) {
      const label = route ?? UNMATCHED_ROUTE;
      const statusClass = status >= 100 && status < 600 ? Math.floor(status / 100) : 5;
      timer(label, METHODS.has(method) ? method : 'other', statusClass).observe(seconds);
      if (status === 429) {
        let counter = throttled.get(label);
        if (counter === undefined)
          throttled.set(label, (counter = metrics.throttledRequests.labels({ route: label })));
        counter.inc();
      }
    },
    feedConnections(delta) {
      metrics.feedSubscribers.inc(delta);
    },
    scrape: () => metrics.scrape(),
  };
}
