/**
 * What the server answers matches its OpenAPI document, route by route and status by status.
 * Every response of these flows is recorded (`recordResponses`) and validated against the
 * document's schema for its operation, status and media type; every documented operation must
 * be exercised at least once. A route that answers a status or a member it does not document
 * fails here: document it in the route's schema (`src/http/openapi/route-schema.ts`).
 */

import type { LightMyRequestResponse } from 'fastify';
import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailTransport, OutgoingMail } from '../../src/outbox/transport.js';
import { createTestApp, ISSUER, PASSWORD, setCookies, signup, type TestApp } from '../helpers/app.js';
import {
  createConformance,
  recordResponses,
  type OpenAPIDocument,
  type RecordedResponse,
} from '../helpers/openapi.js';
import {
  adminFlows,
  bearer,
  oauthFlows,
  origin,
  ownEvents,
  passkeySignup,
  stepUpAndRecoveryCodes,
  type Body,
  type Caller,
} from './openapi-conformance-flows.js';

const mails: OutgoingMail[] = [];
const transport: MailTransport = {
  name: 'capture',
  send: (mail) => {
    mails.push(mail);
    return Promise.resolve();
  },
  close: () => Promise.resolve(),
};

let t: TestApp;
let responses: RecordedResponse[];
let document: OpenAPIDocument;
/** Operations exercised outside `inject` (the event stream takes the reply over: no onSend). */
const exercisedElsewhere = new Set<string>();

function call(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = origin,
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method,
    url,
    headers,
    ...(payload === undefined ? {} : { payload: payload as Body }),
  });
}

async function expectStatus(response: Promise<LightMyRequestResponse>, status: number): Promise<Body> {
  const answer = await response;
  expect(answer.statusCode, answer.body).toBe(status);
  return answer.body === '' ? {} : (JSON.parse(answer.body) as Body);
}

const caller = (): Caller => ({ t, call, expectStatus });

/** The newest mail's `token=` (and its code, for a sign-in link), after the worker delivered it. */
async function mailed(): Promise<{ token: string; code: string | undefined }> {
  await t.latchkey.mailWorker.runOnce();
  const text = mails.at(-1)?.text ?? '';
  const token = /[?&]token=([A-Za-z0-9_-]+)/.exec(text)?.[1];
  if (token === undefined) throw new Error('no token in the mail');
  return { token, code: /where you asked for it: (\S+)/.exec(text)?.[1] };
}

beforeAll(async () => {
  t = await createTestApp({
    mailTransport: transport,
    beforeReady: (app) => {
      responses = recordResponses(app);
    },
  });
  document = (await t.app.inject({ url: '/openapi.json' })).json();
});
afterAll(async () => t.close());

