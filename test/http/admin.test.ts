/**
 * The admin API (`/v1/admin/...`): every operation by each kind of admin (a user with the
 * `admin` role by cookie + CSRF and by bearer token; a machine client with the `admin` scope by
 * HTTP Basic and by its access token), and the attacks: a non-admin user, a client without the
 * scope, a cookie without its CSRF token, another audience's token, a disabled client are
 * refused (403 or 401) and nothing changes. Role and status changes take effect at once; every
 * call is in the audit trail with its actor.
 */

import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeEachStore, probeStores } from '../helpers/stores.js';
import {
  createTestApp,
  heldRevocations,
  ISSUER,
  json,
  loginCookie,
  loginToken,
  signup,
  type TestApp,
} from '../helpers/app.js';

type Headers = Record<string, string>;
type Body = Record<string, unknown>;

const stores = await probeStores();

let t: TestApp;
let adminId: string;
let aliceId: string;
let adminClient: { id: string; secret: string };
let plainClient: { id: string; secret: string };

const basic = (id: string, secret: string): Headers => ({
  authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
});
const bearer = (token: string): Headers => ({ authorization: `Bearer ${token}` });

async function clientToken(client: { id: string; secret: string }, audience?: string): Promise<string> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { ...basic(client.id, client.secret), 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: 'client_credentials',
      ...(audience ? { audience } : {}),
    }).toString(),
  });
  expect(response.statusCode, response.body).toBe(200);
  return json<{ access_token: string }>(response).access_token;
}

async function cookieOf(email: string): Promise<Headers> {
  const login = await loginCookie(t.app, email);
  return { cookie: login.cookie, 'x-csrf-token': login.csrf };
}

/** The four ways an admin calls, named. */
async function admins(): Promise<[string, Headers][]> {
  return [
    ['user by cookie + CSRF', await cookieOf('admin@example.com')],
    ['user by bearer token', bearer((await loginToken(t.app, 'admin@example.com')).access_token)],
    ['client by Basic', basic(adminClient.id, adminClient.secret)],
    ['client by access token', bearer(await clientToken(adminClient))],
  ];
}

function call(method: 'GET' | 'POST' | 'DELETE', url: string, headers: Headers, payload?: Body) {
  return t.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
}

function expectJSON(response: LightMyRequestResponse, status: number): Body {
  expect(response.statusCode, response.body).toBe(status);
  return response.body === '' ? {} : json<Body>(response);
}

beforeEach(async () => {
  t = await createTestApp();
  for (const email of ['admin@example.com', 'alice@example.com', 'bob@example.com', 'carol@other.test']) {
    await signup(t.app, email);
  }
  await t.latchkey.auth.setUserRoles('admin@example.com', ['admin']);
  adminId = (await t.store.getUserByEmail('admin@example.com'))?.id ?? '';
  aliceId = (await t.store.getUserByEmail('alice@example.com'))?.id ?? '';
  const a = await t.latchkey.clients.create({ name: 'ops', scopes: ['admin'], audiences: [ISSUER] });
  adminClient = { id: a.client.id, secret: a.secret };
  const p = await t.latchkey.clients.create({ name: 'orders', scopes: ['orders:read'], audiences: [ISSUER] });
  plainClient = { id: p.client.id, secret: p.secret };
});
afterEach(async () => {
  await t.close();
});

