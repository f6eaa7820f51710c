/**
 * The microservices example, end to end: the gateway, the auth server and the orders (Express)
 * and payments (Hono) services, started by the example's own launcher on free loopback ports.
 * A browser user (hybrid), a mobile app (token mode) and a partner (client credentials) call
 * the services through the one origin; logging out or revoking a session is seen by every
 * service through the revocation feed.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMicroservices, type RunningMicroservices } from '../../examples/microservices/start.js';
import { createPasswordHasher } from '../../src/password/hash.js';
import { FAST_HASHER_PARAMETERS, PASSWORD } from '../helpers/app.js';

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

interface PrincipalBody {
  sub: string;
  sid: string | null;
  clientId: string | null;
  scope: string[];
  via: string;
}

let running: RunningMicroservices | undefined;
const feedErrors: string[] = [];

function system(): RunningMicroservices {
  if (running === undefined) throw new Error('the example did not start');
  return running;
}

async function call(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; json?: unknown; form?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  const response = await fetch(`${system().gatewayURL}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(5_000),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  if (text !== '') {
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { text };
    }
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

function principalOf(answer: Answer): PrincipalBody {
  return answer.body.principal as PrincipalBody;
}

/**
 * How long a wait for something that must happen may last before the test fails: generous, only
 * so that a hang ends the test. How fast a revocation reaches another process is the bench's
 * (`npm run bench`: "Revocation lag").
 */
const HANG_MS = 15_000;

/**
 * Polls both services through the gateway with `headers` until both refuse with 401, failing
 * after {@link HANG_MS}. Until then each answers 200; once a service has refused, it never
 * accepts again. Returns the statuses each service answered, in order.
 */
