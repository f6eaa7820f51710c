/**
 * A signed-in user's password checks (change password, change email, remove a factor or a
 * passkey) are throttled per user: a stolen session cannot be used to guess the password.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, json, PASSWORD, signup, type TestApp } from '../helpers/app.js';

let t: TestApp;
let token: string;

beforeEach(async () => {
  t = await createTestApp();
  await signup(t.app, 'alice@example.com');
  const login = await t.app.inject({
    method: 'POST',
    url: '/v1/login',
    payload: { email: 'alice@example.com', password: PASSWORD, mode: 'token' },
  });
  token = json<{ access_token: string }>(login).access_token;
});
afterEach(async () => {
  await t.close();
});

const changePassword = (current: string) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/password',
    headers: { authorization: `Bearer ${token}` },
    payload: { current_password: current, new_password: 'an entirely new passphrase 42' },
  });

describe('re-authentication of a signed-in user', () => {
  it('answers 429 after 10 wrong current passwords in 15 minutes, even for the right one, and changes nothing', async () => {
    for (let i = 0; i < 10; i++) {
      const wrong = await changePassword(`guess number ${i} of many`);
      expect(wrong.statusCode).toBe(401);
      expect(json(wrong)).toMatchObject({ code: 'invalid_credentials' });
    }
    const locked = await changePassword(PASSWORD);
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);
    // The password did not change: the old one still signs in.
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: PASSWORD, mode: 'token' },
    });
    expect(login.statusCode).toBe(200);
    t.clock.advance(15 * 60_000);
    expect((await changePassword(PASSWORD)).statusCode).toBe(200);
  });

  it('counts the same budget across the sensitive changes (email change, factor removal)', async () => {
    for (let i = 0; i < 10; i++) {
      const wrong = await t.app.inject({
        method: 'POST',
        url: '/v1/email/change',
        headers: { authorization: `Bearer ${token}` },
        payload: { email: `new${i}@example.com`, password: `guess number ${i} of many` },
      });
      expect(wrong.statusCode).toBe(401);
    }
    expect((await changePassword(PASSWORD)).statusCode).toBe(429);
  });
});