describe('every documented operation, as the server answers it', () => {
  it('discovery, health and the browser SDK', async () => {
    await expectStatus(call('GET', '/healthz'), 200);
    await expectStatus(call('GET', '/.well-known/jwks.json'), 200);
    await expectStatus(call('GET', '/.well-known/oauth-authorization-server'), 200);
    const sdk = await call('GET', '/sdk/latchkey-browser.js');
    expect(sdk.statusCode).toBe(200);
    await expectStatus(
      call('GET', '/sdk/latchkey-browser.js', undefined, { 'if-none-match': String(sdk.headers.etag) }),
      304,
    );
  });

  it('sign-up, sign-in in each mode, refresh, who am I, sessions and sign-out', async () => {
    await expectStatus(call('POST', '/v1/signup', { email: 'ada@example.com', password: PASSWORD }), 201);
    await expectStatus(call('POST', '/v1/signup', { email: 'ada@example.com', password: PASSWORD }), 409);
    await expectStatus(call('POST', '/v1/signup', { email: 'ada@example.com' }), 400);
    await expectStatus(
      call(
        'POST',
        '/v1/signup',
        { email: 'x@example.com', password: PASSWORD },
        { origin: 'https://evil.example' },
      ),
      403,
    );
    await expectStatus(
      call('POST', '/v1/login', { email: 'ada@example.com', password: 'wrong password!' }),
      401,
    );

    const cookieLogin = await call('POST', '/v1/login', { email: 'ada@example.com', password: PASSWORD });
    expect(cookieLogin.statusCode).toBe(200);
    const session = `__Host-latchkey_session=${setCookies(cookieLogin).get('__Host-latchkey_session')?.value ?? ''}`;
    const csrf = String(cookieLogin.json<Body>().csrf_token);
    await expectStatus(call('GET', '/v1/me', undefined, { cookie: session }), 200);
    await expectStatus(call('GET', '/v1/me'), 401);

    const hybrid = await call('POST', '/v1/login', {
      email: 'ada@example.com',
      password: PASSWORD,
      mode: 'hybrid',
    });
    expect(hybrid.statusCode).toBe(200);
    const refreshCookie = setCookies(hybrid).get('__Secure-latchkey_refresh')?.value ?? '';
    const hybridCSRF = String(hybrid.json<Body>().csrf_token);
    await expectStatus(
      call('POST', '/v1/refresh', undefined, {
        ...origin,
        cookie: `__Secure-latchkey_refresh=${refreshCookie}`,
        'x-csrf-token': hybridCSRF,
      }),
      200,
    );

    const token = await expectStatus(
      call('POST', '/v1/login', { email: 'ada@example.com', password: PASSWORD, mode: 'token' }),
      200,
    );
    const refreshed = await expectStatus(
      call('POST', '/v1/refresh', { refresh_token: token.refresh_token }),
      200,
    );
    await expectStatus(call('POST', '/v1/refresh', { refresh_token: 'nope' }), 400);
    const access = String(refreshed.access_token);

    const list = await expectStatus(call('GET', '/v1/sessions', undefined, bearer(access)), 200);
    expect((list.sessions as unknown[]).length).toBe(3);
    const cookieSession = (cookieLogin.json<Body>().session as Body).id as string;
    await expectStatus(call('DELETE', `/v1/sessions/${cookieSession}`, undefined, bearer(access)), 204);
    await expectStatus(call('DELETE', '/v1/sessions/unknown-session', undefined, bearer(access)), 404);
    await expectStatus(call('DELETE', '/v1/sessions?keep_current=true', undefined, bearer(access)), 200);
    await expectStatus(call('DELETE', '/v1/sessions?keep_current=maybe', undefined, bearer(access)), 400);
    await expectStatus(
      call('POST', '/v1/logout', undefined, { ...origin, cookie: session, 'x-csrf-token': csrf }),
      401,
    );

    const renewed = await expectStatus(
      call(
        'POST',
        '/v1/password',
        { current_password: PASSWORD, new_password: 'a brand new passphrase 42' },
        bearer(access),
      ),
      200,
    );
    await expectStatus(
      call(
        'POST',
        '/v1/password',
        { current_password: 'a brand new passphrase 42', new_password: 'short' },
        bearer(String(renewed.access_token)),
      ),
      400,
    );
    await expectStatus(call('POST', '/v1/logout', undefined, bearer(String(renewed.access_token))), 204);
  });

  it('the mail flows: reset, verification, email change, sign-in link and code', async () => {
    await signup(t.app, 'bea@example.com');
    await expectStatus(call('POST', '/v1/email/verify/request', { email: 'bea@example.com' }), 202);
    await expectStatus(call('POST', '/v1/email/verify', { token: (await mailed()).token }), 200);
    await expectStatus(call('POST', '/v1/email/verify/request', {}), 401);

    await expectStatus(call('POST', '/v1/password/forgot', { email: 'bea@example.com' }), 202);
    await expectStatus(
      call('POST', '/v1/password/reset', {
        token: (await mailed()).token,
        password: 'another fine passphrase',
      }),
      204,
    );
    await expectStatus(
      call('POST', '/v1/password/reset', { token: 'used-or-unknown', password: 'another fine passphrase' }),
      400,
    );

    const login = await expectStatus(
      call('POST', '/v1/login', {
        email: 'bea@example.com',
        password: 'another fine passphrase',
        mode: 'token',
      }),
      200,
    );
    const access = String(login.access_token);
    await expectStatus(
      call(
        'POST',
        '/v1/email/change',
        { email: 'bea2@example.com', password: 'another fine passphrase' },
        bearer(access),
      ),
      202,
    );
    await expectStatus(call('POST', '/v1/email/change/confirm', { token: (await mailed()).token }), 200);
    await expectStatus(call('POST', '/v1/email/change/confirm', { token: 'unknown' }), 400);

    const asked = await call('POST', '/v1/login/link', { email: 'bea2@example.com' });
    expect(asked.statusCode).toBe(202);
    const binding = setCookies(asked).get('__Host-latchkey_link')?.value ?? '';
    const link = await mailed();
    await expectStatus(
      call(
        'POST',
        '/v1/login/link/redeem',
        { token: link.token, mode: 'token' },
        { ...origin, cookie: `__Host-latchkey_link=${binding}` },
      ),
      200,
    );
    await expectStatus(call('POST', '/v1/login/link', { email: 'bea2@example.com' }), 202);
    const code = (await mailed()).code ?? '';
    await expectStatus(call('POST', '/v1/login/code', { email: 'bea2@example.com', code }), 200);
    await expectStatus(call('POST', '/v1/login/code', { email: 'bea2@example.com', code: '000000' }), 400);
    await expectStatus(call('POST', '/v1/login/link/redeem', { token: 'unknown' }), 400);
  });

  it('TOTP: set up, confirm, the second step of a sign-in, step-up, recovery codes, events, removal', async () => {
    await signup(t.app, 'cy@example.com');
    const login = await expectStatus(
      call('POST', '/v1/login', { email: 'cy@example.com', password: PASSWORD, mode: 'token' }),
      200,
    );
    let access = String(login.access_token);
    await expectStatus(call('GET', '/v1/mfa', undefined, bearer(access)), 200);
    const started = await expectStatus(call('POST', '/v1/mfa/totp', { label: 'Phone' }, bearer(access)), 201);
    const totp = OTPAuth.URI.parse(String(started.otpauth_uri)) as OTPAuth.TOTP;
    const factorId = (started.factor as Body).id as string;
    const next = (): string => {
      t.clock.advance(30_000);
      return totp.generate({ timestamp: t.clock() });
    };
    await expectStatus(
      call('POST', '/v1/mfa/totp/confirm', { factor_id: factorId, code: '000000' }, bearer(access)),
      401,
    );
    const confirmed = await expectStatus(
      call('POST', '/v1/mfa/totp/confirm', { factor_id: factorId, code: next() }, bearer(access)),
      200,
    );
    expect(confirmed.recovery_codes).toHaveLength(10);
    access = String(confirmed.access_token);
    await expectStatus(call('POST', '/v1/mfa/totp', {}, bearer(access)), 409);

    const refused = await expectStatus(
      call('POST', '/v1/login', { email: 'cy@example.com', password: PASSWORD, mode: 'hybrid' }),
      401,
    );
    expect(refused.code).toBe('mfa_required');
    await expectStatus(call('POST', '/v1/mfa/verify', { challenge: refused.challenge, code: next() }), 200);
    await expectStatus(
      call('POST', '/v1/mfa/verify', { challenge: 'spent-or-unknown', code: '123456' }),
      401,
    );
    access = await stepUpAndRecoveryCodes(caller(), access, next);
    await ownEvents(caller(), access);

    await expectStatus(
      call(
        'POST',
        '/v1/mfa/remove',
        { factor_id: factorId, password: PASSWORD, code: next() },
        bearer(access),
      ),
      200,
    );
  });

  it('passkeys: the options, the list, and the refusals an authenticator is not needed for', async () => {
    await signup(t.app, 'dee@example.com');
    const login = await expectStatus(
      call('POST', '/v1/login', { email: 'dee@example.com', password: PASSWORD, mode: 'token' }),
      200,
    );
    const access = String(login.access_token);
    await expectStatus(call('POST', '/v1/passkeys/register/options', {}, bearer(access)), 200);
    const options = await expectStatus(call('POST', '/v1/passkeys/login/options', {}), 200);
    await expectStatus(call('GET', '/v1/passkeys', undefined, bearer(access)), 200);
    const b64 = (value: string) => Buffer.from(value).toString('base64url');
    const id = 'AAAAAAAAAAAAAAAAAAAAAA';
    const assertion = {
      id,
      rawId: id,
      type: 'public-key',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64(
          JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin: ISSUER }),
        ),
        authenticatorData: b64('x'.repeat(37)),
        signature: b64('signature'),
      },
    };
    await expectStatus(call('POST', '/v1/passkeys/login', { response: assertion }), 401);
    const attestation = {
      id,
      rawId: id,
      type: 'public-key',
      clientExtensionResults: {},
      response: { clientDataJSON: b64('{}'), attestationObject: b64('none') },
    };
    const registered = await call('POST', '/v1/passkeys/register', { response: attestation }, bearer(access));
    expect([400, 401]).toContain(registered.statusCode);
    await expectStatus(call('PATCH', `/v1/passkeys/${id}`, { name: 'Laptop' }, bearer(access)), 404);
    await expectStatus(call('POST', `/v1/passkeys/${id}/rename`, { name: 'Laptop' }, bearer(access)), 404);
    await expectStatus(
      call('POST', `/v1/passkeys/${id}/remove`, { password: PASSWORD }, bearer(access)),
      404,
    );
  });

  it('passkey sign-up, passkey sign-in and a step-up with the passkey, by a software authenticator', async () => {
    await passkeySignup(caller());
  });

  it('OAuth: the token endpoint, introspection and the revocation feed', async () => {
    await oauthFlows(caller(), document);
    exercisedElsewhere.add('get /v1/revocations 200');
  });

  it('the admin API: users, sessions, the audit trail, machine clients and webhooks', async () => {
    await adminFlows(caller());
  });
});