async function waitUntilRefused(
  headers: Record<string, string>,
): Promise<{ orders: number[]; payments: number[] }> {
  const seen: { orders: number[]; payments: number[] } = { orders: [], payments: [] };
  const deadline = performance.now() + HANG_MS;
  const refused = (statuses: readonly number[]): boolean => statuses.includes(401);
  // Bounded by the deadline.
  while (!refused(seen.orders) || !refused(seen.payments)) {
    if (performance.now() > deadline) throw new Error(`not refused by both: ${JSON.stringify(seen)}`);
    const [orders, payments] = await Promise.all([
      call('GET', '/orders', { headers }),
      call('GET', '/payments', { headers }),
    ]);
    seen.orders.push(orders.status);
    seen.payments.push(payments.status);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  for (const statuses of [seen.orders, seen.payments]) {
    const first = statuses.indexOf(401);
    expect(
      statuses.slice(0, first).every((status) => status === 200),
      String(statuses),
    ).toBe(true);
    expect(
      statuses.slice(first).every((status) => status === 401),
      String(statuses),
    ).toBe(true);
  }
  return seen;
}

/** Resolves once the verifiers of both services, in process, refuse `token`; fails after {@link HANG_MS}. */
async function verifiersRefuse(token: string): Promise<void> {
  const refuses = async (service: 'orders' | 'payments'): Promise<boolean> => {
    const { verifier } = system()[service];
    return verifier.verify(token).then(
      () => false,
      () => true,
    );
  };
  const deadline = performance.now() + HANG_MS;
  // Bounded by the deadline.
  while (!(await refuses('orders')) || !(await refuses('payments'))) {
    if (performance.now() > deadline) throw new Error('a service still accepts the token');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeAll(async () => {
  running = await startMicroservices({
    publicHost: '127.0.0.1',
    logLevel: 'silent',
    hasher: createPasswordHasher(FAST_HASHER_PARAMETERS),
    onFeedError: (service, error) => feedErrors.push(`${service}: ${error.message}`),
  });
});

afterAll(async () => {
  await running?.stop();
  running = undefined;
});

describe('microservices example', () => {
  const browser = { email: 'browser@example.com', cookie: '', csrf: '', sid: '', userId: '' };
  const mobile = { email: 'mobile@example.com', token: '', sid: '' };
  let partnerToken = '';

  it('serves the auth server, orders and payments from one origin', async () => {
    const { issuer } = system();
    const metadata = await call('GET', '/.well-known/oauth-authorization-server');
    expect(metadata.status).toBe(200);
    expect(metadata.body.issuer).toBe(issuer);
    expect((await call('GET', '/.well-known/jwks.json')).status).toBe(200);
    const anonymousOrders = await call('GET', '/orders');
    expect(anonymousOrders.status).toBe(401);
    expect(anonymousOrders.headers.get('www-authenticate')).toBe('Bearer realm="orders"');
    expect((await call('GET', '/payments')).status).toBe(401);
    expect((await call('GET', '/elsewhere')).status).toBe(404);
    const health = system().orders.verifier.health();
    expect(health.revocation.connected).toBe(true);
    expect(system().payments.verifier.health().revocation.connected).toBe(true);
  });

  it('lets a browser user in with the hybrid cookies on both services', async () => {
    const signup = await call('POST', '/v1/signup', { json: { email: browser.email, password: PASSWORD } });
    expect(signup.status).toBe(201);
    const login = await call('POST', '/v1/login', {
      json: { email: browser.email, password: PASSWORD, mode: 'hybrid' },
    });
    expect(login.status).toBe(200);
    const access = login.headers.getSetCookie().find((c) => c.startsWith('__Host-latchkey_access='));
    expect(access).toMatch(/; Secure/i);
    browser.cookie = access?.split(';')[0] ?? '';
    browser.csrf = login.body.csrf_token as string;
    browser.sid = (login.body.session as { id: string }).id;
    browser.userId = (login.body.user as { id: string }).id;
    const headers = { cookie: browser.cookie };

    const orders = await call('GET', '/orders', { headers });
    expect(orders.status).toBe(200);
    expect(principalOf(orders)).toMatchObject({ sub: browser.userId, sid: browser.sid, via: 'cookie' });
    const payments = await call('GET', '/payments', { headers });
    expect(payments.status).toBe(200);
    expect(principalOf(payments)).toMatchObject({ sub: browser.userId, sid: browser.sid, via: 'cookie' });

    const order = await call('POST', '/orders', {
      headers: { ...headers, 'x-csrf-token': browser.csrf },
      json: { item: 'book' },
    });
    expect(order.status).toBe(201);
    expect(order.body.order).toMatchObject({ item: 'book' });
    const payment = await call('POST', '/payments', {
      headers: { ...headers, 'x-csrf-token': browser.csrf },
      json: { amount: 42 },
    });
    expect(payment.status).toBe(201);
    expect(payment.body.payment).toMatchObject({ amount: 42 });
  });

  it('refuses a cookie POST without (or with a wrong) X-CSRF-Token on both services', async () => {
    const headers = { cookie: browser.cookie };
    for (const path of ['/orders', '/payments']) {
      const missing = await call('POST', path, { headers, json: {} });
      expect(missing.status).toBe(403);
      expect(missing.body.code).toBe('csrf_failed');
      const wrong = await call('POST', path, {
        headers: { ...headers, 'x-csrf-token': `${browser.csrf.slice(0, -2)}AA` },
        json: {},
      });
      expect(wrong.status).toBe(403);
      const crossSite = await call('POST', path, {
        headers: { ...headers, 'x-csrf-token': browser.csrf, 'sec-fetch-site': 'cross-site' },
        json: {},
      });
      expect(crossSite.status).toBe(403);
    }
  });

  it('lets a mobile app in with a Bearer token (no CSRF needed)', async () => {
    expect(
      (await call('POST', '/v1/signup', { json: { email: mobile.email, password: PASSWORD } })).status,
    ).toBe(201);
    const login = await call('POST', '/v1/login', {
      json: { email: mobile.email, password: PASSWORD, mode: 'token' },
    });
    expect(login.status).toBe(200);
    mobile.token = login.body.access_token as string;
    mobile.sid = (login.body.session as { id: string }).id;
    const headers = { authorization: `Bearer ${mobile.token}` };
    const orders = await call('GET', '/orders', { headers });
    expect(orders.status).toBe(200);
    expect(principalOf(orders)).toMatchObject({ sid: mobile.sid, via: 'bearer', clientId: null });
    expect((await call('GET', '/payments', { headers })).status).toBe(200);
    expect((await call('POST', '/orders', { headers, json: { item: 'pen' } })).status).toBe(201);
    expect((await call('POST', '/payments', { headers, json: { amount: 1 } })).status).toBe(201);
  });

  it('lets the partner read orders with its scope, and nothing more', async () => {
    const { partner, ordersAudience } = system();
    const basic = Buffer.from(
      `${encodeURIComponent(partner.clientId)}:${encodeURIComponent(partner.clientSecret)}`,
    ).toString('base64');
    const token = await call('POST', '/oauth/token', {
      headers: { authorization: `Basic ${basic}` },
      form: { grant_type: 'client_credentials', scope: 'orders:read', audience: ordersAudience },
    });
    expect(token.status).toBe(200);
    expect(token.body.scope).toBe('orders:read');
    partnerToken = token.body.access_token as string;
    const headers = { authorization: `Bearer ${partnerToken}` };

    const orders = await call('GET', '/orders', { headers });
    expect(orders.status).toBe(200);
    expect(principalOf(orders)).toMatchObject({
      sub: partner.clientId,
      clientId: partner.clientId,
      sid: null,
      scope: ['orders:read'],
    });
    // Without the scope: orders:write is not the partner's.
    const write = await call('POST', '/orders', { headers, json: { item: 'x' } });
    expect(write.status).toBe(403);
    expect(write.body.code).toBe('insufficient_scope');
    expect(write.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    // A scope the client does not have is not even issued.
    const wider = await call('POST', '/oauth/token', {
      headers: { authorization: `Basic ${basic}` },
      form: { grant_type: 'client_credentials', scope: 'orders:write', audience: ordersAudience },
    });
    expect(wider.status).toBe(400);
    expect(wider.body.error).toBe('invalid_scope');
    // Its token's audience is orders: payments refuses it.
    expect((await call('GET', '/payments', { headers })).status).toBe(401);
    // And Latchkey's own endpoints want a user session.
    expect((await call('GET', '/v1/me', { headers })).status).toBe(401);
  });

  it('refuses the browser session on every service once the logout reaches them', async () => {
    const headers = { cookie: browser.cookie };
    const logout = await call('POST', '/v1/logout', {
      headers: { ...headers, 'x-csrf-token': browser.csrf },
    });
    expect(logout.status).toBe(204);
    const accessToken = browser.cookie.slice(browser.cookie.indexOf('=') + 1);
    await Promise.all([waitUntilRefused(headers), verifiersRefuse(accessToken)]);
    const refused = await call('GET', '/orders', { headers });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(
      (await call('POST', '/payments', { headers: { ...headers, 'x-csrf-token': browser.csrf } })).status,
    ).toBe(401);
  });

  it('refuses a revoked mobile session on every service', async () => {
    const headers = { authorization: `Bearer ${mobile.token}` };
    const revoke = await call('DELETE', `/v1/sessions/${mobile.sid}`, { headers });
    expect(revoke.status).toBe(204);
    await Promise.all([waitUntilRefused(headers), verifiersRefuse(mobile.token)]);
    // Still refused, by both, through the gateway.
    expect((await call('GET', '/orders', { headers })).status).toBe(401);
    expect((await call('GET', '/payments', { headers })).status).toBe(401);
    // The partner is a machine client without a session: unaffected.
    expect(
      (await call('GET', '/orders', { headers: { authorization: `Bearer ${partnerToken}` } })).status,
    ).toBe(200);
    expect(feedErrors).toEqual([]);
  });
});
