/**
 * Security events: each of login success and failure, refresh-token reuse, CSRF and origin
 * refusals, throttling, password change, session and user revocation logs one structured event
 * with a stable `event` name, the user and session ids where known, the client's address, and
 * never a secret. docs/security.md lists them.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createTestApp,
  json,
  loginCookie,
  PASSWORD,
  setCookies,
  signup,
  type TestApp,
} from '../helpers/app.js';

const IP = '127.0.0.1';

let t: TestApp;
let userId: string;
beforeEach(async () => {
  t = await createTestApp();
  await signup(t.app, 'alice@example.com');
  userId = (await t.store.getUserByEmail('alice@example.com'))?.id ?? '';
});
afterEach(async () => {
  await t.close();
});

type Event = Record<string, unknown> & { event: string };

/** The structured events logged since the last call. */
function takeEvents(): Event[] {
  const events = t.logs
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry): entry is Event => typeof entry.event === 'string');
  t.logs.length = 0;
  return events;
}

function only(events: Event[], name: string): Event {
  const matching = events.filter((event) => event.event === name);
  expect(matching, `${name} in ${JSON.stringify(events.map((e) => e.event))}`).toHaveLength(1);
  return matching[0] as Event;
}

describe('security events', () => {
  it('login success and failure (wrong password, unknown email, disabled account)', async () => {
    takeEvents();
    const login = await loginCookie(t.app, 'alice@example.com');
    expect(only(takeEvents(), 'login.success')).toMatchObject({
      userId,
      sessionId: login.sessionId,
      ip: IP,
      mode: 'cookie',
    });

    await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: 'wrong wrong wrong' },
    });
    expect(only(takeEvents(), 'login.failure')).toMatchObject({
      reason: 'invalid_credentials',
      userId,
      ip: IP,
    });
    await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'nobody@example.com', password: 'wrong wrong wrong' },
    });
    const unknown = only(takeEvents(), 'login.failure');
    expect(unknown).toMatchObject({ reason: 'invalid_credentials', ip: IP });
    expect(unknown.userId).toBeUndefined();

    await t.latchkey.auth.setUserStatus('alice@example.com', 'disabled');
    expect(only(takeEvents(), 'user.disable')).toMatchObject({ userId });
    await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: PASSWORD },
    });
    expect(only(takeEvents(), 'login.failure')).toMatchObject({ reason: 'account_disabled', userId, ip: IP });
  });

  it('CSRF token and cross-site refusals', async () => {
    const login = await loginCookie(t.app, 'alice@example.com');
    takeEvents();
    await t.app.inject({ method: 'POST', url: '/v1/logout', headers: { cookie: login.cookie } });
    expect(only(takeEvents(), 'csrf.token_refused')).toMatchObject({
      userId,
      sessionId: login.sessionId,
      ip: IP,
      missing: true,
    });
    await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { cookie: login.cookie, 'x-csrf-token': login.csrf, origin: 'https://evil.example' },
    });
    expect(only(takeEvents(), 'csrf.cross_site')).toMatchObject({ ip: IP, reason: 'Origin is not allowed' });
  });

  it('logout, revoking one session, revoking all, password change and renewal', async () => {
    const a = await loginCookie(t.app, 'alice@example.com');
    const b = await loginCookie(t.app, 'alice@example.com');
    takeEvents();
    await t.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${b.sessionId}`,
      headers: { cookie: a.cookie, 'x-csrf-token': a.csrf },
    });
    expect(only(takeEvents(), 'session.revoke')).toMatchObject({
      userId,
      sessionId: b.sessionId,
      by: a.sessionId,
      ip: IP,
    });

    const password = await t.app.inject({
      method: 'POST',
      url: '/v1/password',
      headers: { cookie: a.cookie, 'x-csrf-token': a.csrf },
      payload: { current_password: PASSWORD, new_password: 'another long passphrase here' },
    });
    const renewedId = json<{ session: { id: string } }>(password).session.id;
    const events = takeEvents();
    expect(only(events, 'password.change')).toMatchObject({ userId, sessionId: a.sessionId, ip: IP });
    expect(only(events, 'session.renew')).toMatchObject({
      userId,
      sessionId: renewedId,
      previousSessionId: a.sessionId,
      ip: IP,
    });

    const cookie = `__Host-latchkey_session=${setCookies(password).get('__Host-latchkey_session')?.value ?? ''}`;
    const csrf = json<{ csrf_token: string }>(password).csrf_token;
    await t.app.inject({
      method: 'DELETE',
      url: '/v1/sessions?keep_current=true',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(only(takeEvents(), 'session.revoke_all')).toMatchObject({
      userId,
      sessionId: renewedId,
      keepCurrent: true,
      ip: IP,
    });
    await t.app.inject({ method: 'POST', url: '/v1/logout', headers: { cookie, 'x-csrf-token': csrf } });
    expect(only(takeEvents(), 'logout')).toMatchObject({ userId, sessionId: renewedId, ip: IP });
  });

  it('refresh-token reuse', async () => {
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: PASSWORD, mode: 'token' },
    });
    const { refresh_token: token, session } = json<{ refresh_token: string; session: { id: string } }>(login);
    await t.app.inject({ method: 'POST', url: '/v1/refresh', payload: { refresh_token: token } });
    t.clock.advance(60_000);
    takeEvents();
    await t.app.inject({ method: 'POST', url: '/v1/refresh', payload: { refresh_token: token } });
    expect(only(takeEvents(), 'security.refresh_token_reuse')).toMatchObject({
      userId,
      sessionId: session.id,
      revoked: true,
      ip: IP,
    });
  });

  it('throttling of logins', async () => {
    takeEvents();
    for (let i = 0; i < 6; i++) {
      await t.app.inject({
        method: 'POST',
        url: '/v1/login',
        payload: { email: 'alice@example.com', password: `wrong guess ${i}` },
      });
    }
    expect(only(takeEvents(), 'throttle.login_failures')).toMatchObject({ ip: IP });
  });

  it('never carries a password, a token, a cookie or a CSRF token', async () => {
    const cookieLogin = await loginCookie(t.app, 'alice@example.com');
    const tokenLogin = json<{ access_token: string; refresh_token: string }>(
      await t.app.inject({
        method: 'POST',
        url: '/v1/login',
        payload: { email: 'alice@example.com', password: PASSWORD, mode: 'token' },
      }),
    );
    await t.app.inject({ method: 'POST', url: '/v1/logout', headers: { cookie: cookieLogin.cookie } });
    await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      payload: { refresh_token: tokenLogin.refresh_token },
    });
    t.clock.advance(60_000);
    await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      payload: { refresh_token: tokenLogin.refresh_token },
    });
    await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: 'a wrong passphrase 9' },
    });
    const output = t.logs.join('');
    for (const secret of [
      PASSWORD,
      'a wrong passphrase 9',
      cookieLogin.cookie.split('=')[1] ?? '',
      (cookieLogin.cookie.split('.')[1] ?? '').slice(0, 20),
      cookieLogin.csrf,
      tokenLogin.access_token,
      tokenLogin.refresh_token.split('.')[1] ?? '',
    ]) {
      expect(secret.length).toBeGreaterThan(8);
      expect(output).not.toContain(secret);
    }
  });
});