describe('users and sessions, by every kind of admin', () => {
  it('lists users with paging and search, and shows one with its sessions and factors', async () => {
    for (const [name, headers] of await admins()) {
      const all = expectJSON(await call('GET', '/v1/admin/users', headers), 200);
      expect(
        (all.users as { email: string }[]).map((u) => u.email),
        name,
      ).toEqual(['admin@example.com', 'alice@example.com', 'bob@example.com', 'carol@other.test']);
      const first = expectJSON(await call('GET', '/v1/admin/users?limit=2', headers), 200);
      expect((first.users as unknown[]).length).toBe(2);
      const rest = expectJSON(
        await call('GET', `/v1/admin/users?limit=2&cursor=${String(first.next_cursor)}`, headers),
        200,
      );
      expect((rest.users as { email: string }[]).map((u) => u.email)).toEqual([
        'bob@example.com',
        'carol@other.test',
      ]);
      expect(rest.next_cursor).toBeNull();
      const prefix = expectJSON(await call('GET', '/v1/admin/users?email_prefix=AL', headers), 200);
      expect((prefix.users as { id: string }[]).map((u) => u.id)).toEqual([aliceId]);
      const contains = expectJSON(await call('GET', '/v1/admin/users?email_contains=other', headers), 200);
      expect((contains.users as { email: string }[]).map((u) => u.email)).toEqual(['carol@other.test']);
      const shown = expectJSON(await call('GET', `/v1/admin/users/${adminId}`, headers), 200);
      expect(shown.user).toMatchObject({ email: 'admin@example.com', roles: ['admin'] });
      expect(shown.sessions).toBeGreaterThanOrEqual(1);
      expect(shown.factors).toEqual({ totp: 0, passkeys: 0 });
    }
    const [, headers] = (await admins())[0] ?? ['', {}];
    expectJSON(await call('GET', '/v1/admin/users/nobody', headers), 404);
    expectJSON(await call('GET', '/v1/admin/users?cursor=!!', headers), 400);
  });

  it('disables a user (signing them out everywhere) and enables them again', async () => {
    for (const [name, headers] of await admins()) {
      const alice = await loginToken(t.app, 'alice@example.com');
      const disabled = expectJSON(await call('POST', `/v1/admin/users/${aliceId}/disable`, headers), 200);
      expect((disabled.user as { status: string }).status, name).toBe('disabled');
      expect((await t.store.getUserById(aliceId))?.status).toBe('disabled');
      expect((await call('GET', '/v1/me', bearer(alice.access_token))).statusCode, name).toBe(401);
      expect(await t.store.listUserSessions(aliceId, t.clock())).toEqual([]);
      expectJSON(await call('POST', `/v1/admin/users/${aliceId}/enable`, headers), 200);
      expect((await t.store.getUserById(aliceId))?.status).toBe('active');
      await loginToken(t.app, 'alice@example.com');
    }
  });

  it('sets roles: a new admin can call at once, and an admin whose role is removed cannot', async () => {
    const bob = await loginToken(t.app, 'bob@example.com');
    expectJSON(await call('GET', '/v1/admin/users', bearer(bob.access_token)), 403);
    const bobId = bob.user.id;
    const set = expectJSON(
      await call('POST', `/v1/admin/users/${bobId}/roles`, basic(adminClient.id, adminClient.secret), {
        roles: ['admin', 'support'],
      }),
      200,
    );
    expect((set.user as { roles: string[] }).roles).toEqual(['admin', 'support']);
    // The roles are in the access tokens: the ones issued before are revoked for resource
    // services (a user revocation); this server reads the roles from the store, at once.
    const revoked = await heldRevocations(t.store);
    expect(revoked.filter((r) => r.kind === 'user' && r.subject === bobId)).toHaveLength(1);
    const promoted = bearer(bob.access_token);
    expectJSON(await call('GET', '/v1/admin/users', promoted), 200);
    const bobCookie = await cookieOf('bob@example.com');
    expectJSON(await call('GET', '/v1/admin/users', bobCookie), 200);

    expectJSON(
      await call('POST', `/v1/admin/users/${bobId}/roles`, await cookieOf('admin@example.com'), {
        roles: [],
      }),
      200,
    );
    expect((await t.store.getUserById(bobId))?.roles).toEqual([]);
    expect(
      (await heldRevocations(t.store)).filter((r) => r.kind === 'user' && r.subject === bobId),
    ).toHaveLength(2);
    expectJSON(await call('GET', '/v1/admin/users', promoted), 403);
    expectJSON(await call('GET', '/v1/admin/users', bobCookie), 403);
    expectJSON(
      await call('GET', '/v1/admin/users', bearer((await loginToken(t.app, 'bob@example.com')).access_token)),
      403,
    );
    expectJSON(
      await call('POST', `/v1/admin/users/${bobId}/roles`, basic(adminClient.id, adminClient.secret), {
        roles: ['no spaces'],
      }),
      400,
    );
  });

  it("lists a user's sessions, revokes one and then all", async () => {
    for (const [name, headers] of await admins()) {
      const one = await loginToken(t.app, 'alice@example.com');
      const two = await loginToken(t.app, 'alice@example.com');
      const listed = expectJSON(await call('GET', `/v1/admin/users/${aliceId}/sessions`, headers), 200);
      const ids = (listed.sessions as { id: string }[]).map((s) => s.id);
      expect(ids, name).toEqual(expect.arrayContaining([one.session.id, two.session.id]));
      expectJSON(await call('DELETE', `/v1/admin/users/${adminId}/sessions/${one.session.id}`, headers), 404);
      expectJSON(await call('DELETE', `/v1/admin/users/${aliceId}/sessions/${one.session.id}`, headers), 204);
      expect((await call('GET', '/v1/me', bearer(one.access_token))).statusCode).toBe(401);
      expect((await call('GET', '/v1/me', bearer(two.access_token))).statusCode).toBe(200);
      const all = expectJSON(await call('DELETE', `/v1/admin/users/${aliceId}/sessions`, headers), 200);
      expect(all.revoked).toBe(1);
      expect((await call('GET', '/v1/me', bearer(two.access_token))).statusCode).toBe(401);
    }
  });
});

