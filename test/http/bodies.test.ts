/**
 * Bodies: a JSON body with a duplicate member is refused (400), so the value validated is the
 * value used; a body over the limit gets a 413 that a client which sends the whole body first
 * can read (over a real socket, with Node's fetch).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHTTPServer } from '../../src/http/server.js';
import { hasDuplicateMember } from '../../src/http/json-body.js';
import { createTestApp, json, PASSWORD, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('duplicate members', () => {
  it('refuses a sign-up whose email appears twice, and creates neither account', async () => {
    const bodies = [
      `{"email":"a@example.com","password":"${PASSWORD}","email":"b@example.com"}`,
      // The same name, escaped: "\u0065mail" is "email".
      `{"email":"a@example.com","password":"${PASSWORD}","\\u0065mail":"b@example.com"}`,
    ];
    for (const payload of bodies) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/signup',
        headers: { 'content-type': 'application/json' },
        payload,
      });
      expect(response.statusCode).toBe(400);
      expect(json(response)).toMatchObject({ code: 'bad_request' });
    }
    expect(await t.store.getUserByEmail('a@example.com')).toBeNull();
    expect(await t.store.getUserByEmail('b@example.com')).toBeNull();
  });

  it('refuses a login whose mode appears twice (the schema would check one, the code use the other)', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      headers: { 'content-type': 'application/json' },
      payload: `{"email":"a@example.com","password":"x","mode":"cookie","mode":"token"}`,
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it('finds duplicates at any depth, and only within one object', () => {
    expect(hasDuplicateMember('{"a":1,"a":2}')).toBe(true);
    expect(hasDuplicateMember('{"x":{"a":1,"b":{"a":2},"a":3}}')).toBe(true);
    expect(hasDuplicateMember('[{"a":1},{"a":2}]')).toBe(false);
    expect(hasDuplicateMember('{"a":{"a":{"a":1}}}')).toBe(false);
    expect(hasDuplicateMember('{"a":"a","b":["a","a"],"c":"\\"a\\""}')).toBe(false);
    expect(hasDuplicateMember('{"k\\"":1,"k\\\\":2,"k\\"":3}')).toBe(true);
    expect(hasDuplicateMember('{}')).toBe(false);
  });
});

describe('a body over the limit, over a real socket', () => {
  it('answers 413 that fetch can read, for bodies up to the drained amount, and keeps serving', async () => {
    const app = createHTTPServer(t.latchkey);
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const { port } = app.server.address() as { port: number };
      for (const size of [64 * 1024, 512 * 1024, 1024 * 1024]) {
        const response = await fetch(`http://127.0.0.1:${port}/v1/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(size) }),
        });
        expect(response.status, `${size} bytes`).toBe(413);
        expect(response.headers.get('content-type')).toContain('application/problem+json');
        expect(await response.json()).toMatchObject({ code: 'payload_too_large' });
      }
      const after = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(after.status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
