/**
 * The mail flows end to end against a real SMTP server in process: the link or code is read out
 * of the delivered mail. Plus the attacks on reset links, SMTP down then up, and the link's base
 * (configuration, never the request's Host).
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createSMTPTransport } from '../../src/mail/smtp.js';
import { createAppOn, ISSUER, PASSWORD, type TestApp } from './mail-app.js';
import { startSMTPServer, tokenFrom, type TestSMTPServer } from '../helpers/smtp.js';

const NEW_PASSWORD = 'a brand new passphrase 42';

let smtp: TestSMTPServer;
let t: TestApp;

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: path,
    payload: body as object,
    headers: { origin: ISSUER, ...headers },
  });
}

async function deliver(): Promise<number> {
  return t.latchkey.mailWorker.runOnce();
}

async function signUpAndLogin(email = 'ada@example.com'): Promise<string> {
  expect((await post('/v1/signup', { email, password: PASSWORD })).statusCode).toBe(201);
  const login = await post('/v1/login', { email, password: PASSWORD, mode: 'token' });
  expect(login.statusCode).toBe(200);
  return login.json<{ access_token: string }>().access_token;
}

describe('mail flows over SMTP', () => {
  beforeEach(async () => {
    smtp = await startSMTPServer();
    t = await createAppOn({
      transport: createSMTPTransport({
        url: `smtp://127.0.0.1:${smtp.port}`,
        from: 'Latchkey <no-reply@example.test>',
      }),
    });
  });
  afterEach(async () => {
    await t.close();
    await smtp.close();
  });

  it('resets a password from the mailed link, revokes every session and mails "password changed"', async () => {
    const access = await signUpAndLogin();
    const forgot = await post('/v1/password/forgot', { email: 'Ada@Example.com' }, { host: 'evil.example' });
    expect(forgot.statusCode).toBe(202);
    await deliver();
    const text = smtp.texts().find((m) => /Reset your Latchkey password/.test(m)) ?? '';
    // Host-header poisoning: the link's base is the configured issuer.
    expect(text).toContain(`${ISSUER}/reset?token=`);
    expect(text).not.toContain('evil.example');
    const token = tokenFrom(smtp, /Reset your/);
    // The token is no credential: not a bearer token, not a session cookie.
    expect(
      (await t.app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${token}` } })).statusCode,
    ).toBe(401);
    expect(
      (
        await t.app.inject({
          url: '/v1/me',
          cookies: { __Host_latchkey_session: token, '__Host-latchkey_session': token },
        })
      ).statusCode,
    ).toBe(401);
    // One character changed.
    const changed = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    expect(
      (await post('/v1/password/reset', { token: changed, password: NEW_PASSWORD })).json(),
    ).toMatchObject({ code: 'invalid_link' });

    expect((await post('/v1/password/reset', { token, password: NEW_PASSWORD })).statusCode).toBe(204);
    expect(
      (await t.app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${access}` } })).statusCode,
    ).toBe(401);
    const reused = await post('/v1/password/reset', { token, password: 'yet another passphrase 7' });
    expect(reused.statusCode).toBe(400);
    expect(reused.json()).toMatchObject({ code: 'invalid_link' });
    expect((await post('/v1/login', { email: 'ada@example.com', password: NEW_PASSWORD })).statusCode).toBe(
      200,
    );
    await deliver();
    expect(smtp.texts().some((m) => /Your Latchkey password was changed/.test(m))).toBe(true);
    // The log says a mail went out, never its link.
    const logs = t.logs.join('');
    expect(logs).toContain('"event":"mail.sent"');
    expect(logs).not.toContain(token);
  });

  it('refuses expired, superseded and foreign tokens, and a link older than a password change', async () => {
    await signUpAndLogin();
    await post('/v1/password/forgot', { email: 'ada@example.com' });
    await deliver();
    const first = tokenFrom(smtp, /Reset your/);
    await post('/v1/password/forgot', { email: 'ada@example.com' });
    await deliver();
    const second = tokenFrom(smtp, /Reset your/);
    expect(second).not.toBe(first);
    expect((await post('/v1/password/reset', { token: first, password: NEW_PASSWORD })).json()).toMatchObject(
      { code: 'invalid_link' },
    );
    // A verification token is for another purpose.
    const verification = tokenFrom(smtp, /Verify your email/);
    expect(
      (await post('/v1/password/reset', { token: verification, password: NEW_PASSWORD })).json(),
    ).toMatchObject({ code: 'invalid_link' });
    t.clock.advance(31 * 60_000);
    expect(
      (await post('/v1/password/reset', { token: second, password: NEW_PASSWORD })).json(),
    ).toMatchObject({ code: 'invalid_link' });
    // A password change kills the links issued before it.
    const access = (
      await post('/v1/login', { email: 'ada@example.com', password: PASSWORD, mode: 'token' })
    ).json<{ access_token: string }>().access_token;
    await post('/v1/password/forgot', { email: 'ada@example.com' });
    await deliver();
    const beforeChange = tokenFrom(smtp, /Reset your/);
    const changed = await post(
      '/v1/password',
      { current_password: PASSWORD, new_password: 'changed by the owner 1' },
      { authorization: `Bearer ${access}` },
    );
    expect(changed.statusCode).toBe(200);
    expect(
      (await post('/v1/password/reset', { token: beforeChange, password: NEW_PASSWORD })).json(),
    ).toMatchObject({
      code: 'invalid_link',
    });
  });

  it('answers forgot for an unknown address exactly like a known one, and sends nothing', async () => {
    await signUpAndLogin();
    await deliver();
    const before = smtp.messages.length;
    const unknown = await post('/v1/password/forgot', { email: 'nobody@example.com' });
    expect(unknown.statusCode).toBe(202);
    const known = await post('/v1/password/forgot', { email: 'ada@example.com' });
    expect(unknown.body).toBe(known.body);
    await deliver();
    expect(smtp.messages.length).toBe(before + 1);
  });

  it('throttles forgot per address with 429 and Retry-After, without telling whether it exists', async () => {
    for (let i = 0; i < 3; i += 1)
      expect((await post('/v1/password/forgot', { email: 'who@example.com' })).statusCode).toBe(202);
    const refused = await post('/v1/password/forgot', { email: 'who@example.com' });
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);
    // Bounded: after the window the address may ask again.
    t.clock.advance(15 * 60_000);
    expect((await post('/v1/password/forgot', { email: 'who@example.com' })).statusCode).toBe(202);
  });

  it('throttles one client across addresses, without spending the victim address budget', async () => {
    const from = async (ip: string, email: string): Promise<number> =>
      (
        await t.app.inject({
          method: 'POST',
          url: '/v1/password/forgot',
          payload: { email },
          headers: { origin: ISSUER },
          remoteAddress: ip,
        })
      ).statusCode;
    for (let i = 0; i < 30; i += 1) expect(await from('198.51.100.7', `target${i}@example.com`)).toBe(202);
    expect(await from('198.51.100.7', 'victim@example.com')).toBe(429);
    expect(await from('198.51.100.8', 'victim@example.com')).toBe(202);
    expect(await from('198.51.100.9', 'victim@example.com')).toBe(202);
    expect(await from('198.51.100.10', 'victim@example.com')).toBe(202);
  });

  it('signs in by link while the password login of the account is throttled', async () => {
    await signUpAndLogin();
    let status = 0;
    for (let i = 0; i < 8 && status !== 429; i += 1) {
      status = (await post('/v1/login', { email: 'ada@example.com', password: 'not the password!' }))
        .statusCode;
    }
    expect(status).toBe(429);
    expect((await post('/v1/login', { email: 'ada@example.com', password: PASSWORD })).statusCode).toBe(429);
    const asked = await post('/v1/login/link', { email: 'ada@example.com' });
    await deliver();
    const token = tokenFrom(smtp, /Sign in to/);
    const binding = asked.cookies.find((c) => c.name.endsWith('latchkey_link'));
    const redeemed = await t.app.inject({
      method: 'POST',
      url: '/v1/login/link/redeem',
      payload: { token },
      headers: { origin: ISSUER },
      cookies: { [binding?.name ?? '']: binding?.value ?? '' },
    });
    expect(redeemed.statusCode).toBe(200);
  });

  it('signs in with a mailed link (same browser), asks another device to confirm, and with the code', async () => {
    await signUpAndLogin();
    const asked = await post('/v1/login/link', { email: 'ada@example.com' });
    expect(asked.statusCode).toBe(202);
    const binding = asked.cookies.find((c) => c.name.endsWith('latchkey_link'));
    expect(binding).toBeDefined();
    await deliver();
    const token = tokenFrom(smtp, /Sign in to/);
    const elsewhere = await post('/v1/login/link/redeem', { token });
    expect(elsewhere.json()).toMatchObject({ code: 'confirmation_required' });
    const same = await t.app.inject({
      method: 'POST',
      url: '/v1/login/link/redeem',
      payload: { token, mode: 'token' },
      headers: { origin: ISSUER },
      cookies: { [binding?.name ?? '']: binding?.value ?? '' },
    });
    expect(same.statusCode).toBe(200);
    expect(same.json()).toMatchObject({ token_type: 'Bearer', user: { email_verified: true } });
    expect((await post('/v1/login/link/redeem', { token, confirm: true })).json()).toMatchObject({
      code: 'invalid_link',
    });

    await post('/v1/login/link', { email: 'ada@example.com' });
    await deliver();
    const code = /enter this code where you asked for it: (\d{6})/.exec(smtp.texts().at(-1) ?? '')?.[1] ?? '';
    expect(code).toMatch(/^\d{6}$/);
    const wrong = code === '000000' ? '000001' : '000000';
    expect((await post('/v1/login/code', { email: 'ada@example.com', code: wrong })).json()).toMatchObject({
      code: 'invalid_link',
    });
    const signedIn = await post('/v1/login/code', { email: 'ada@example.com', code, mode: 'token' });
    expect(signedIn.statusCode).toBe(200);
    // A mailbox is one factor, and not a one-time password in the RFC 8176 sense.
    expect(signedIn.json()).toMatchObject({ session: { amr: ['email'], acr: '1' } });
  });
});

describe('email change over SMTP', () => {
  beforeEach(async () => {
    smtp = await startSMTPServer();
    t = await createAppOn({
      transport: createSMTPTransport({
        url: `smtp://127.0.0.1:${smtp.port}`,
        from: 'x <no-reply@example.test>',
      }),
    });
  });
  afterEach(async () => {
    await t.close();
    await smtp.close();
  });

  it('mails the new address, changes on confirm, tells the old one; a cookie session needs its CSRF token', async () => {
    const access = await signUpAndLogin();
    const cookieLogin = await post('/v1/login', { email: 'ada@example.com', password: PASSWORD });
    const session = cookieLogin.cookies.find((c) => c.name.endsWith('latchkey_session'));
    const noCSRF = await t.app.inject({
      method: 'POST',
      url: '/v1/email/change',
      payload: { email: 'ada@new.example', password: PASSWORD },
      headers: { origin: ISSUER },
      cookies: { [session?.name ?? '']: session?.value ?? '' },
    });
    expect(noCSRF.statusCode).toBe(403);
    const bearer = { authorization: `Bearer ${access}` };
    expect(
      (await post('/v1/email/change', { email: 'ada@new.example', password: 'wrong password!!' }, bearer))
        .statusCode,
    ).toBe(401);
    expect(
      (await post('/v1/email/change', { email: 'Ada@New.example', password: PASSWORD }, bearer)).statusCode,
    ).toBe(202);
    await deliver();
    const confirmMail = smtp.messages.find((m) => /Confirm your new email address/.test(m)) ?? '';
    expect(confirmMail).toMatch(/^To: ada@new\.example/m);
    const token = tokenFrom(smtp, /Confirm your new email/);
    const confirmed = await post('/v1/email/change/confirm', { token });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json()).toMatchObject({ user: { email: 'ada@new.example', email_verified: true } });
    expect((await post('/v1/email/change/confirm', { token })).json()).toMatchObject({
      code: 'invalid_link',
    });
    await deliver();
    const notice =
      smtp.messages.find((m) => /email address of your Latchkey account was changed/.test(m)) ?? '';
    expect(notice).toMatch(/^To: ada@example\.com/m);
    expect((await post('/v1/login', { email: 'ada@new.example', password: PASSWORD })).statusCode).toBe(200);
    expect((await post('/v1/login', { email: 'ada@example.com', password: PASSWORD })).statusCode).toBe(401);
  });
});

describe('mail delivery when SMTP is down', () => {
  it('queues the mail, answers the request, and delivers once the server is back', async () => {
    const probe = await startSMTPServer();
    const { port } = probe;
    await probe.close();
    t = await createAppOn({
      transport: createSMTPTransport({
        url: `smtp://127.0.0.1:${port}`,
        from: 'x <no-reply@example.test>',
        timeoutMs: 2_000,
      }),
    });
    try {
      await signUpAndLogin();
      expect((await post('/v1/password/forgot', { email: 'ada@example.com' })).statusCode).toBe(202);
      expect(await deliver()).toBe(0);
      const queued = await t.store.listMails({ limit: 10, status: 'queued' });
      expect(queued.length).toBe(2);
      expect(queued[0]).toMatchObject({ attempts: 1, lastError: expect.stringMatching(/^SMTP/) as unknown });
      smtp = await startSMTPServer(port);
      t.clock.advance(60_000);
      expect(await deliver()).toBe(2);
      expect(smtp.texts().some((m) => /Reset your/.test(m))).toBe(true);
      expect(await t.store.listMails({ limit: 10, status: 'queued' })).toEqual([]);
      await smtp.close();
    } finally {
      await t.close();
    }
  });
});