describe('a search by substring over many users', () => {
  it('reads a bounded number of users a page: a short page with a cursor, and every match in the end', async () => {
    const now = t.clock();
    for (let i = 0; i < 4_500; i++) {
      const email = `u${String(i).padStart(5, '0')}${i % 1_000 === 7 ? '-needle' : ''}@bulk.test`;
      await t.store.createUser({
        id: `bulk${i}`,
        email,
        passwordHash: 'x',
        status: 'active',
        roles: [],
        createdAt: now,
        updatedAt: now,
        emailVerifiedAt: null,
      });
    }
    const found: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await t.latchkey.auth.adminListUsers({ emailContains: 'NEEDLE', limit: 3, cursor });
      expect(page.users.length).toBeLessThanOrEqual(3);
      found.push(...page.users.map((user) => user.email));
      cursor = page.next ?? undefined;
      pages++;
    } while (cursor !== undefined);
    expect(found).toEqual(
      [7, 1007, 2007, 3007, 4007].map((i) => `u${String(i).padStart(5, '0')}-needle@bulk.test`),
    );
    // 2000 users read a page at most: three pages at least, one of them short.
    expect(pages).toBeGreaterThanOrEqual(3);
  });
});

describe('machine clients and webhooks', () => {
  it('creates a client (its secret shown once, and working), lists and disables it', async () => {
    for (const [name, headers] of await admins()) {
      const made = expectJSON(
        await call('POST', '/v1/admin/clients', headers, { name: `svc ${name}`, scopes: ['orders:read'] }),
        201,
      );
      const client = made.client as { id: string; audiences: string[]; status: string };
      expect(client).toMatchObject({ status: 'active', audiences: [ISSUER] });
      await clientToken({ id: client.id, secret: String(made.client_secret) });
      const listed = expectJSON(await call('GET', '/v1/admin/clients', headers), 200);
      expect(JSON.stringify(listed)).not.toContain(String(made.client_secret));
      expect((listed.clients as { id: string }[]).map((c) => c.id)).toContain(client.id);
      expectJSON(await call('POST', `/v1/admin/clients/${client.id}/disable`, headers), 204);
      expect((await t.store.getClient(client.id))?.disabledAt).not.toBeNull();
      expectJSON(await call('POST', '/v1/admin/clients/nobody/disable', headers), 404);
      expectJSON(await call('POST', '/v1/admin/clients', headers, { name: 'x', scopes: ['bad scope'] }), 400);
    }
  });

  it('adds a webhook endpoint (its secret shown once), lists its deliveries and removes it', async () => {
    for (const [name, headers] of await admins()) {
      const added = expectJSON(
        await call('POST', '/v1/admin/webhooks', headers, {
          url: 'http://127.0.0.1:9/in',
          events: ['user.disable'],
        }),
        201,
      );
      const id = (added.webhook as { id: string }).id;
      expect(String(added.secret), name).toMatch(/^whsec_/);
      const listed = expectJSON(await call('GET', '/v1/admin/webhooks', headers), 200);
      expect((listed.webhooks as { id: string }[]).map((w) => w.id)).toContain(id);
      expect(JSON.stringify(listed)).not.toContain(String(added.secret));
      expectJSON(await call('POST', `/v1/admin/users/${aliceId}/disable`, headers), 200);
      await t.latchkey.audit.flush();
      const deliveries = expectJSON(await call('GET', `/v1/admin/webhooks/${id}/deliveries`, headers), 200);
      expect((deliveries.deliveries as { event: string }[]).map((d) => d.event)).toContain('user.disable');
      expectJSON(await call('DELETE', `/v1/admin/webhooks/${id}`, headers), 204);
      expectJSON(await call('DELETE', `/v1/admin/webhooks/${id}`, headers), 404);
      expectJSON(await call('GET', `/v1/admin/webhooks/${id}/deliveries`, headers), 404);
      expectJSON(await call('POST', '/v1/admin/webhooks', headers, { url: 'ftp://x', events: ['*'] }), 400);
      await t.latchkey.auth.setUserStatus(aliceId === '' ? 'x' : { id: aliceId }, 'active');
    }
  });
});

