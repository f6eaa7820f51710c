/**
 * Step-up end to end, over real HTTP: a Latchkey server on a port, and a payments service
 * (Express with `latchkey/verify`) whose route demands `acr: 'mfa'` and a 10-minute `maxAge`.
 * A password-only token is refused with the RFC 9470 challenge; `POST /v1/mfa/step-up` with a
 * TOTP code (from the independent `otpauth`) gives a token that passes, until ten minutes have
 * gone by on the settable clock. A refresh keeps the assurance; a forged claim does not pass.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latchkeyExpress } from '../../src/verify/adapters/express.js';
import { createSSERevocationFeed, createVerifier, type Verifier } from '../../src/verify/index.js';
import { ISSUER, PASSWORD } from '../helpers/app.js';
import { startLiveServer, waitFor, type LiveServer } from '../verify/live-server.js';

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

interface SignedIn {
  access_token: string;
  refresh_token: string;
  session: { id: string; amr: string[]; auth_time: number; acr: string };
}

let server: LiveServer;
let verifier: Verifier;
let payments: Server;
let paymentsUrl: string;

async function call(
  url: string,
  init: { method?: string; token?: string; body?: unknown } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    headers: response.headers,
  };
}

const auth = (path: string, init?: Parameters<typeof call>[1]): Promise<Answer> =>
  call(`${server.url}${path}`, init);
const pay = (token: string): Promise<Answer> => call(`${paymentsUrl}/payments`, { method: 'POST', token });
const whoami = (token: string): Promise<Answer> => call(`${paymentsUrl}/whoami`, { token });

async function signUpAndLogin(email: string): Promise<SignedIn> {
  expect((await auth('/v1/signup', { body: { email, password: PASSWORD } })).status).toBe(201);
  const login = await auth('/v1/login', { body: { email, password: PASSWORD, mode: 'token' } });
  expect(login.status).toBe(200);
  return login.body as unknown as SignedIn;
}

/** Sets up TOTP from a token session; returns the app's generator and the renewed session. */
async function enrolTotp(session: SignedIn): Promise<{ totp: OTPAuth.TOTP; renewed: SignedIn }> {
  const started = await auth('/v1/mfa/totp', { token: session.access_token, body: { label: 'Phone' } });
  expect(started.status).toBe(201);
  const totp = OTPAuth.URI.parse(started.body.otpauth_uri as string) as OTPAuth.TOTP;
  const factorId = (started.body.factor as { id: string }).id;
  const confirmed = await auth('/v1/mfa/totp/confirm', {
    token: session.access_token,
    body: { factor_id: factorId, code: totp.generate({ timestamp: server.clock() }) },
  });
  expect(confirmed.status).toBe(200);
  return { totp, renewed: confirmed.body as unknown as SignedIn };
}

/** A code of the next step: each step's code is accepted once. */
function nextCode(totp: OTPAuth.TOTP): string {
  server.clock.advance(30_000);
  return totp.generate({ timestamp: server.clock() });
}

const nowSeconds = (): number => Math.floor(server.clock() / 1000);

/** The claims of an access token, read without verifying (the service verifies). */
function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

beforeAll(async () => {
  server = await startLiveServer();
  verifier = createVerifier({
    issuer: ISSUER,
    audience: ISSUER,
    algorithms: ['EdDSA'],
    jwksUri: server.jwksUri,
    revocation: createSSERevocationFeed({ url: server.feedUrl, headers: server.feedHeaders, retryMs: 20 }),
    clock: server.clock,
  });
  await verifier.ready();
  const app = express();
  const show = (req: express.Request, res: express.Response): void => {
    const { sub, amr, acr, authTime } = req.principal ?? {};
    res.json({ sub, amr, acr, auth_time: authTime });
  };
  app.get('/whoami', latchkeyExpress(verifier, { realm: 'payments' }), show);
  app.post('/payments', latchkeyExpress(verifier, { realm: 'payments', acr: 'mfa', maxAge: '10m' }), show);
  payments = createServer(app);
  await new Promise<void>((resolve) => payments.listen(0, '127.0.0.1', resolve));
  paymentsUrl = `http://127.0.0.1:${(payments.address() as AddressInfo).port}`;
});

afterAll(async () => {
  payments.closeAllConnections();
  await new Promise<void>((resolve) => payments.close(() => resolve()));
  await verifier.close();
  await server.close();
});