describe('the record', () => {
  it('is checked for real: an undocumented member, status or media type is refused', () => {
    const conformance = createConformance(document);
    const health = { method: 'GET', route: '/healthz', status: 200, mediaType: 'application/json' };
    expect(conformance.check({ ...health, body: '{"status":"ok","store":"memory"}' })).toEqual([]);
    expect(conformance.check({ ...health, body: '{"status":"ok","store":"memory","extra":1}' })).toHaveLength(
      1,
    );
    expect(conformance.check({ ...health, body: '{"status":"ok"}' })).toHaveLength(1);
    expect(conformance.check({ ...health, status: 418, body: '{}' })).toHaveLength(1);
    expect(conformance.check({ ...health, mediaType: 'text/html', body: '<p>' })).toHaveLength(1);
    expect(conformance.check({ ...health, route: '/v1/unknown', body: '{}' })).toHaveLength(1);
  });

  it('matches the document, response by response', () => {
    const conformance = createConformance(document);
    expect(responses.length).toBeGreaterThan(75);
    expect(responses.flatMap((response) => conformance.check(response))).toEqual([]);
  });

  it('exercised every documented operation', () => {
    const exercised = new Set(
      responses.map((r) => `${r.method.toLowerCase()} ${r.route.replace(/:([a-z]+)/g, '{$1}')}`),
    );
    for (const entry of exercisedElsewhere) exercised.add(entry.split(' ').slice(0, 2).join(' '));
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method} ${path}`),
    );
    expect(documented.filter((operation) => !exercised.has(operation))).toEqual([]);
  });
});