describe('the audit trail', () => {
  it("shows every admin call with its actor (the user or the client), all or one user's", async () => {
    const cookie = await cookieOf('admin@example.com');
    expectJSON(await call('POST', `/v1/admin/users/${aliceId}/disable`, cookie), 200);
    expectJSON(
      await call('POST', `/v1/admin/users/${aliceId}/enable`, basic(adminClient.id, adminClient.secret)),
      200,
    );
    await t.latchkey.audit.flush();
    const page = expectJSON(await call('GET', '/v1/admin/events?limit=200', cookie), 200);
    type Event = { event: string; user_id: string | null; client_id: string | null; details: Body };
    const events = page.events as Event[];
    expect(events.find((e) => e.event === 'admin.user_disable')).toMatchObject({
      user_id: adminId,
      details: { actor: `user:${adminId}`, target: aliceId },
    });
    expect(events.find((e) => e.event === 'admin.user_enable')).toMatchObject({
      client_id: adminClient.id,
      details: { actor: `client:${adminClient.id}`, target: aliceId },
    });
    expect(events.find((e) => e.event === 'user.disable')).toMatchObject({ user_id: aliceId });
    const mine = expectJSON(await call('GET', `/v1/admin/events?user_id=${aliceId}`, cookie), 200);
    expect((mine.events as Event[]).every((e) => e.user_id === aliceId)).toBe(true);
    expect((mine.events as Event[]).map((e) => e.event)).toEqual(
      expect.arrayContaining(['user.disable', 'user.enable']),
    );
    const paged = expectJSON(await call('GET', '/v1/admin/events?limit=1', cookie), 200);
    expect(paged.next_cursor).not.toBeNull();
    expectJSON(await call('GET', '/v1/admin/events?cursor=bad!', cookie), 400);
  });
});

