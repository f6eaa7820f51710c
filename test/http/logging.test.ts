import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { Writable } from 'node:stream';
import { createTestApp, json, loginCookie, PASSWORD, signup, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ config: { logLevel: 'trace' } });
});
afterAll(async () => {
  await t.close();
});

describe('logs never carry a credential', () => {
  it('keeps passwords, cookies, CSRF tokens and bearer tokens out of every log line', async () => {
    await signup(t.app, 'alice@example.com');
    const login = await loginCookie(t.app, 'alice@example.com');
    await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: 'a wrong one!' },
    });
    await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { cookie: login.cookie, authorization: 'Bearer abc.def.ghi' },
    });
    await t.app.inject({
      method: 'POST',
      url: '/v1/password',
      headers: { cookie: login.cookie, 'x-csrf-token': login.csrf },
      payload: { current_password: PASSWORD, new_password: 'the next long passphrase' },
    });
    const token = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: 'the next long passphrase', mode: 'token' },
    });
    const { access_token, refresh_token } = json<{ access_token: string; refresh_token: string }>(token);
    await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: `Bearer ${access_token}` },
    });
    await t.app.inject({ method: 'POST', url: '/v1/refresh', payload: { refresh_token } });

    const output = t.logs.join('');
    expect(output.length).toBeGreaterThan(0);
    expect(output).toContain('login succeeded');
    const secrets = [
      PASSWORD,
      'a wrong one!',
      'the next long passphrase',
      login.cookie.split('=')[1] ?? 'x',
      (login.cookie.split('.')[1] ?? 'x').slice(0, 20),
      login.csrf,
      access_token,
      refresh_token,
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
