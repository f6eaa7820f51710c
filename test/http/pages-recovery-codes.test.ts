/**
 * Replacing the recovery codes from /account/security, without JS: how many are left, the form
 * (password and a code, CSRF), the new codes shown once in the answer, the old ones dead.
 */

import * as OTPAuth from 'otpauth';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, PASSWORD, signup, type TestApp } from '../helpers/app.js';
import type { CookieJar } from '../helpers/pages.js';
import { formToken, getPage, postForm, signInWithForm } from '../helpers/pages.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
  await signup(t.app, 'ada@example.com');
});
afterEach(async () => {
  await t.close();
});

function field(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (match?.[1] === undefined) throw new Error(`no ${name} field in the page`);
  return match[1];
}

function recoveryCodesOf(html: string): string[] {
  return [...html.matchAll(/<li><code>([A-Z0-9-]+)<\/code><\/li>/g)].map((m) => m[1] ?? '');
}

function codesLeftOf(html: string): string {
  return /<p id="codes-left">([^<]*)/.exec(html)?.[1] ?? '';
}

async function turnOn(): Promise<{ jar: CookieJar; totp: OTPAuth.TOTP; codes: string[] }> {
  const { jar, token } = await signInWithForm(t.app, 'ada@example.com', PASSWORD);
  await postForm(t.app, jar, '/account/security/totp', { csrf_token: token });
  const page = (await getPage(t.app, jar, '/account/security/totp')).body;
  const secret = (/id="totp-secret">([A-Z2-7 ]+)</.exec(page)?.[1] ?? '').replace(/ /g, '');
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 });
  const confirmed = await postForm(t.app, jar, '/account/security/totp/confirm', {
    csrf_token: formToken(page),
    factor_id: field(page, 'factor_id'),
    code: totp.generate({ timestamp: t.clock() }),
  });
  return { jar, totp, codes: recoveryCodesOf(confirmed.body) };
}

describe('recovery codes on /account/security', () => {
  it('shows how many are left and replaces them with the password and a code, shown once', async () => {
    const { jar, totp, codes } = await turnOn();
    const status = await getPage(t.app, jar, '/account/security');
    expect(codesLeftOf(status.body)).toBe('10 unused recovery codes left.');
    expect(status.body).toContain('action="/account/security/recovery-codes"');

    t.clock.advance(30_000);
    const answer = await postForm(t.app, jar, '/account/security/recovery-codes', {
      csrf_token: formToken(status.body),
      password: PASSWORD,
      code: totp.generate({ timestamp: t.clock() }),
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.body).toContain('Your new recovery codes');
    expect(answer.body).toContain('Your old codes no longer work.');
    const fresh = recoveryCodesOf(answer.body);
    expect(fresh).toHaveLength(10);
    expect(fresh.filter((code) => codes.includes(code))).toEqual([]);
    // Shown once: the status page never shows them again.
    const after = await getPage(t.app, jar, '/account/security');
    for (const code of fresh) expect(after.body).not.toContain(code);
    expect(codesLeftOf(after.body)).toBe('10 unused recovery codes left.');
  });

  it('takes a recovery code as the proof (a lost phone)', async () => {
    const { jar, codes } = await turnOn();
    const status = await getPage(t.app, jar, '/account/security');
    const answer = await postForm(t.app, jar, '/account/security/recovery-codes', {
      csrf_token: formToken(status.body),
      password: PASSWORD,
      code: codes[0] ?? '',
    });
    expect(answer.statusCode).toBe(200);
    expect(recoveryCodesOf(answer.body)).toHaveLength(10);
  });

  it('refuses a wrong password, a wrong code and a missing CSRF token in words, and replaces nothing', async () => {
    const { jar, totp, codes } = await turnOn();
    const status = await getPage(t.app, jar, '/account/security');
    t.clock.advance(30_000);
    const code = totp.generate({ timestamp: t.clock() });
    const wrongPassword = await postForm(t.app, jar, '/account/security/recovery-codes', {
      csrf_token: formToken(status.body),
      password: 'not the password',
      code,
    });
    expect(wrongPassword.statusCode).toBe(401);
    expect(wrongPassword.body).toContain('The password is incorrect.');
    const wrongCode = await postForm(t.app, jar, '/account/security/recovery-codes', {
      csrf_token: formToken(status.body),
      password: PASSWORD,
      code: '000000',
    });
    expect(wrongCode.statusCode).toBe(401);
    expect(wrongCode.body).toContain('The code is incorrect.');
    const forged = await postForm(t.app, jar, '/account/security/recovery-codes', {
      csrf_token: 'forged',
      password: PASSWORD,
      code,
    });
    expect(forged.statusCode).toBe(403);
    expect(recoveryCodesOf(forged.body)).toEqual([]);
    // The first code still finishes a login: nothing was replaced.
    const user = await t.store.getUserByEmail('ada@example.com');
    expect(await t.store.countOneTimeTokens(user?.id ?? '', 'recovery_code', t.clock())).toBe(10);
    expect(codes).toHaveLength(10);
  });

  it('says so when two-factor authentication is off (a stale tab)', async () => {
    const { jar, token } = await signInWithForm(t.app, 'ada@example.com', PASSWORD);
    const answer = await postForm(t.app, jar, '/account/security/recovery-codes', {
      csrf_token: token,
      password: PASSWORD,
      code: '123456',
    });
    expect(answer.statusCode).toBe(404);
    expect(answer.body).toContain('there are no codes to replace');
  });
});