describe('attacks: no admin, nothing changes', () => {
  async function snapshot(): Promise<string> {
    const alice = await t.store.getUserById(aliceId);
    return JSON.stringify({
      alice: [alice?.status, alice?.roles],
      sessions: (await t.store.listUserSessions(aliceId, t.clock())).map((s) => s.id),
      clients: (await t.store.listClients({ limit: 100 })).map((c) => [c.id, c.disabledAt]),
      webhooks: await t.latchkey.webhooks.list(),
    });
  }

  /** Each operation (the first `count`: a client's failed authentications are throttled after 10). */
  async function everyOperation(
    headers: Headers,
    status: number,
    sessionId: string,
    count = 16,
  ): Promise<void> {
    const attempts: [string, string, Body?][] = [
      ['GET', '/v1/admin/users'],
      ['GET', `/v1/admin/users/${aliceId}`],
      ['POST', `/v1/admin/users/${aliceId}/disable`],
      ['POST', `/v1/admin/users/${aliceId}/enable`],
      ['POST', `/v1/admin/users/${aliceId}/roles`, { roles: ['admin'] }],
      ['GET', `/v1/admin/users/${aliceId}/sessions`],
      ['DELETE', `/v1/admin/users/${aliceId}/sessions/${sessionId}`],
      ['DELETE', `/v1/admin/users/${aliceId}/sessions`],
      ['GET', '/v1/admin/events'],
      ['GET', '/v1/admin/clients'],
      ['POST', '/v1/admin/clients', { name: 'evil', scopes: ['admin'] }],
      ['POST', `/v1/admin/clients/${adminClient.id}/disable`],
      ['GET', '/v1/admin/webhooks'],
      ['POST', '/v1/admin/webhooks', { url: 'https://evil.example/', events: ['*'] }],
      ['DELETE', '/v1/admin/webhooks/ep_x'],
      ['GET', '/v1/admin/webhooks/ep_x/deliveries'],
    ];
    for (const [method, url, payload] of attempts.slice(0, count)) {
      const response = await call(method as 'GET', url, headers, payload);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(status);
    }
  }

  it('refuses a non-admin user (cookie + CSRF, bearer) and a client without the scope (Basic, token) with 403', async () => {
    const alice = await loginToken(t.app, 'alice@example.com');
    await t.latchkey.webhooks.add({ url: 'http://127.0.0.1:9/in', events: ['*'] });
    const before = await snapshot();
    const callers: Headers[] = [
      await cookieOf('bob@example.com'),
      bearer((await loginToken(t.app, 'bob@example.com')).access_token),
      basic(plainClient.id, plainClient.secret),
      bearer(await clientToken(plainClient)),
    ];
    for (const headers of callers) {
      await everyOperation(headers, 403, alice.session.id);
      const refused = json<{ code: string }>(
        await call('POST', `/v1/admin/users/${aliceId}/disable`, headers),
      );
      expect(refused.code).toBe('forbidden');
    }
    expect(await snapshot()).toBe(before);
    await t.latchkey.audit.flush();
    const refusals = await t.store.listAuditRecords({ limit: 500 });
    expect(refusals.filter((r) => r.event === 'admin.forbidden').length).toBeGreaterThanOrEqual(64);
    expect(refusals.some((r) => r.event.startsWith('admin.') && r.event !== 'admin.forbidden')).toBe(false);
  });

  it('refuses an admin cookie without its CSRF token or cross-site, no credential, a bad secret, a token without the scope, another audience, a disabled client', async () => {
    const alice = await loginToken(t.app, 'alice@example.com');
    const before = await snapshot();
    const admin = await cookieOf('admin@example.com');
    const noCsrf = { cookie: admin.cookie ?? '' };
    const response = await call('POST', `/v1/admin/users/${aliceId}/disable`, noCsrf);
    expect(response.statusCode).toBe(403);
    expect(json<{ code: string }>(response).code).toBe('csrf_failed');
    expectJSON(await call('GET', '/v1/admin/users', noCsrf), 200);
    // A cross-site request with the admin's cookie and token (a forged form or fetch).
    const crossSite = await call('POST', `/v1/admin/users/${aliceId}/disable`, {
      ...admin,
      origin: 'https://evil.example',
    });
    expect(crossSite.statusCode).toBe(403);
    expect(json<{ code: string }>(crossSite).code).toBe('cross_site_request');
    // A client with the scope whose token was asked for another scope only.
    const both = await t.latchkey.clients.create({
      name: 'y',
      scopes: ['admin', 'orders:read'],
      audiences: [ISSUER],
    });
    const narrow = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { ...basic(both.client.id, both.secret), 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=client_credentials&scope=orders%3Aread',
    });
    await everyOperation(bearer(json<{ access_token: string }>(narrow).access_token), 403, alice.session.id);
    await everyOperation({}, 401, alice.session.id);
    await everyOperation(basic(adminClient.id, 'wrong secret'), 401, alice.session.id, 4);
    const other = await t.latchkey.clients.create({
      name: 'x',
      scopes: ['admin'],
      audiences: ['https://api.example'],
    });
    const foreign = await clientToken({ id: other.client.id, secret: other.secret });
    await everyOperation(bearer(foreign), 401, alice.session.id);
    const token = await clientToken(adminClient);
    await t.latchkey.clients.disable(adminClient.id);
    const afterDisable = await snapshot();
    await everyOperation(bearer(token), 401, alice.session.id);
    await everyOperation(basic(adminClient.id, adminClient.secret), 401, alice.session.id, 4);
    expect(await snapshot()).toBe(afterDisable);
    expect((JSON.parse(afterDisable) as { alice: unknown }).alice).toEqual(
      (JSON.parse(before) as { alice: unknown }).alice,
    );
  });
});

