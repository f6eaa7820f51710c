/**
 * Step-up of a cookie session, checked by a resource service in session mode (introspection):
 * the answer carries the session's amr, acr and auth_time, and `requireAuth` judges them like
 * a token's. `POST /v1/mfa/step-up` from a cookie session needs its CSRF token, like every
 * signed-in POST.
 */

import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSSERevocationFeed,
  createVerifier,
  requireAuth,
  type Verifier,
} from '../../src/verify/index.js';
import { ISSUER, PASSWORD } from '../helpers/app.js';
import { startLiveServer, type LiveServer } from './live-server.js';

let server: LiveServer;
let verifier: Verifier;

beforeAll(async () => {
  server = await startLiveServer();
  verifier = createVerifier({
    issuer: ISSUER,
    audience: ISSUER,
    algorithms: ['EdDSA'],
    jwksUri: server.jwksUri,
    revocation: createSSERevocationFeed({ url: server.feedUrl, headers: server.feedHeaders, retryMs: 20 }),
    clock: server.clock,
    introspection: {
      url: `${server.url}/v1/introspect`,
      clientId: server.clientId,
      clientSecret: server.clientSecret,
    },
  });
  await verifier.ready();
});

afterAll(async () => {
  await verifier.close();
  await server.close();
});

interface CookieSession {
  cookie: string;
  csrf?: string;
}

/** The session cookie a cookie-mode answer set, and its CSRF token. */
function cookieOf(response: { body: string; headers: Record<string, unknown> }): Required<CookieSession> {
  const raw = response.headers['set-cookie'] as string | string[] | undefined;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const cookie = list.find((c) => c.startsWith('__Host-latchkey_session='))?.split(';')[0] ?? '';
  return { cookie, csrf: (JSON.parse(response.body) as { csrf_token: string }).csrf_token };
}

function post(url: string, session: CookieSession | null, payload: object) {
  return server.app.inject({
    method: 'POST',
    url,
    payload,
    headers: {
      ...(session === null ? {} : { cookie: session.cookie }),
      ...(session?.csrf === undefined ? {} : { 'x-csrf-token': session.csrf }),
    },
  });
}

describe('step-up of a cookie session, checked in session mode', () => {
  it('refuses a password session, accepts it once stepped up (with CSRF), until maxAge', async () => {
    const stepUp = requireAuth({ acr: 'mfa', maxAge: 600 }, { clock: server.clock });
    const email = 'session-stepup@example.com';
    expect((await post('/v1/signup', null, { email, password: PASSWORD })).statusCode).toBe(201);
    const login = cookieOf(await post('/v1/login', null, { email, password: PASSWORD, mode: 'cookie' }));
    const started = await post('/v1/mfa/totp', login, {});
    expect(started.statusCode).toBe(201);
    const { otpauth_uri: uri, factor } = JSON.parse(started.body) as {
      otpauth_uri: string;
      factor: { id: string };
    };
    const totp = OTPAuth.URI.parse(uri) as OTPAuth.TOTP;
    const confirmed = await post('/v1/mfa/totp/confirm', login, {
      factor_id: factor.id,
      code: totp.generate({ timestamp: server.clock() }),
    });
    expect(confirmed.statusCode).toBe(200);
    const before = cookieOf(confirmed);

    const principal = await verifier.authenticate({ method: 'GET', headers: { cookie: before.cookie } });
    expect(principal).toMatchObject({ amr: ['pwd'], acr: '1' });
    expect(() => stepUp(principal)).toThrow(
      expect.objectContaining({ code: 'insufficient_user_authentication' }),
    );

    server.clock.advance(30_000);
    const code = totp.generate({ timestamp: server.clock() });
    // A signed-in POST like the others: without the CSRF token, refused, and the code not spent.
    expect((await post('/v1/mfa/step-up', { cookie: before.cookie }, { code })).statusCode).toBe(403);
    const stepped = await post('/v1/mfa/step-up', before, { code });
    expect(stepped.statusCode).toBe(200);
    const after = cookieOf(stepped);
    expect(after.cookie).not.toBe(before.cookie);

    const raised = await verifier.authenticate({ method: 'GET', headers: { cookie: after.cookie } });
    expect(stepUp(raised)).toBe(raised);
    expect(raised).toMatchObject({
      amr: ['pwd', 'otp', 'mfa'],
      acr: 'mfa',
      authTime: Math.floor(server.clock() / 1000),
    });
    server.clock.advance(601_000);
    const later = await verifier.authenticate({ method: 'GET', headers: { cookie: after.cookie } });
    expect(() => stepUp(later)).toThrow(
      expect.objectContaining({ extensions: { acr_values: 'mfa', max_age: 600 } }),
    );
  });
});
