import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { connect } from 'node:net';
import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, loadConfig, type LatchkeyConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/cli/serve.js';
import { createLogger } from '../../src/log.js';

const SECRET = 'metrics-test-master-secret-0123456789abcdef';
const ISSUER = 'https://auth.example.test';
const PASSWORD = 'correct horse battery staple';
const EMAIL = 'ada.metrics@example.com';

function config(overrides: Partial<LatchkeyConfig> = {}): LatchkeyConfig {
  return defaultConfig({
    issuer: ISSUER,
    audience: ISSUER,
    store: 'memory',
    secret: SECRET,
    port: 0,
    // Every security event below is logged at info or warn; at error none is written, all are counted.
    logLevel: 'error',
    refreshGrace: 0,
    metrics: { port: 0, host: '127.0.0.1', onMainPort: true },
    ...overrides,
  });
}

type Families = Map<string, PrometheusFamily>;

const HISTOGRAMS = [
  'latchkey_http_request_duration_seconds',
  'latchkey_store_call_duration_seconds',
  'latchkey_password_hash_duration_seconds',
];

/**
 * The parser flattens a histogram with labels into one sample and drops the labels, so each
 * histogram's `_count` series is handed to it again as a counter of its own: the labels and
 * values are still read by the parser, not here.
 */
function parseScrape(text: string): Families {
  const families = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
  for (const name of HISTOGRAMS) {
    const lines = text.split('\n').filter((line) => line.startsWith(`${name}_count{`));
    const counts = parsePrometheusTextFormat(
      `# HELP ${name}_count observations\n# TYPE ${name}_count counter\n${lines.join('\n')}\n`,
    );
    for (const family of counts) families.set(name, family);
  }
  return families;
}

