/**
 * Passkey sign-ups and the mail flows, against a real SMTP server in process: under
 * LATCHKEY_EMAIL_VERIFICATION=required the answer does not tell whether the address has an
 * account, and the passkey signs in only once the address is verified; an account without a
 * password gets one through the reset link; and a reset of an unverified account removes the
 * passkeys someone added before anybody proved the mailbox (account pre-hijacking).
 */

import { afterEach, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createSMTPTransport } from '../../src/mail/smtp.js';
import type { EmailVerificationSetting } from '../../src/config/mail.js';
import { json } from '../helpers/app.js';
import { createSoftAuthenticator, type SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { startSMTPServer, tokenFrom, type TestSMTPServer } from '../helpers/smtp.js';
import { createAppOn, ISSUER, PASSWORD, type TestApp } from './mail-app.js';

let smtp: TestSMTPServer;
let t: TestApp;

async function start(emailVerification: EmailVerificationSetting): Promise<void> {
  smtp = await startSMTPServer();
  t = await createAppOn({
    transport: createSMTPTransport({
      url: `smtp://127.0.0.1:${smtp.port}`,
      from: 'Latchkey <no-reply@example.test>',
    }),
    mail: { emailVerification },
  });
}
afterEach(async () => {
  await t.close();
  await smtp.close();
});

async function post(url: string, payload: unknown): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url, payload: payload as object, headers: { origin: ISSUER } });
}

async function passkeySignup(
  email: string,
  authenticator: SoftAuthenticator,
): Promise<LightMyRequestResponse> {
  const options = await post('/v1/passkeys/signup/options', { email });
  expect(options.statusCode).toBe(200);
  const response = authenticator.create(json(options));
  return post('/v1/passkeys/signup', { response, mode: 'token' });
}

async function passkeyLogin(authenticator: SoftAuthenticator): Promise<LightMyRequestResponse> {
  const options = json<{ challenge: string }>(await post('/v1/passkeys/login/options', {}));
  return post('/v1/passkeys/login', { response: authenticator.get(options), mode: 'token' });
}

async function delivered(): Promise<string[]> {
  await t.latchkey.mailWorker.runOnce();
  return smtp.texts();
}

describe('passkey sign-up under LATCHKEY_EMAIL_VERIFICATION=required', () => {
  it('answers a new and a taken address alike; the new one signs in once verified', async () => {
    await start('required');
    expect((await post('/v1/signup', { email: 'bob@example.com', password: PASSWORD })).statusCode).toBe(202);
    const bobKey = createSoftAuthenticator(ISSUER);
    const taken = await passkeySignup('bob@example.com', bobKey);
    const adaKey = createSoftAuthenticator(ISSUER);
    const fresh = await passkeySignup('ada@example.com', adaKey);
    for (const answer of [taken, fresh]) {
      expect(answer.statusCode).toBe(202);
      expect(answer.headers['set-cookie']).toBeUndefined();
    }
    expect(taken.body).toBe(fresh.body);
    // The owner of the taken address is told; the attempt's passkey is not stored.
    const mails = await delivered();
    expect(mails.some((m) => m.includes('To: bob@example.com') && /Someone tried to sign up/.test(m))).toBe(
      true,
    );
    expect(await t.store.getPasskey(bobKey.ids[0] ?? '')).toBeNull();

    // Unverified: the passkey does not sign in, like a password login would not.
    const early = await passkeyLogin(adaKey);
    expect(early.statusCode).toBe(403);
    expect(json<{ code: string }>(early).code).toBe('email_unverified');
    const verifyMail = mails.filter((m) => m.includes('To: ada@example.com') && /Verify your email/.test(m));
    expect(verifyMail).toHaveLength(1);
    const token = tokenFrom(smtp, /To: ada@example.com[\s\S]*Verify your email/);
    expect((await post('/v1/email/verify', { token })).statusCode).toBeLessThan(300);
    expect((await passkeyLogin(adaKey)).statusCode).toBe(200);
  });
});

describe('an account without a password and the reset link', () => {
  it('gets a password through /forgot once verified, and keeps its passkey', async () => {
    await start('optional');
    const key = createSoftAuthenticator(ISSUER);
    expect((await passkeySignup('ada@example.com', key)).statusCode).toBe(201);
    await delivered();
    const verify = tokenFrom(smtp, /Verify your email/);
    expect((await post('/v1/email/verify', { token: verify })).statusCode).toBeLessThan(300);
    expect((await post('/v1/password/forgot', { email: 'ada@example.com' })).statusCode).toBe(202);
    await delivered();
    const reset = tokenFrom(smtp, /Reset your/);
    expect(
      (await post('/v1/password/reset', { token: reset, password: 'a brand new passphrase 42' })).statusCode,
    ).toBe(204);
    const login = await post('/v1/login', {
      email: 'ada@example.com',
      password: 'a brand new passphrase 42',
    });
    expect(login.statusCode).toBe(200);
    expect((await passkeyLogin(key)).statusCode).toBe(200);
  });

  it('drops the passkeys of an unverified account on reset: a squatter of the address keeps no way in', async () => {
    await start('optional');
    const squatter = createSoftAuthenticator(ISSUER);
    expect((await passkeySignup('victim@example.com', squatter)).statusCode).toBe(201);
    // The real owner cannot sign up (409) and takes the account back through the reset link.
    expect((await post('/v1/signup', { email: 'victim@example.com', password: PASSWORD })).statusCode).toBe(
      409,
    );
    expect((await post('/v1/password/forgot', { email: 'victim@example.com' })).statusCode).toBe(202);
    await delivered();
    const reset = tokenFrom(smtp, /Reset your/);
    expect((await post('/v1/password/reset', { token: reset, password: PASSWORD })).statusCode).toBe(204);
    const user = await t.store.getUserByEmail('victim@example.com');
    expect(await t.store.listPasskeys(user?.id ?? '')).toEqual([]);
    expect((await passkeyLogin(squatter)).statusCode).toBe(401);
    expect((await post('/v1/login', { email: 'victim@example.com', password: PASSWORD })).statusCode).toBe(
      200,
    );
  });
});
