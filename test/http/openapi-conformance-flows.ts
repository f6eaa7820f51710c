/**
 * Flows of `openapi-conformance.test.ts`, kept here so that file stays short: each drives one
 * area of the API through its recording app (the `Caller`), success paths first, then the
 * refusals a client meets. What they answer is validated against the document there.
 */

import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { ISSUER, PASSWORD, signup, type TestApp } from '../helpers/app.js';
import { createConformance, type OpenAPIDocument } from '../helpers/openapi.js';
import { createSoftAuthenticator } from '../helpers/soft-authenticator.js';

export type Body = Record<string, unknown>;

export const origin = { origin: ISSUER };
export const bearer = (token: string): Record<string, string> => ({
  ...origin,
  authorization: `Bearer ${token}`,
});
export const basic = (id: string, secret: string): Record<string, string> => ({
  ...origin,
  authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
});

/** The recording app and the two calls every flow makes. */
export interface Caller {
  t: TestApp;
  call: (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: unknown,
    headers?: Record<string, string>,
  ) => Promise<LightMyRequestResponse>;
  expectStatus: (response: Promise<LightMyRequestResponse>, status: number) => Promise<Body>;
}

/**
 * Step-up (RFC 9470) and replacing the recovery codes, for a signed-in user with a confirmed
 * TOTP factor; `next()` is the factor's next code. Returns the stepped-up session's access token
 * (the step-up renews the session: the old token is revoked).
 */
export async function stepUpAndRecoveryCodes(c: Caller, access: string, next: () => string): Promise<string> {
  const { call, expectStatus } = c;
  const wrong = await expectStatus(call('POST', '/v1/mfa/step-up', { code: '000000' }, bearer(access)), 401);
  expect(wrong.code).toBe('invalid_code');
  await expectStatus(call('POST', '/v1/mfa/step-up', { code: '123456' }), 401);
  const stepped = await expectStatus(call('POST', '/v1/mfa/step-up', { code: next() }, bearer(access)), 200);
  const session = stepped.session as { acr: string; amr: string[] };
  expect(session.acr).toBe('mfa');
  expect(session.amr).toEqual(expect.arrayContaining(['otp', 'mfa']));
  const renewed = String(stepped.access_token);

  const factors = await expectStatus(call('GET', '/v1/mfa', undefined, bearer(renewed)), 200);
  expect(factors.recovery_codes_left).toBe(10);
  const replaced = await expectStatus(
    call('POST', '/v1/mfa/recovery-codes', { password: PASSWORD, code: next() }, bearer(renewed)),
    200,
  );
  expect(replaced.recovery_codes).toHaveLength(10);
  await expectStatus(
    call('POST', '/v1/mfa/recovery-codes', { password: 'wrong password!', code: next() }, bearer(renewed)),
    401,
  );
  await expectStatus(call('POST', '/v1/mfa/recovery-codes', { code: next() }, bearer(renewed)), 400);
  return renewed;
}

/** The caller's own security events, after the sign-ins of `access`'s user. */
export async function ownEvents(c: Caller, access: string): Promise<void> {
  const { call, expectStatus } = c;
  await c.t.latchkey.audit.flush();
  const page = await expectStatus(call('GET', '/v1/me/events?limit=2', undefined, bearer(access)), 200);
  expect((page.events as unknown[]).length).toBeGreaterThan(0);
  await expectStatus(call('GET', '/v1/me/events?limit=0', undefined, bearer(access)), 400);
  await expectStatus(call('GET', '/v1/me/events'), 401);
}

type CreationOptions = { challenge: string; rp: { id?: string }; user: { id: string } };

/**
 * A sign-up with a passkey and no password (the software authenticator makes it), then a
 * passkey sign-in, a step-up with the passkey, and the refusals: a spent challenge, an account
 * without an authenticator app asked for a code.
 */