/** Scrapes the metrics listener over a real socket and parses with an independent parser. */
async function scrape(server: RunningServer): Promise<{ text: string; families: Families }> {
  const listener = server.metricsListener();
  if (listener === null) throw new Error('no metrics listener');
  const response = await fetch(`http://127.0.0.1:${listener.address.port}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  return { text, families: parseScrape(text) };
}

/** The value (a histogram: its count) of the sample of `name` whose labels include `labels`; 0 if none. */
function value(families: Families, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name);
  const sample = family?.metrics.find((candidate) =>
    Object.entries(labels).every(([key, wanted]) => candidate.labels?.[key] === wanted),
  );
  return Number(sample?.value ?? 0);
}

function labelValues(families: Families, name: string, label: string): string[] {
  return (families.get(name)?.metrics ?? []).map((sample) => sample.labels?.[label] ?? '');
}

describe('Prometheus metrics, scraped from a running server', () => {
  let server: RunningServer;
  const secrets: string[] = [];
  let userId = '';

  const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
    server.app.inject({ method: 'POST', url, payload, headers });

  beforeAll(async () => {
    server = await startServer(config(), { logger: createLogger({ level: 'error' }) });
    await server.listen();
    const signup = await post('/v1/signup', { email: EMAIL, password: PASSWORD });
    expect(signup.statusCode).toBe(201);
    userId = signup.json<{ user: { id: string } }>().user.id;
  });
  afterAll(async () => {
    await server.close();
  });

  it('counts logins by mode and outcome, and a sign-up, with LOG_LEVEL dropping those lines', async () => {
    const before = (await scrape(server)).families;
    const ok = await post('/v1/login', { email: EMAIL, password: PASSWORD, mode: 'token' });
    expect(ok.statusCode).toBe(200);
    secrets.push(ok.json<{ refresh_token: string; access_token: string }>().refresh_token);
    const wrong = await post('/v1/login', { email: EMAIL, password: 'not the password', mode: 'cookie' });
    expect(wrong.statusCode).toBe(401);
    const { families } = await scrape(server);
    const logins = (labels: Record<string, string>) =>
      value(families, 'latchkey_logins_total', labels) - value(before, 'latchkey_logins_total', labels);
    expect(logins({ mode: 'token', outcome: 'success' })).toBe(1);
    expect(logins({ mode: 'cookie', outcome: 'failure' })).toBe(1);
    expect(logins({ mode: 'cookie', outcome: 'success' })).toBe(0);
    expect(
      value(families, 'latchkey_login_failures_total', { reason: 'invalid_credentials' }),
    ).toBeGreaterThan(0);
    expect(value(families, 'latchkey_signups_total')).toBe(1);
    expect(value(families, 'latchkey_security_events_total', { event: 'login.success' })).toBeGreaterThan(0);
    // The store, argon2id and the first signing key were measured too.
    expect(
      value(families, 'latchkey_store_call_duration_seconds', {
        store: 'memory',
        operation: 'getUserByEmail',
      }),
    ).toBeGreaterThan(0);
    expect(
      value(families, 'latchkey_password_hash_duration_seconds', { operation: 'verify' }),
    ).toBeGreaterThan(0);
    expect(value(families, 'latchkey_signing_keys_created_total')).toBeGreaterThanOrEqual(1);
    expect(families.has('process_cpu_user_seconds_total')).toBe(true);
    expect(families.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('counts a refresh, then a refresh token reuse and the revocation it causes', async () => {
    const login = await post('/v1/login', { email: EMAIL, password: PASSWORD, mode: 'token' });
    const spent = login.json<{ refresh_token: string }>().refresh_token;
    secrets.push(spent);
    const rotated = await post('/v1/refresh', { refresh_token: spent });
    expect(rotated.statusCode).toBe(200);
    secrets.push(rotated.json<{ refresh_token: string }>().refresh_token);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const reuse = await post('/v1/refresh', { refresh_token: spent });
    expect(reuse.statusCode).toBe(400);
    const { families } = await scrape(server);
    expect(value(families, 'latchkey_refreshes_total', { outcome: 'success' })).toBe(1);
    expect(value(families, 'latchkey_refreshes_total', { outcome: 'invalid_grant' })).toBe(1);
    expect(value(families, 'latchkey_refresh_reuse_detected_total')).toBe(1);
    expect(value(families, 'latchkey_session_revocations_total', { cause: 'refresh_reuse' })).toBe(1);
    expect(value(families, 'latchkey_revocation_records_total', { kind: 'session' })).toBeGreaterThanOrEqual(
      1,
    );
  });

  it('counts a cross-site refusal and a login throttle with its 429s', async () => {
    const crossSite = await post(
      '/v1/login',
      { email: EMAIL, password: PASSWORD },
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    );
    expect(crossSite.statusCode).toBe(403);
    const victim = 'grace.metrics@example.com';
    for (let i = 0; i < 5; i++) {
      expect((await post('/v1/login', { email: victim, password: 'wrong password!' })).statusCode).toBe(401);
    }
    expect((await post('/v1/login', { email: victim, password: 'wrong password!' })).statusCode).toBe(429);
    const { families } = await scrape(server);
    expect(value(families, 'latchkey_csrf_refusals_total', { check: 'origin' })).toBe(1);
    expect(value(families, 'latchkey_security_events_total', { event: 'csrf.cross_site' })).toBe(1);
    expect(value(families, 'latchkey_throttle_lockouts_total', { limit: 'login' })).toBeGreaterThanOrEqual(1);
    expect(value(families, 'latchkey_http_throttled_total', { route: '/v1/login' })).toBe(1);
    expect(
      value(families, 'latchkey_http_request_duration_seconds', {
        route: '/v1/login',
        method: 'POST',
        status: '4xx',
      }),
    ).toBeGreaterThanOrEqual(7);
  });

  it('keeps label values bounded: route patterns, never raw paths, ids or emails', async () => {
    const unknownId = 'Zx81ZQk3unknownPathId';
    const sessionId = 'PATHID0123456789abcdef';
    expect((await server.app.inject({ method: 'GET', url: `/v1/users/${unknownId}` })).statusCode).toBe(404);
    expect((await server.app.inject({ method: 'DELETE', url: `/v1/sessions/${sessionId}` })).statusCode).toBe(
      401,
    );
    // An unknown event name is counted as `other`, not under its own name.
    server.latchkey.logger.error({ event: `made.up.${userId}` }, 'an event outside the catalogue');
    const { text, families } = await scrape(server);
    const routes = labelValues(families, 'latchkey_http_request_duration_seconds', 'route');
    expect(routes).toContain('unmatched');
    expect(routes).toContain('/v1/sessions/:id');
    expect(routes.every((route) => route === 'unmatched' || !route.includes(unknownId))).toBe(true);
    expect(value(families, 'latchkey_security_events_total', { event: 'other' })).toBe(1);
    for (const leak of [unknownId, sessionId, userId, EMAIL, 'grace.metrics', PASSWORD, SECRET, ...secrets]) {
      expect(text.includes(leak), `the metrics contain ${leak.slice(0, 12)}...`).toBe(false);
    }
  });

  it('serves /metrics on the main port only to a machine client with the metrics scope', async () => {
    const basic = (id: string, secret: string) =>
      `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    const anonymous = await server.app.inject({ method: 'GET', url: '/metrics' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.body).not.toContain('latchkey_logins_total');
    const other = await server.latchkey.clients.create({
      name: 'orders',
      scopes: ['orders:read'],
      audiences: [ISSUER],
    });
    const refused = await server.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: basic(other.client.id, other.secret) },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.body).not.toContain('latchkey_logins_total');
    const wrongSecret = await server.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: basic(other.client.id, 'not-the-secret') },
    });
    expect(wrongSecret.statusCode).toBe(401);
    const prometheus = await server.latchkey.clients.create({
      name: 'prometheus',
      scopes: ['metrics'],
      audiences: [ISSUER],
    });
    const allowed = await server.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: basic(prometheus.client.id, prometheus.secret) },
    });
    expect(allowed.statusCode).toBe(200);
    expect(value(parseScrape(allowed.body), 'latchkey_logins_total', { outcome: 'success' })).toBeGreaterThan(
      0,
    );
    expect(allowed.body).not.toContain(prometheus.secret);
  });

  it('counts the open connections of the revocation feed', async () => {
    const { client, secret } = await server.latchkey.clients.create({
      name: 'resource',
      scopes: ['orders:read'],
      audiences: [ISSUER],
    });
    const address = server.app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const abort = new AbortController();
    const response = await fetch(`http://127.0.0.1:${port}/v1/revocations`, {
      headers: {
        accept: 'text/event-stream',
        authorization: `Basic ${Buffer.from(`${client.id}:${secret}`).toString('base64')}`,
      },
      signal: abort.signal,
    });
    expect(response.status).toBe(200);
    const reader = response.body?.getReader();
    await reader?.read();
    expect(value((await scrape(server)).families, 'latchkey_revocation_feed_connections')).toBe(1);
    abort.abort();
    await reader?.cancel().catch(() => undefined);
    await expect
      .poll(async () => value((await scrape(server)).families, 'latchkey_revocation_feed_connections'))
      .toBe(0);
    // The aborted fetch leaves its socket open, and app.close() would wait for it (metrics on or
    // off alike): close it here.
    server.app.server.closeAllConnections();
  });

  it('the Grafana dashboard queries only metrics the server exposes', async () => {
    const dashboard = JSON.parse(
      readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8'),
    ) as {
      panels: { targets: { expr: string }[] }[];
    };
    const expressions = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
    expect(expressions.length).toBeGreaterThan(10);
    const { families } = await scrape(server);
    for (const expression of expressions) {
      for (const [name] of expression.matchAll(/\b(latchkey|nodejs|process)_[a-z0-9_]+/g)) {
        const family = name.replace(/_(bucket|count|sum)$/, '');
        expect(families.has(family) || families.has(name), `${name} in the dashboard`).toBe(true);
      }
    }
  });

  it('binds the metrics listener to 127.0.0.1, which answers nothing but /metrics', async () => {
    const listener = server.metricsListener();
    expect(listener?.address.host).toBe('127.0.0.1');
    const port = listener?.address.port ?? 0;
    expect((await fetch(`http://127.0.0.1:${port}/v1/login`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(405);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((entry) => entry !== undefined && entry.family === 'IPv4' && !entry.internal);
    const address = external?.address ?? '127.0.0.2';
    const reached = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: address, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    expect(reached, `metrics reachable on ${address}`).toBe(false);
  });
});

describe('metrics by default', () => {
  it('are off: no listener, no /metrics on the main port', async () => {
    expect(loadConfig({}).metrics).toEqual({ port: null, host: '127.0.0.1', onMainPort: false });
    const server = await startServer(config({ metrics: loadConfig({}).metrics }), {
      logger: createLogger({ level: 'silent' }),
    });
    try {
      await server.listen();
      expect(server.metricsListener()).toBeNull();
      expect((await server.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('refuse a metrics port that is not a port', () => {
    expect(() => loadConfig({ LATCHKEY_METRICS_PORT: '99999' })).toThrow(/LATCHKEY_METRICS_PORT/);
    expect(() => loadConfig({ LATCHKEY_METRICS_PORT: 'all' })).toThrow(/LATCHKEY_METRICS_PORT/);
    expect(loadConfig({ LATCHKEY_METRICS_PORT: '9464' }).metrics.port).toBe(9464);
  });
});