describeEachStore('the admin API', stores, (factory) => {
  let s: TestApp;
  afterEach(async () => {
    await s.close();
  });

  it('pages and searches users by prefix and substring, disables one, refuses a non-admin', async () => {
    s = await createTestApp({ store: await factory.open() });
    const emails = [
      'al@x.test',
      'alb@x.test',
      'alice@x.test',
      'alicia@y.test',
      'am@x.test',
      'ak@x.test',
      'zoe@al.test',
    ];
    for (const email of emails) await signup(s.app, email);
    const made = await s.latchkey.clients.create({ name: 'ops', scopes: ['admin'], audiences: [ISSUER] });
    const ops = {
      authorization: `Basic ${Buffer.from(`${made.client.id}:${made.secret}`).toString('base64')}`,
    };
    const list = async (query: string): Promise<{ emails: string[]; next: string | null }> => {
      const response = await s.app.inject({ url: `/v1/admin/users?${query}`, headers: ops });
      expect(response.statusCode, response.body).toBe(200);
      const page = json<{ users: { email: string }[]; next_cursor: string | null }>(response);
      return { emails: page.users.map((u) => u.email), next: page.next_cursor };
    };
    expect((await list('email_prefix=al')).emails).toEqual([
      'al@x.test',
      'alb@x.test',
      'alice@x.test',
      'alicia@y.test',
    ]);
    const first = await list('email_prefix=ali&limit=1');
    expect(first.emails).toEqual(['alice@x.test']);
    expect((await list(`email_prefix=ali&limit=1&cursor=${String(first.next)}`)).emails).toEqual([
      'alicia@y.test',
    ]);
    expect((await list('email_contains=@al.')).emails).toEqual(['zoe@al.test']);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`limit=3${cursor === null ? '' : `&cursor=${cursor}`}`);
      seen.push(...page.emails);
      cursor = page.next;
    } while (cursor !== null);
    expect(seen).toEqual([...emails].sort());

    const alice = (await s.store.getUserByEmail('alice@x.test'))?.id ?? '';
    const user = await loginToken(s.app, 'am@x.test');
    const refused = await s.app.inject({
      method: 'POST',
      url: `/v1/admin/users/${alice}/disable`,
      headers: { authorization: `Bearer ${user.access_token}` },
    });
    expect(refused.statusCode).toBe(403);
    expect((await s.store.getUserById(alice))?.status).toBe('active');
    const disabled = await s.app.inject({
      method: 'POST',
      url: `/v1/admin/users/${alice}/disable`,
      headers: ops,
    });
    expect(disabled.statusCode, disabled.body).toBe(200);
    expect((await s.store.getUserById(alice))?.status).toBe('disabled');
  });
});