export async function passkeySignup(c: Caller): Promise<void> {
  const { call, expectStatus } = c;
  const authenticator = createSoftAuthenticator(ISSUER);
  await expectStatus(call('POST', '/v1/passkeys/signup/options', { email: 'not an address' }), 400);
  const options = await expectStatus(
    call('POST', '/v1/passkeys/signup/options', { email: 'fay@example.com' }),
    200,
  );
  const response = authenticator.create(options as unknown as CreationOptions);
  const signed = await expectStatus(
    call('POST', '/v1/passkeys/signup', { response, name: 'Phone', mode: 'token' }),
    201,
  );
  expect(signed.session).toMatchObject({ acr: 'mfa' });
  await expectStatus(call('POST', '/v1/passkeys/signup', { response }), 401);
  await expectStatus(call('POST', '/v1/passkeys/signup', { response: { id: 'x' } }), 400);

  const login = await expectStatus(call('POST', '/v1/passkeys/login/options', {}), 200);
  const signedIn = await expectStatus(
    call('POST', '/v1/passkeys/login', {
      response: authenticator.get(login as { challenge: string }),
      mode: 'token',
    }),
    200,
  );
  const access = String(signedIn.access_token);
  const noTotp = await expectStatus(call('POST', '/v1/mfa/step-up', { code: '123456' }, bearer(access)), 409);
  expect(noTotp.code).toBe('no_factor');
  const proof = await expectStatus(call('POST', '/v1/passkeys/login/options', {}), 200);
  await expectStatus(
    call(
      'POST',
      '/v1/mfa/step-up',
      { passkey: authenticator.get(proof as { challenge: string }) },
      bearer(access),
    ),
    200,
  );
}

/** The token endpoint, introspection and the revocation feed (its stream read on a real socket). */
export async function oauthFlows(c: Caller, document: OpenAPIDocument): Promise<void> {
  const { t, call, expectStatus } = c;
  const { client, secret } = await t.latchkey.clients.create({
    name: 'orders',
    scopes: ['orders:read'],
    audiences: [ISSUER],
  });
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const formPost = (url: string, fields: Record<string, string>, headers: Record<string, string>) =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      payload: form(fields),
    });
  const issued = await expectStatus(
    formPost('/oauth/token', { grant_type: 'client_credentials' }, basic(client.id, secret)),
    200,
  );
  await expectStatus(
    formPost('/oauth/token', { grant_type: 'client_credentials' }, basic(client.id, 'wrong')),
    401,
  );
  await expectStatus(formPost('/oauth/token', { grant_type: 'password' }, origin), 400);
  await signup(t.app, 'eve@example.com');
  const login = await expectStatus(
    call('POST', '/v1/login', { email: 'eve@example.com', password: PASSWORD, mode: 'token' }),
    200,
  );
  await expectStatus(
    formPost(
      '/oauth/token',
      { grant_type: 'refresh_token', refresh_token: String(login.refresh_token) },
      origin,
    ),
    200,
  );
  await expectStatus(
    call('POST', '/oauth/token', 'not json', { ...origin, 'content-type': 'text/plain' }),
    415,
  );

  await expectStatus(
    formPost('/v1/introspect', { token: String(issued.access_token) }, basic(client.id, secret)),
    200,
  );
  const inactive = await expectStatus(
    formPost('/v1/introspect', { token: 'nope' }, basic(client.id, secret)),
    200,
  );
  expect(inactive).toEqual({ active: false });
  await expectStatus(formPost('/v1/introspect', { token: 'nope' }, origin), 401);

  await expectStatus(call('GET', '/v1/revocations/snapshot', undefined, basic(client.id, secret)), 200);
  await expectStatus(
    call('GET', '/v1/revocations/snapshot?after=x', undefined, basic(client.id, secret)),
    400,
  );
  await expectStatus(call('GET', '/v1/revocations/snapshot'), 401);
  await expectStatus(call('GET', '/v1/revocations'), 401);
  await streamOnce(t, document, basic(client.id, secret));
}

/**
 * Opens the event stream on a real socket, reads it up to its `synced` event and checks it
 * against the document (the stream takes the reply over: the recorder sees nothing).
 */
async function streamOnce(
  t: TestApp,
  document: OpenAPIDocument,
  headers: Record<string, string>,
): Promise<void> {
  const { createHTTPServer } = await import('../../src/http/server.js');
  const app = createHTTPServer(t.latchkey);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const controller = new AbortController();
  try {
    const { port } = app.server.address() as { port: number };
    const response = await fetch(`http://127.0.0.1:${port}/v1/revocations`, {
      headers,
      signal: controller.signal,
    });
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0] ?? '';
    const reader = response.body?.getReader();
    let text = '';
    while (reader !== undefined && !text.includes('event: synced')) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    const problems = createConformance(document).check({
      method: 'GET',
      route: '/v1/revocations',
      status: response.status,
      mediaType,
      body: text,
    });
    expect(problems).toEqual([]);
    expect(text).toContain('event: synced');
  } finally {
    controller.abort();
    await app.close();
  }
}

/**
 * The admin API, by a user with the `admin` role (bearer) and a machine client with the `admin`
 * scope (Basic), and its refusals: no credential (401), a user without the role (403).
 */
