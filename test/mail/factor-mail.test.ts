/**
 * "Your sign-in methods changed" mails, read from a real SMTP server in process: a TOTP factor
 * added and removed, a passkey added and removed, the recovery codes replaced. Each mail names
 * the change and holds no secret (no TOTP secret, no code, no token). And the replacement of the
 * recovery codes itself: the proof it needs, the old codes dead, the count left.
 */

import * as OTPAuth from 'otpauth';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createSMTPTransport } from '../../src/mail/smtp.js';
import { json } from '../helpers/app.js';
import { createSoftAuthenticator } from '../helpers/soft-authenticator.js';
import { startSMTPServer, type TestSMTPServer } from '../helpers/smtp.js';
import { createAppOn, ISSUER, PASSWORD, type TestApp } from './mail-app.js';

let smtp: TestSMTPServer;
let t: TestApp;

async function post(path: string, body: unknown, token?: string): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: path,
    payload: body as object,
    headers: { origin: ISSUER, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
  });
}

/** The delivered mails whose subject matches. */
async function mailsAbout(subject: RegExp): Promise<string[]> {
  await t.latchkey.mailWorker.runOnce();
  return smtp.texts().filter((text) => subject.test(text));
}

interface Enrolled {
  totp: OTPAuth.TOTP;
  secret: string;
  token: string;
  codes: string[];
  factorId: string;
}

async function signUpAndEnrol(email = 'ada@example.com'): Promise<Enrolled> {
  expect((await post('/v1/signup', { email, password: PASSWORD })).statusCode).toBe(201);
  const login = json<{ access_token: string }>(
    await post('/v1/login', { email, password: PASSWORD, mode: 'token' }),
  );
  const started = json<{ factor: { id: string }; secret: string; otpauth_uri: string }>(
    await post('/v1/mfa/totp', {}, login.access_token),
  );
  const totp = OTPAuth.URI.parse(started.otpauth_uri) as OTPAuth.TOTP;
  const confirmed = await post(
    '/v1/mfa/totp/confirm',
    { factor_id: started.factor.id, code: totp.generate({ timestamp: t.clock() }) },
    login.access_token,
  );
  expect(confirmed.statusCode).toBe(200);
  const body = json<{ access_token: string; recovery_codes: string[] }>(confirmed);
  return {
    totp,
    secret: started.secret,
    token: body.access_token,
    codes: body.recovery_codes,
    factorId: started.factor.id,
  };
}

/** No secret of the account in a mail: the TOTP secret (either form), a code, a token. */
function expectNoSecret(text: string, secrets: string[]): void {
  for (const secret of secrets) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/otpauth:|token=/);
}

function nextCode(totp: OTPAuth.TOTP): string {
  t.clock.advance(30_000);
  return totp.generate({ timestamp: t.clock() });
}

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

describe('mails when the sign-in methods change', () => {
  it('tells the owner a TOTP factor was added, then removed, with no secret in either mail', async () => {
    const enrolled = await signUpAndEnrol();
    const [added, ...more] = await mailsAbout(/A second factor was added to your Latchkey account/);
    expect(more).toHaveLength(0);
    expect(added).toContain('To: ada@example.com');
    expect(added).toContain('authenticator app (TOTP) was added');
    expect(added).toContain(`${ISSUER}/account/security`);
    expect(added).toContain(`${ISSUER}/forgot`);
    const secrets = [enrolled.secret, enrolled.totp.secret.hex, enrolled.token, ...enrolled.codes];
    expectNoSecret(added ?? '', secrets);

    const removed = await post(
      '/v1/mfa/remove',
      { factor_id: enrolled.factorId, password: PASSWORD, code: nextCode(enrolled.totp) },
      enrolled.token,
    );
    expect(removed.statusCode).toBe(200);
    const [gone] = await mailsAbout(/A second factor was removed from your Latchkey account/);
    expect(gone).toContain('was removed');
    expectNoSecret(gone ?? '', [...secrets, json<{ access_token: string }>(removed).access_token]);
  });

  it('sends no mail for a refused change (wrong password, wrong code)', async () => {
    const enrolled = await signUpAndEnrol();
    const before = (await mailsAbout(/./)).length;
    const wrong = await post(
      '/v1/mfa/remove',
      { factor_id: enrolled.factorId, password: 'not the password', code: nextCode(enrolled.totp) },
      enrolled.token,
    );
    expect(wrong.statusCode).toBe(401);
    const badCode = await post(
      '/v1/mfa/remove',
      { factor_id: enrolled.factorId, password: PASSWORD, code: '000000' },
      enrolled.token,
    );
    expect(badCode.statusCode).toBe(401);
    expect((await mailsAbout(/./)).length).toBe(before);
  });

  it('tells the owner a passkey was added, then removed', async () => {
    expect((await post('/v1/signup', { email: 'bo@example.com', password: PASSWORD })).statusCode).toBe(201);
    const login = json<{ access_token: string }>(
      await post('/v1/login', { email: 'bo@example.com', password: PASSWORD, mode: 'token' }),
    );
    const authenticator = createSoftAuthenticator(ISSUER);
    const options = json<{ challenge: string; rp: { id: string }; user: { id: string } }>(
      await post('/v1/passkeys/register/options', {}, login.access_token),
    );
    const registered = await post(
      '/v1/passkeys/register',
      { response: authenticator.create(options), name: 'Laptop' },
      login.access_token,
    );
    expect(registered.statusCode).toBe(201);
    const renewed = json<{ access_token: string; passkey: { id: string } }>(registered);
    const [added] = await mailsAbout(/A passkey was added to your Latchkey account/);
    expect(added).toContain('To: bo@example.com');
    expect(added).toContain(`${ISSUER}/account/passkeys`);
    // Not even the name the user gave it, nor the credential id.
    expectNoSecret(added ?? '', [renewed.access_token, 'Laptop', renewed.passkey.id]);

    const removed = await post(
      `/v1/passkeys/${renewed.passkey.id}/remove`,
      { password: PASSWORD },
      renewed.access_token,
    );
    expect(removed.statusCode).toBe(200);
    const [gone] = await mailsAbout(/A passkey was removed from your Latchkey account/);
    expect(gone).toContain('To: bo@example.com');
  });
});

