/**
 * Settings of the Prometheus metrics: where `GET /metrics` is served, if anywhere. Off by
 * default: nothing is measured and nothing listens until the operator asks for it.
 */

import { boolean, ConfigError, read, type Env } from './env.js';
import type { ConfigVariable } from './variables.js';

export interface MetricsConfig {
  /** `LATCHKEY_METRICS_PORT`: the metrics listener's port; null = no metrics listener. */
  port: number | null;
  /** `LATCHKEY_METRICS_HOST`: the address the metrics listener binds. */
  host: string;
  /** `LATCHKEY_METRICS_ON_MAIN_PORT`: also `GET /metrics` on the main port, for a client with scope `metrics`. */
  onMainPort: boolean;
}

export const METRICS_VARIABLES: readonly ConfigVariable[] = [
  {
    name: 'LATCHKEY_METRICS_PORT',
    default: '(unset: metrics off)',
    description:
      'Serve Prometheus metrics (`GET /metrics`, no authentication) on this port of `LATCHKEY_METRICS_HOST`, apart from the public port. See docs/deploying.md.',
  },
  {
    name: 'LATCHKEY_METRICS_HOST',
    default: '127.0.0.1',
    description:
      'Address the metrics listener binds; widen it only on a private network your Prometheus is on.',
  },
  {
    name: 'LATCHKEY_METRICS_ON_MAIN_PORT',
    default: 'false',
    description:
      '`true`: also serve `GET /metrics` on the main port, to a machine client with the `metrics` scope (HTTP Basic with its id and secret).',
  },
];

/** Reads the metrics settings. */
export function loadMetricsConfig(env: Env): MetricsConfig {
  const portText = read(env, 'LATCHKEY_METRICS_PORT');
  let port: number | null = null;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d{1,5}$/.test(portText) || port > 65535) {
      throw new ConfigError('LATCHKEY_METRICS_PORT', `"${portText}" is not a port number (0-65535)`);
    }
  }
  const host = read(env, 'LATCHKEY_METRICS_HOST') ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:[\]-]{1,253}$/.test(host)) {
    throw new ConfigError('LATCHKEY_METRICS_HOST', `"${host}" is not a host name or address`);
  }
  return { port, host, onMainPort: boolean(env, 'LATCHKEY_METRICS_ON_MAIN_PORT', false) };
}

/** True when metrics are collected at all (some place serves them). */
export function isMetricsEnabled(config: MetricsConfig): boolean {
  return config.port !== null || config.onMainPort;
}
