import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { Writable } from 'node:stream';
import {
  createTestApp,
  json,
  loginCookie,
  PASSWORD,
  setCookies,
  signup,
  type TestApp,
} from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ config: { logLevel: 'trace' } });
});
afterAll(async () => {
  await t.close();
});

describe('logs never carry a credential', () => {
  it('keeps passwords, cookies, CSRF tokens and bearer tokens out of every log line', async () => {
    // Every request below must do what it is there for (a log line of a refusal that should have
    // been a success proves nothing about the success path), so each status is checked.
    await signup(t.app, 'alice@example.com');
    const login = await loginCookie(t.app, 'alice@example.com');
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: 'a wrong one!' },
    });
    expect(wrong.statusCode).toBe(401);
    const forged = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { cookie: login.cookie, authorization: 'Bearer abc.def.ghi' },
    });
    expect(forged.statusCode).toBe(401);
    const change = await t.app.inject({
      method: 'POST',
      url: '/v1/password',
      headers: { cookie: login.cookie, 'x-csrf-token': login.csrf },
      payload: { current_password: PASSWORD, new_password: 'the next long passphrase' },
    });
    expect(change.statusCode).toBe(200);
    const renewedCookie = setCookies(change).get('__Host-latchkey_session')?.value ?? '';
    const renewedCsrf = json<{ csrf_token: string }>(change).csrf_token;
    expect(renewedCookie).not.toBe('');
    const token = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: 'the next long passphrase', mode: 'token' },
    });
    expect(token.statusCode).toBe(200);
    const { access_token, refresh_token } = json<{ access_token: string; refresh_token: string }>(token);
    const me = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(me.statusCode).toBe(200);
    const refreshed = await t.app.inject({ method: 'POST', url: '/v1/refresh', payload: { refresh_token } });
    expect(refreshed.statusCode).toBe(200);
    const successor = json<{ access_token: string; refresh_token: string }>(refreshed);

    const output = t.logs.join('');
    expect(output.length).toBeGreaterThan(0);
    // The success paths ran and logged: login, password change with renewal, refresh.
    const events = t.logs.map((line) => (JSON.parse(line) as { event?: string }).event);
    expect(events).toEqual(
      expect.arrayContaining(['login.success', 'login.failure', 'password.change', 'session.renew']),
    );
    expect(output).toContain('login succeeded');
    const secrets = [
      PASSWORD,
      'a wrong one!',
      'the next long passphrase',
      login.cookie.split('=')[1] ?? 'x',
      (login.cookie.split('.')[1] ?? 'x').slice(0, 20),
      login.csrf,
      renewedCookie,
      (renewedCookie.split('.')[1] ?? 'x').slice(0, 20),
      renewedCsrf,
      access_token,
      refresh_token,
      (refresh_token.split('.')[1] ?? 'x').slice(0, 20),
      successor.access_token,
      successor.refresh_token,
      (successor.refresh_token.split('.')[1] ?? 'x').slice(0, 20),
      'abc.def.ghi',
    ];
    for (const secret of secrets) expect(output).not.toContain(secret);
  });

  it('redacts credential fields of logged objects', () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _encoding, callback) {
          lines.push(chunk.toString());
          callback();
        },
      }),
    });
    logger.info(
      {
        password: 'p1-secret',
        body: { new_password: 'p2-secret', refresh_token: 'r-secret' },
        req: { headers: { authorization: 'Bearer t-secret', cookie: 'c-secret' } },
      },
      'x',
    );
    const output = lines.join('');
    for (const secret of ['p1-secret', 'p2-secret', 'r-secret', 't-secret', 'c-secret']) {
      expect(output).not.toContain(secret);
    }
    expect(output).toContain('[redacted]');
  });
});

describe('the access log', () => {
  it('writes no line per request at the default level, and still logs security events', async () => {
    const app = await createTestApp({ config: { logLevel: 'info' } });
    // The first start creates the first signing key (`key.rotated`); requests come after.
    app.logs.length = 0;
    try {
      const jwks = await app.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      expect(jwks.statusCode).toBe(200);
      const missing = await app.app.inject({ method: 'GET', url: '/nothing-here' });
      expect(missing.statusCode).toBe(404);
      expect(app.logs).toEqual([]);
      await signup(app.app, 'dora@example.com');
      const wrong = await app.app.inject({
        method: 'POST',
        url: '/v1/login',
        payload: { email: 'dora@example.com', password: 'not the password' },
      });
      expect(wrong.statusCode).toBe(401);
      const events = app.logs.map((line) => (JSON.parse(line) as { event?: string }).event);
      expect(events).toContain('login.failure');
      expect(events).not.toContain('request');
    } finally {
      await app.close();
    }
  });

  it('writes one line per request at debug, without the query string', async () => {
    const app = await createTestApp({ config: { logLevel: 'debug' } });
    try {
      const response = await app.app.inject({
        method: 'GET',
        url: '/.well-known/jwks.json?token=query-secret-123',
      });
      expect(response.statusCode).toBe(200);
      const lines = app.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
      const requests = lines.filter((line) => line.event === 'request');
      expect(requests).toHaveLength(1);
      expect(requests[0]).toMatchObject({ method: 'GET', path: '/.well-known/jwks.json', status: 200 });
      expect(typeof requests[0]?.ms).toBe('number');
      expect(app.logs.join('')).not.toContain('query-secret-123');
    } finally {
      await app.close();
    }
  });
});
