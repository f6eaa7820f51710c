import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, json, loginCookie, PASSWORD, signup, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await signup(t.app, 'alice@example.com');
});
afterAll(async () => {
  await t.close();
});

async function userCount(): Promise<number> {
  return (await t.store.listUsers({ limit: 1000 })).length;
}

type Case = { name: string; status: number; code: string; headers?: Record<string, string>; payload: string };

const big = JSON.stringify({ email: 'x@example.com', password: 'p'.repeat(17 * 1024) });
const cases: Case[] = [
  {
    name: 'malformed JSON',
    status: 400,
    code: 'invalid_json',
    payload: '{"email": "a@example.com", "password": ',
  },
  { name: 'empty body', status: 400, code: 'invalid_json', payload: '' },
  { name: 'JSON array', status: 400, code: 'validation_failed', payload: '[]' },
  { name: 'JSON string', status: 400, code: 'validation_failed', payload: '"hello"' },
  {
    name: 'operator injection',
    status: 400,
    code: 'validation_failed',
    payload: '{"email": {"$ne": null}, "password": "x"}',
  },
  {
    name: 'number email',
    status: 400,
    code: 'validation_failed',
    payload: '{"email": 12345678, "password": "correct horse battery"}',
  },
  {
    name: 'array password',
    status: 400,
    code: 'validation_failed',
    payload: '{"email": "z@example.com", "password": ["a","b"]}',
  },
  { name: 'missing password', status: 400, code: 'validation_failed', payload: '{"email": "z@example.com"}' },
  {
    name: 'extra property',
    status: 400,
    code: 'validation_failed',
    payload: `{"email": "z@example.com", "password": "${PASSWORD}", "admin": true}`,
  },
  {
    name: 'NUL in email',
    status: 400,
    code: 'bad_request',
    payload: `{"email": "z\\u0000@example.com", "password": "${PASSWORD}"}`,
  },
  {
    name: 'NUL in password',
    status: 400,
    code: 'bad_request',
    payload: '{"email": "z@example.com", "password": "long enough\\u0000password"}',
  },
  {
    name: '__proto__ key',
    status: 400,
    code: 'bad_request',
    payload: `{"email": "z@example.com", "password": "${PASSWORD}", "__proto__": {"admin": true}}`,
  },
  {
    name: 'absurd email',
    status: 400,
    code: 'validation_failed',
    payload: JSON.stringify({ email: `${'a'.repeat(5000)}@example.com`, password: PASSWORD }),
  },
  {
    name: 'absurd password',
    status: 400,
    code: 'validation_failed',
    payload: JSON.stringify({ email: 'z@example.com', password: 'p'.repeat(5000) }),
  },
  {
    name: 'password over 1024 characters',
    status: 400,
    code: 'weak_password',
    payload: JSON.stringify({ email: 'z@example.com', password: 'p'.repeat(1025) }),
  },
  {
    name: 'invalid email',
    status: 400,
    code: 'validation_failed',
    payload: JSON.stringify({ email: 'not-an-email', password: PASSWORD }),
  },
  { name: 'body over 16 KiB', status: 413, code: 'payload_too_large', payload: big },
  {
    name: 'text/plain',
    status: 415,
    code: 'unsupported_media_type',
    headers: { 'content-type': 'text/plain' },
    payload: '{}',
  },
  {
    name: 'form body',
    status: 415,
    code: 'unsupported_media_type',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'email=a',
  },
  {
    name: 'multipart',
    status: 415,
    code: 'unsupported_media_type',
    headers: { 'content-type': 'multipart/form-data; boundary=x' },
    payload: '--x--',
  },
];

describe('bad input is a clear 4xx problem and changes nothing', () => {
  for (const item of cases) {
    it(`${item.name} → ${item.status}`, async () => {
      const before = await userCount();
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/signup',
        headers: { 'content-type': 'application/json', ...item.headers },
        payload: item.payload,
      });
      expect(response.statusCode).toBe(item.status);
      expect(response.headers['content-type']).toContain('application/problem+json');
      const body = json(response);
      expect(body).toMatchObject({ status: item.status, code: item.code });
      expect(response.body).not.toMatch(/at .*\.(ts|js):\d+/);
      expect(response.body).not.toContain('stack');
      expect(await userCount()).toBe(before);
    });
  }

  it('the same cases against /v1/login issue no session', async () => {
    for (const item of cases) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/login',
        headers: { 'content-type': 'application/json', ...item.headers },
        payload: item.payload,
      });
      expect(response.statusCode, item.name).toBeGreaterThanOrEqual(400);
      expect(response.statusCode, item.name).toBeLessThan(500);
      expect(response.headers['set-cookie'], item.name).toBeUndefined();
    }
  });

  it('refuses an unknown login mode and a huge or malformed session cookie without a 500', async () => {
    const mode = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'alice@example.com', password: PASSWORD, mode: 'admin' },
    });
    expect(mode.statusCode).toBe(400);
    for (const cookie of [
      `__Host-latchkey_session=${'a'.repeat(7000)}`,
      '__Host-latchkey_session=..',
      '__Host-latchkey_session=%00%00',
      '__Host-latchkey_session="quoted"',
    ]) {
      const response = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie } });
      expect(response.statusCode, cookie.slice(0, 40)).toBe(401);
    }
  });

  it('answers unknown routes and methods with problem+json 404', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/v1/nope' });
    expect(response.statusCode).toBe(404);
    expect(json(response)).toMatchObject({ code: 'not_found' });
  });

  it('rejects a bad session id path parameter with 400', async () => {
    const { cookie, csrf } = await loginCookie(t.app, 'alice@example.com');
    const response = await t.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${encodeURIComponent('../../etc/passwd')}`,
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(response.statusCode).toBe(400);
  });
});