describe('step-up at a resource service (RFC 9470)', () => {
  it('refuses a password-only token with the challenge, and accepts the token of a step-up until maxAge', async () => {
    const login = await signUpAndLogin('stepup@example.com');
    expect(login.session).toMatchObject({ amr: ['pwd'], acr: '1', auth_time: nowSeconds() });
    expect(await whoami(login.access_token)).toMatchObject({ status: 200, body: { amr: ['pwd'], acr: '1' } });

    const refused = await pay(login.access_token);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe(
      'Bearer realm="payments", error="insufficient_user_authentication", ' +
        'error_description="A different authentication level is required", acr_values="mfa", max_age=600',
    );
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({
      code: 'insufficient_user_authentication',
      acr_values: 'mfa',
      max_age: 600,
    });

    // Setting up the factor renews the session but is no step-up: the assurance is kept.
    const { totp, renewed } = await enrolTotp(login);
    expect(renewed.session).toMatchObject({ amr: ['pwd'], acr: '1' });
    expect((await pay(renewed.access_token)).status).toBe(401);

    const wrong = await auth('/v1/mfa/step-up', { token: renewed.access_token, body: { code: '000000' } });
    expect(wrong).toMatchObject({ status: 401, body: { code: 'invalid_code' } });

    const stepped = await auth('/v1/mfa/step-up', {
      token: renewed.access_token,
      body: { code: nextCode(totp) },
    });
    expect(stepped.status).toBe(200);
    const up = stepped.body as unknown as SignedIn;
    expect(up.session).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], acr: 'mfa', auth_time: nowSeconds() });
    expect(up.session.id).not.toBe(renewed.session.id);
    expect(await pay(up.access_token)).toMatchObject({
      status: 200,
      body: { amr: ['pwd', 'otp', 'mfa'], acr: 'mfa', auth_time: nowSeconds() },
    });
    // The session it replaced is revoked, and the service learns it from the feed.
    await waitFor(() => verifier.health().revocation.entries > 1);
    expect((await whoami(renewed.access_token)).status).toBe(401);
    // The same code again is a replay.
    const replay = await auth('/v1/mfa/step-up', {
      token: up.access_token,
      body: { code: totp.generate({ timestamp: server.clock() }) },
    });
    expect(replay.status).toBe(401);

    // Five minutes on, a refresh: a new token, the same authentication (a refresh is none).
    const steppedAt = up.session.auth_time;
    server.clock.advance(5 * 60_000);
    const refreshed = await auth('/v1/refresh', { body: { refresh_token: up.refresh_token } });
    expect(refreshed.status).toBe(200);
    const fresh = refreshed.body as unknown as SignedIn;
    expect(claimsOf(fresh.access_token)).toMatchObject({
      amr: ['pwd', 'otp', 'mfa'],
      acr: 'mfa',
      auth_time: steppedAt,
      iat: nowSeconds(),
    });
    expect((await pay(fresh.access_token)).status).toBe(200);

    // Past ten minutes since the step-up, the fresh token still authenticates, but is not recent enough.
    server.clock.advance(5 * 60_000 + 1_000);
    expect((await whoami(fresh.access_token)).status).toBe(200);
    const stale = await pay(fresh.access_token);
    expect(stale.status).toBe(401);
    expect(stale.headers.get('www-authenticate')).toBe(
      'Bearer realm="payments", error="insufficient_user_authentication", ' +
        'error_description="More recent authentication is required", acr_values="mfa", max_age=600',
    );

    // A second step-up makes it recent again.
    const again = await auth('/v1/mfa/step-up', {
      token: fresh.access_token,
      body: { code: nextCode(totp) },
    });
    expect(again.status).toBe(200);
    expect((await pay((again.body as unknown as SignedIn).access_token)).status).toBe(200);
  });

  it('refuses a token whose amr and acr were forged (the signature no longer matches)', async () => {
    const login = await signUpAndLogin('forger@example.com');
    const [header, payload, signature] = login.access_token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = Buffer.from(
      JSON.stringify({ ...claims, amr: ['pwd', 'otp', 'mfa'], acr: 'mfa', auth_time: nowSeconds() }),
    ).toString('base64url');
    const answer = await pay(`${header}.${forged}.${signature}`);
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="payments", error="invalid_token"');
    // And the genuine token, unchanged, is refused for what it is: one factor.
    expect((await pay(login.access_token)).body).toMatchObject({ code: 'insufficient_user_authentication' });
  });

  it('answers no_factor for an account without a second factor, and changes nothing', async () => {
    const login = await signUpAndLogin('nofactor@example.com');
    const answer = await auth('/v1/mfa/step-up', { token: login.access_token, body: { code: '123456' } });
    expect(answer).toMatchObject({ status: 409, body: { code: 'no_factor' } });
    const recovery = await auth('/v1/mfa/step-up', {
      token: login.access_token,
      body: { recovery_code: 'abcd-efgh-ijkl' },
    });
    expect(recovery).toMatchObject({ status: 409, body: { code: 'no_factor' } });
    expect(await whoami(login.access_token)).toMatchObject({ status: 200, body: { amr: ['pwd'] } });
  });

  it('takes a passkey assertion: none for an account without a passkey, a forged one refused', async () => {
    const login = await signUpAndLogin('passkey-stepup@example.com');
    const options = await auth('/v1/passkeys/login/options', { body: {} });
    const challenge = options.body.challenge as string;
    const b64 = (value: string): string => Buffer.from(value, 'utf8').toString('base64url');
    const id = 'AAECAwQFBgcICQoLDA0ODw';
    const assertion = {
      id,
      rawId: id,
      type: 'public-key',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64(JSON.stringify({ type: 'webauthn.get', challenge, origin: ISSUER })),
        authenticatorData: b64('x'.repeat(37)),
        signature: b64('signature'),
      },
    };
    const none = await auth('/v1/mfa/step-up', { token: login.access_token, body: { passkey: assertion } });
    expect(none).toMatchObject({ status: 409, body: { code: 'no_factor' } });
    await server.latchkey.store.createPasskey({
      id,
      userId: (login as SignedIn & { user: { id: string } }).user.id,
      publicKey: b64('not a key'),
      counter: 0,
      transports: [],
      backupEligible: false,
      backedUp: false,
      aaguid: '00000000-0000-0000-0000-000000000000',
      name: 'Key',
      createdAt: server.clock(),
      lastUsedAt: null,
    });
    const forged = await auth('/v1/mfa/step-up', { token: login.access_token, body: { passkey: assertion } });
    expect(forged).toMatchObject({ status: 401, body: { code: 'invalid_code' } });
    expect(await whoami(login.access_token)).toMatchObject({ status: 200, body: { amr: ['pwd'], acr: '1' } });
  });

  it('refuses an unauthenticated step-up and a body with two factors or none', async () => {
    expect((await auth('/v1/mfa/step-up', { body: { code: '123456' } })).status).toBe(401);
    const login = await signUpAndLogin('shape@example.com');
    for (const body of [{}, { code: '123456', recovery_code: 'abcd-efgh' }, { code: 123456 }]) {
      const answer = await auth('/v1/mfa/step-up', { token: login.access_token, body });
      expect(answer.status).toBe(400);
    }
  });

  it('throttles wrong codes with the budget of the login second step, and a recovery code steps up once', async () => {
    const login = await signUpAndLogin('guess@example.com');
    const { totp, renewed } = await enrolTotp(login);
    for (let i = 0; i < 10; i++) {
      const wrong = await auth('/v1/mfa/step-up', { token: renewed.access_token, body: { code: '000000' } });
      expect(wrong.status).toBe(401);
    }
    const blocked = await auth('/v1/mfa/step-up', {
      token: renewed.access_token,
      body: { code: nextCode(totp) },
    });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // The same budget guards the second step of a login.
    const second = await auth('/v1/login', {
      body: { email: 'guess@example.com', password: PASSWORD, mode: 'token' },
    });
    const challenge = second.body.challenge as string;
    const verify = await auth('/v1/mfa/verify', { body: { challenge, code: nextCode(totp) } });
    expect(verify.status).toBe(429);
    // After the window, a recovery code steps up, once.
    server.clock.advance(15 * 60_000);
    const refreshed = await auth('/v1/refresh', { body: { refresh_token: renewed.refresh_token } });
    expect(refreshed.status).toBe(200);
    const token = (refreshed.body as unknown as SignedIn).access_token;
    const [recoveryCode] = (renewed as SignedIn & { recovery_codes: string[] }).recovery_codes;
    const stepped = await auth('/v1/mfa/step-up', { token, body: { recovery_code: recoveryCode } });
    expect(stepped.status).toBe(200);
    const up = stepped.body as unknown as SignedIn;
    expect(up.session).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], acr: 'mfa' });
    expect((await pay(up.access_token)).status).toBe(200);
    const reused = await auth('/v1/mfa/step-up', {
      token: up.access_token,
      body: { recovery_code: recoveryCode },
    });
    expect(reused).toMatchObject({ status: 401, body: { code: 'invalid_code' } });
  });
});