export async function adminFlows(c: Caller): Promise<void> {
  const { t, call, expectStatus } = c;
  await signup(t.app, 'root@example.com');
  await signup(t.app, 'mallory@example.com');
  await t.latchkey.auth.setUserRoles('root@example.com', ['admin']);
  const login = async (email: string): Promise<Record<string, string>> => {
    const answer = await expectStatus(
      call('POST', '/v1/login', { email, password: PASSWORD, mode: 'token' }),
      200,
    );
    return bearer(String(answer.access_token));
  };
  const admin = await login('root@example.com');
  const mallory = await login('mallory@example.com');
  const made = await t.latchkey.clients.create({ name: 'ops', scopes: ['admin'], audiences: [ISSUER] });
  const ops = basic(made.client.id, made.secret);

  const page = await expectStatus(
    call('GET', '/v1/admin/users?limit=1&email_prefix=mal', undefined, ops),
    200,
  );
  const target = (page.users as { id: string }[])[0]?.id ?? '';
  await expectStatus(call('GET', '/v1/admin/users?email_contains=example', undefined, admin), 200);
  await expectStatus(call('GET', '/v1/admin/users?cursor=!', undefined, admin), 400);
  await expectStatus(call('GET', '/v1/admin/users'), 401);
  await expectStatus(call('GET', '/v1/admin/users', undefined, mallory), 403);
  await expectStatus(call('GET', `/v1/admin/users/${target}`, undefined, admin), 200);
  await expectStatus(call('GET', '/v1/admin/users/nobody', undefined, admin), 404);
  const sessions = await expectStatus(call('GET', `/v1/admin/users/${target}/sessions`, undefined, ops), 200);
  const sid = (sessions.sessions as { id: string }[])[0]?.id ?? '';
  await expectStatus(call('DELETE', `/v1/admin/users/${target}/sessions/${sid}`, undefined, ops), 204);
  await expectStatus(call('DELETE', `/v1/admin/users/${target}/sessions/${sid}`, undefined, ops), 404);
  await expectStatus(call('DELETE', `/v1/admin/users/${target}/sessions`, undefined, admin), 200);
  await expectStatus(call('POST', `/v1/admin/users/${target}/roles`, { roles: ['support'] }, ops), 200);
  await expectStatus(call('POST', `/v1/admin/users/${target}/roles`, { roles: ['a b'] }, ops), 400);
  await expectStatus(call('POST', `/v1/admin/users/${target}/disable`, undefined, admin), 200);
  await expectStatus(call('POST', `/v1/admin/users/${target}/enable`, undefined, admin), 200);
  await expectStatus(call('POST', '/v1/admin/users/nobody/enable', undefined, admin), 404);
  await t.latchkey.audit.flush();
  await expectStatus(call('GET', `/v1/admin/events?limit=5&user_id=${target}`, undefined, admin), 200);
  await expectStatus(call('GET', '/v1/admin/events?cursor=!', undefined, admin), 400);

  const created = await expectStatus(
    call('POST', '/v1/admin/clients', { name: 'svc', scopes: ['x:read'] }, ops),
    201,
  );
  await expectStatus(call('POST', '/v1/admin/clients', { name: 'svc', scopes: ['bad scope'] }, ops), 400);
  await expectStatus(call('GET', '/v1/admin/clients', undefined, admin), 200);
  const clientId = (created.client as { id: string }).id;
  await expectStatus(call('POST', `/v1/admin/clients/${clientId}/disable`, undefined, admin), 204);
  await expectStatus(call('POST', '/v1/admin/clients/nobody/disable', undefined, admin), 404);

  const hook = { url: 'http://127.0.0.1:9/hook', events: ['user.disable'] };
  const added = await expectStatus(call('POST', '/v1/admin/webhooks', hook, ops), 201);
  await expectStatus(call('POST', '/v1/admin/webhooks', { ...hook, events: ['nope'] }, ops), 400);
  await expectStatus(call('GET', '/v1/admin/webhooks', undefined, ops), 200);
  const hookId = (added.webhook as { id: string }).id;
  await expectStatus(call('GET', `/v1/admin/webhooks/${hookId}/deliveries?limit=10`, undefined, ops), 200);
  await expectStatus(call('DELETE', `/v1/admin/webhooks/${hookId}`, undefined, ops), 204);
  await expectStatus(call('DELETE', `/v1/admin/webhooks/${hookId}`, undefined, ops), 404);
  await expectStatus(call('GET', `/v1/admin/webhooks/${hookId}/deliveries`, undefined, ops), 404);
}
