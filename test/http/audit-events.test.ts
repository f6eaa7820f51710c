/**
 * The audit trail over HTTP: login success and failure, logout and a password change each leave
 * a record (who, from where, which session, bounded details, never the password), listed to
 * their user on `GET /v1/me/events`, newest first and paged; another user never sees them; the
 * maintenance sweep removes records past `LATCHKEY_AUDIT_RETENTION`.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createTestApp,
  json,
  loginCookie,
  loginToken,
  PASSWORD,
  signup,
  type TestApp,
} from '../helpers/app.js';

const AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AuditTest/1.0';
const DAY = 24 * 60 * 60 * 1_000;

interface EventsPage {
  events: {
    id: string;
    event: string;
    at: string;
    session_id: string | null;
    ip: string | null;
    user_agent: string | null;
    details: Record<string, unknown>;
  }[];
  next_cursor: string | null;
}

let t: TestApp;
let alice: string;
let bob: string;
beforeEach(async () => {
  t = await createTestApp({ config: { audit: { retention: 30 * DAY } } });
  await signup(t.app, 'alice@example.com');
  await signup(t.app, 'bob@example.com');
  alice = (await t.store.getUserByEmail('alice@example.com'))?.id ?? '';
  bob = (await t.store.getUserByEmail('bob@example.com'))?.id ?? '';
});
afterEach(async () => {
  await t.close();
});

async function events(cookie: string, query = ''): Promise<EventsPage> {
  await t.latchkey.audit.flush();
  const response = await t.app.inject({ method: 'GET', url: `/v1/me/events${query}`, headers: { cookie } });
  expect(response.statusCode, response.body).toBe(200);
  return json<EventsPage>(response);
}

describe('audit records', () => {
  it('keeps login success and failure, logout and a password change, with address, agent and session', async () => {
    const failed = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: 'wrong wrong wrong' },
      headers: { 'user-agent': AGENT },
    });
    expect(failed.statusCode).toBe(401);
    t.clock.advance(1_000);
    const first = await loginCookie(t.app, 'alice@example.com', PASSWORD, { 'user-agent': AGENT });
    t.clock.advance(1_000);
    const logout = await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { cookie: first.cookie, 'x-csrf-token': first.csrf },
    });
    expect(logout.statusCode).toBe(204);
    t.clock.advance(1_000);
    const second = await loginCookie(t.app, 'alice@example.com', PASSWORD, { 'user-agent': AGENT });
    t.clock.advance(1_000);
    const changed = await t.app.inject({
      method: 'POST',
      url: '/v1/password',
      headers: { cookie: second.cookie, 'x-csrf-token': second.csrf, 'user-agent': AGENT },
      payload: { current_password: PASSWORD, new_password: 'another long passphrase here' },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    const renewed = changed.headers['set-cookie'];
    const cookie =
      (Array.isArray(renewed) ? renewed : [renewed ?? ''])
        .map((header) => header.split(';')[0] ?? '')
        .find((pair) => pair.startsWith('__Host-latchkey_session=')) ?? '';

    const page = await events(cookie);
    const names = page.events.map((event) => event.event);
    expect(names).toEqual([
      'session.renew',
      'password.change',
      'login.success',
      'logout',
      'login.success',
      'login.failure',
      'user.signup',
    ]);
    const [, change, , out, login, failure, signedUp] = page.events;
    expect(signedUp).toMatchObject({ event: 'user.signup', ip: '127.0.0.1' });
    expect(failure).toMatchObject({
      ip: '127.0.0.1',
      user_agent: AGENT,
      session_id: null,
      details: { reason: 'invalid_credentials', mode: 'cookie' },
    });
    expect(login).toMatchObject({
      session_id: first.sessionId,
      user_agent: AGENT,
      details: { mode: 'cookie' },
    });
    expect(out).toMatchObject({
      event: 'logout',
      session_id: first.sessionId,
      ip: '127.0.0.1',
      user_agent: AGENT,
    });
    expect(change).toMatchObject({
      session_id: second.sessionId,
      user_agent: AGENT,
      details: { revokedSessions: 0 },
    });
    expect(Date.parse(failure?.at ?? '')).toBe(Date.UTC(2026, 0, 1));
    // Never a secret: neither password, nor a session credential, anywhere in the trail.
    const stored = JSON.stringify(await t.store.listAuditRecords({ limit: 100 }));
    for (const secret of [PASSWORD, 'wrong wrong wrong', 'another long passphrase here', first.csrf]) {
      expect(stored).not.toContain(secret);
    }
    expect(stored).not.toContain(first.cookie.split('=')[1] ?? 'never');
  });

  it('lists only the caller’s own events: Bob never sees Alice’s (attack), in any mode', async () => {
    const a = await loginCookie(t.app, 'alice@example.com');
    await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: 'wrong wrong wrong' },
    });
    const b = await loginToken(t.app, 'bob@example.com');
    await t.latchkey.audit.flush();
    const bobs = await t.app.inject({
      method: 'GET',
      url: '/v1/me/events?limit=200',
      headers: { authorization: `Bearer ${b.access_token}` },
    });
    expect(bobs.statusCode).toBe(200);
    const page = json<EventsPage>(bobs);
    expect(page.events.map((event) => event.event)).toEqual(['login.success', 'user.signup']);
    expect(JSON.stringify(page)).not.toContain(a.sessionId);
    const all = await t.store.listAuditRecords({ limit: 100 });
    expect(all.filter((record) => record.userId === alice).length).toBeGreaterThanOrEqual(2);
    expect(page.events.every((event) => all.find((r) => r.id === event.id)?.userId === bob)).toBe(true);
    // Nothing to name in the query: no parameter picks another user.
    const forged = await t.app.inject({
      method: 'GET',
      url: `/v1/me/events?user_id=${alice}`,
      headers: { authorization: `Bearer ${b.access_token}` },
    });
    expect(forged.statusCode).toBe(400);
  });

  it('pages newest first with an opaque cursor, and refuses a forged cursor or a signed-out caller', async () => {
    for (let i = 0; i < 4; i += 1) {
      await t.app.inject({
        method: 'POST',
        url: '/v1/login',
        payload: { email: 'alice@example.com', password: `wrong wrong ${i}` },
      });
      t.clock.advance(10);
    }
    const a = await loginCookie(t.app, 'alice@example.com');
    const first = await events(a.cookie, '?limit=4');
    expect(first.events).toHaveLength(4);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await events(a.cookie, `?limit=4&cursor=${first.next_cursor ?? ''}`);
    expect(second.events).toHaveLength(2); // the last failure, and the sign-up
    expect(second.next_cursor).toBeNull();
    const ids = [...first.events, ...second.events].map((event) => event.id);
    expect(new Set(ids).size).toBe(6);
    const times = [...first.events, ...second.events].map((event) => Date.parse(event.at));
    expect([...times].sort((x, y) => y - x)).toEqual(times);

    for (const cursor of ['not-base64!', Buffer.from('x:y').toString('base64url'), 'A'.repeat(500)]) {
      const bad = await t.app.inject({
        method: 'GET',
        url: `/v1/me/events?cursor=${encodeURIComponent(cursor)}`,
        headers: { cookie: a.cookie },
      });
      expect(bad.statusCode, cursor).toBe(400);
      expect(bad.headers['content-type']).toContain('application/problem+json');
    }
    expect((await t.app.inject({ method: 'GET', url: '/v1/me/events' })).statusCode).toBe(401);
  });

  it('sweeps records older than the retention with the maintenance job', async () => {
    const a = await loginCookie(t.app, 'alice@example.com');
    await t.latchkey.audit.flush();
    expect(await t.store.listAuditRecords({ limit: 10, userId: alice })).toHaveLength(2);
    t.clock.advance(30 * DAY - 1);
    await t.latchkey.maintain();
    expect(await t.store.listAuditRecords({ limit: 10, userId: alice })).toHaveLength(2);
    t.clock.advance(1);
    await t.latchkey.maintain();
    expect(await t.store.listAuditRecords({ limit: 10, userId: alice })).toEqual([]);
    expect(a.sessionId).toBeTruthy();
  });
});