describe('replacing the recovery codes', () => {
  it('needs the password and a code, returns 10 new codes, kills the old ones and mails the owner', async () => {
    const enrolled = await signUpAndEnrol();
    const left = async (): Promise<number> =>
      json<{ recovery_codes_left: number }>(
        await t.app.inject({ url: '/v1/mfa', headers: { authorization: `Bearer ${enrolled.token}` } }),
      ).recovery_codes_left;
    expect(await left()).toBe(10);

    // The password alone, a wrong password, a wrong code: refused, nothing replaced.
    expect((await post('/v1/mfa/recovery-codes', { password: PASSWORD }, enrolled.token)).statusCode).toBe(
      400,
    );
    const wrongPassword = await post(
      '/v1/mfa/recovery-codes',
      { password: 'not the password', code: nextCode(enrolled.totp) },
      enrolled.token,
    );
    expect(wrongPassword.statusCode).toBe(401);
    const wrongCode = await post(
      '/v1/mfa/recovery-codes',
      { password: PASSWORD, code: '000000' },
      enrolled.token,
    );
    expect(json<{ code: string }>(wrongCode).code).toBe('invalid_code');
    // Without a session: no.
    expect((await post('/v1/mfa/recovery-codes', { password: PASSWORD, code: '123456' })).statusCode).toBe(
      401,
    );

    const replaced = await post(
      '/v1/mfa/recovery-codes',
      { password: PASSWORD, code: nextCode(enrolled.totp) },
      enrolled.token,
    );
    expect(replaced.statusCode).toBe(200);
    expect(replaced.headers['cache-control']).toBe('no-store');
    const fresh = json<{ recovery_codes: string[] }>(replaced).recovery_codes;
    expect(fresh).toHaveLength(10);
    expect(new Set(fresh).size).toBe(10);
    expect(fresh.filter((code) => enrolled.codes.includes(code))).toEqual([]);
    expect(await left()).toBe(10);

    const [mail] = await mailsAbout(/New recovery codes for your Latchkey account/);
    expect(mail).toContain('the old ones no longer work');
    expectNoSecret(mail ?? '', [...fresh, ...enrolled.codes, enrolled.secret]);

    // An old code no longer finishes a login; a new one does, once.
    const challenge = async (): Promise<string> =>
      json<{ challenge: string }>(
        await post('/v1/login', { email: 'ada@example.com', password: PASSWORD, mode: 'token' }),
      ).challenge;
    const old = await post('/v1/mfa/verify', {
      challenge: await challenge(),
      recovery_code: enrolled.codes[0],
    });
    expect(old.statusCode).toBe(401);
    const next = await post('/v1/mfa/verify', { challenge: await challenge(), recovery_code: fresh[0] });
    expect(next.statusCode).toBe(200);
    expect(await left()).toBe(9);
  });

  it('takes a recovery code as the proof (a lost phone), and that code is used up', async () => {
    const enrolled = await signUpAndEnrol();
    const [spent] = enrolled.codes;
    const replaced = await post(
      '/v1/mfa/recovery-codes',
      { password: PASSWORD, recovery_code: spent },
      enrolled.token,
    );
    expect(replaced.statusCode).toBe(200);
    const again = await post(
      '/v1/mfa/recovery-codes',
      { password: PASSWORD, recovery_code: spent },
      enrolled.token,
    );
    expect(json<{ code: string }>(again).code).toBe('invalid_code');
  });

  it('counts wrong codes against the account: 429 after 10, even with the right password', async () => {
    const enrolled = await signUpAndEnrol();
    for (let i = 0; i < 10; i += 1) {
      const wrong = await post(
        '/v1/mfa/recovery-codes',
        { password: PASSWORD, code: '000000' },
        enrolled.token,
      );
      expect(wrong.statusCode).toBe(401);
    }
    const throttled = await post(
      '/v1/mfa/recovery-codes',
      { password: PASSWORD, code: nextCode(enrolled.totp) },
      enrolled.token,
    );
    expect(throttled.statusCode).toBe(429);
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('is refused without a second factor (there are no codes to replace)', async () => {
    expect((await post('/v1/signup', { email: 'cy@example.com', password: PASSWORD })).statusCode).toBe(201);
    const login = json<{ access_token: string }>(
      await post('/v1/login', { email: 'cy@example.com', password: PASSWORD, mode: 'token' }),
    );
    const answer = await post(
      '/v1/mfa/recovery-codes',
      { password: PASSWORD, code: '123456' },
      login.access_token,
    );
    expect(answer.statusCode).toBe(404);
    const listed = json<{ recovery_codes_left: number }>(
      await t.app.inject({ url: '/v1/mfa', headers: { authorization: `Bearer ${login.access_token}` } }),
    );
    expect(listed.recovery_codes_left).toBe(0);
  });
});
