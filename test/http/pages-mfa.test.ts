/**
 * The TOTP pages through Fastify inject: setting up from /account/security (QR code, secret,
 * first code, recovery codes once, the session renewed), turning off, and the sign-in's second
 * step (code, recovery code, wrong code, expired challenge), with the CSRF attacks on each form.
 * Codes come from an independent implementation (otpauth) fed the secret read off the page.
 */

import * as OTPAuth from 'otpauth';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { qrMatrix } from '../../src/http/pages/qr-code.js';
import { createTestApp, PASSWORD, setCookies, signup, type TestApp } from '../helpers/app.js';
import { CookieJar, formToken, getPage, postForm, signInWithForm } from '../helpers/pages.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
  await signup(t.app, 'ada@example.com');
  await signup(t.app, 'eve@example.com');
});
afterEach(async () => {
  await t.close();
});

const SESSION = '__Host-latchkey_session';

function field(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (match?.[1] === undefined) throw new Error(`no ${name} field in the page`);
  return match[1];
}

function secretOf(html: string): string {
  const match = /id="totp-secret">([A-Z2-7 ]+)</.exec(html);
  if (match?.[1] === undefined) throw new Error('no secret on the page');
  return match[1].replace(/ /g, '');
}

function totpOf(secret: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 });
}

/** The next step's code: each code is accepted once. */
function nextCode(totp: OTPAuth.TOTP): string {
  t.clock.advance(30_000);
  return totp.generate({ timestamp: t.clock() });
}

function recoveryCodesOf(html: string): string[] {
  return [...html.matchAll(/<li><code>([A-Z0-9-]+)<\/code><\/li>/g)].map((m) => m[1] ?? '');
}

/** Signs in, starts the set-up and returns the set-up page. */
async function startSetup(email = 'ada@example.com'): Promise<{ jar: CookieJar; page: string }> {
  const { jar, token } = await signInWithForm(t.app, email, PASSWORD);
  const started = await postForm(t.app, jar, '/account/security/totp', { csrf_token: token, label: 'Phone' });
  expect(started.statusCode).toBe(303);
  expect(started.headers.location).toBe('/account/security/totp');
  const page = await getPage(t.app, jar, '/account/security/totp');
  expect(page.statusCode).toBe(200);
  return { jar, page: page.body };
}

/** Sets TOTP up through the pages; returns the browser, the app and the recovery codes. */
async function turnOn(
  email = 'ada@example.com',
): Promise<{ jar: CookieJar; totp: OTPAuth.TOTP; codes: string[] }> {
  const { jar, page } = await startSetup(email);
  const totp = totpOf(secretOf(page));
  const confirmed = await postForm(t.app, jar, '/account/security/totp/confirm', {
    csrf_token: formToken(page),
    factor_id: field(page, 'factor_id'),
    code: totp.generate({ timestamp: t.clock() }),
  });
  expect(confirmed.statusCode).toBe(200);
  const codes = recoveryCodesOf(confirmed.body);
  expect(codes).toHaveLength(10);
  return { jar, totp, codes };
}

/** The password step of /login for an account with TOTP: returns the second step's page. */
async function passwordStep(jar: CookieJar, email = 'ada@example.com', remember = false): Promise<string> {
  const login = await getPage(t.app, jar, '/login');
  const fields: Record<string, string> = { email, password: PASSWORD, csrf_token: formToken(login.body) };
  if (remember) fields.remember = 'on';
  const step = await postForm(t.app, jar, '/login', fields);
  expect(step.statusCode).toBe(200);
  expect(step.body).toContain('Two-factor authentication');
  expect(setCookies(step).has(SESSION)).toBe(false);
  return step.body;
}

async function isSignedIn(jar: CookieJar): Promise<boolean> {
  return (await getPage(t.app, jar, '/account')).statusCode === 200;
}

describe('setting up TOTP from the account pages', () => {
  it('links from /account, shows a QR code of the otpauth URI and the secret, then the recovery codes once', async () => {
    const { jar, token } = await signInWithForm(t.app, 'ada@example.com', PASSWORD);
    const account = await getPage(t.app, jar, '/account');
    expect(account.body).toContain('href="/account/security">Off · Manage</a>');
    const off = await getPage(t.app, jar, '/account/security');
    expect(off.body).toContain('<dd id="mfa-status">Off</dd>');

    await postForm(t.app, jar, '/account/security/totp', { csrf_token: token, label: 'Phone <b>' });
    const page = (await getPage(t.app, jar, '/account/security/totp')).body;
    const secret = secretOf(page);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect((await getPage(t.app, jar, '/account/security/totp')).headers['cache-control']).toBe('no-store');
    // The otpauth link and the QR code hold the same URI; the QR code is inline SVG, no image URL.
    const uri = /href="(otpauth:\/\/[^"]+)"/.exec(page)?.[1]?.replace(/&amp;/g, '&') ?? '';
    const parsed = OTPAuth.URI.parse(uri) as OTPAuth.TOTP;
    expect(parsed.secret.base32).toBe(secret);
    expect(parsed.issuer).toBe('Latchkey'); // LATCHKEY_BRAND names the account in the app
    expect(parsed.label).toBe('ada@example.com');
    const svg = /<svg class="lk-qr"[^>]*viewBox="0 0 (\d+) \1"[^>]*>.*?<path d="([^"]+)"/.exec(page);
    const matrix = qrMatrix(uri);
    expect(Number(svg?.[1])).toBe(matrix.length + 8);
    // Every dark module of the encoder's matrix is drawn, and nothing else.
    const drawn = [...(svg?.[2] ?? '').matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)].reduce(
      (sum, m) => sum + Number(m[3]),
      0,
    );
    expect(drawn).toBe(matrix.flat().filter(Boolean).length);
    expect(page).not.toContain('data:');
    expect(page).toContain('autocomplete="one-time-code"');
    expect(page).toContain('inputmode="numeric"');
    // A reload shows the same set-up (the secret is not replaced).
    expect(secretOf((await getPage(t.app, jar, '/account/security/totp')).body)).toBe(secret);

    const totp = totpOf(secret);
    const confirmed = await postForm(t.app, jar, '/account/security/totp/confirm', {
      csrf_token: formToken(page),
      factor_id: field(page, 'factor_id'),
      code: totp.generate({ timestamp: t.clock() }),
    });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.body).toContain('this is the only time they are shown');
    // Pages holding a secret are never cached.
    expect(confirmed.headers['cache-control']).toBe('no-store');
    expect((await getPage(t.app, jar, '/account/security')).headers['cache-control']).toBe('no-store');
    const codes = recoveryCodesOf(confirmed.body);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    // The session was renewed: the new cookie is set, the old token is dead, the new one works.
    expect(setCookies(confirmed).has(SESSION)).toBe(true);
    expect(formToken(confirmed.body)).not.toBe(token);
    const status = await getPage(t.app, jar, '/account/security?notice=mfa_enabled');
    expect(status.statusCode).toBe(200);
    expect(status.body).toContain('<dd id="mfa-status">On</dd>');
    expect(status.body).toContain('Phone &lt;b>');
    expect(status.body).toContain('Two-factor authentication is on.');
    // Shown once: nothing shows the codes or the secret again.
    for (const url of ['/account/security', '/account/security/totp', '/account']) {
      const again = await getPage(t.app, jar, url);
      for (const code of codes) expect(again.body).not.toContain(code);
      expect(again.body).not.toContain(secret.slice(0, 8));
    }
    expect((await getPage(t.app, jar, '/account/security/totp')).headers.location).toBe('/account/security');
    expect((await getPage(t.app, jar, '/account')).body).toContain('On · Manage');
    // A set-up posted from a stale tab while it is on: said in words, nothing replaced.
    const twice = await postForm(t.app, jar, '/account/security/totp', {
      csrf_token: formToken(status.body),
    });
    expect(twice.statusCode).toBe(409);
    expect(twice.body).toContain('Two-factor authentication is already on.');
  });

  it('sets up from a hybrid session too, and renews it in its mode (access and refresh cookies)', async () => {
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'ada@example.com', password: PASSWORD, mode: 'hybrid' },
    });
    const jar = new CookieJar();
    jar.keep(login);
    const status = await getPage(t.app, jar, '/account/security');
    expect(status.statusCode).toBe(200);
    await postForm(t.app, jar, '/account/security/totp', { csrf_token: formToken(status.body) });
    const page = (await getPage(t.app, jar, '/account/security/totp')).body;
    const confirmed = await postForm(t.app, jar, '/account/security/totp/confirm', {
      csrf_token: formToken(page),
      factor_id: field(page, 'factor_id'),
      code: totpOf(secretOf(page)).generate({ timestamp: t.clock() }),
    });
    expect(confirmed.statusCode).toBe(200);
    expect(setCookies(confirmed).has('__Host-latchkey_access')).toBe(true);
    expect(setCookies(confirmed).has('__Secure-latchkey_refresh')).toBe(true);
    expect(recoveryCodesOf(confirmed.body)).toHaveLength(10);
    expect((await getPage(t.app, jar, '/account/security')).body).toContain('<dd id="mfa-status">On</dd>');
  });

  it('says a wrong first code in words, keeps the set-up, and turns nothing on', async () => {
    const { jar, page } = await startSetup();
    const totp = totpOf(secretOf(page));
    const wrong = await postForm(t.app, jar, '/account/security/totp/confirm', {
      csrf_token: formToken(page),
      factor_id: field(page, 'factor_id'),
      code: totp.generate({ timestamp: t.clock() + 10 * 60_000 }),
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain('The code is incorrect. Check the time on your phone and try again.');
    expect(secretOf(wrong.body)).toBe(secretOf(page));
    expect(setCookies(wrong).has(SESSION)).toBe(false);
    // Sign-in still needs only the password.
    const other = await signInWithForm(t.app, 'ada@example.com', PASSWORD);
    expect(await isSignedIn(other.jar)).toBe(true);
  });

  it('refuses each TOTP form without its session token (403), and changes nothing', async () => {
    const { jar, page } = await startSetup();
    const eve = await signInWithForm(t.app, 'eve@example.com', PASSWORD);
    const totp = totpOf(secretOf(page));
    for (const csrf of [undefined, eve.token]) {
      const withToken = (fields: Record<string, string>): Record<string, string> =>
        csrf === undefined ? fields : { ...fields, csrf_token: csrf };
      const enrol = await postForm(t.app, jar, '/account/security/totp', withToken({}));
      expect(enrol.statusCode).toBe(403);
      expect(enrol.body).toContain('This form has expired or was not sent from this site.');
      const confirm = await postForm(
        t.app,
        jar,
        '/account/security/totp/confirm',
        withToken({ factor_id: field(page, 'factor_id'), code: totp.generate({ timestamp: t.clock() }) }),
      );
      expect(confirm.statusCode).toBe(403);
      expect(recoveryCodesOf(confirm.body)).toEqual([]);
    }
    // The set-up is the same one (no new secret) and nothing is on.
    expect(secretOf((await getPage(t.app, jar, '/account/security/totp')).body)).toBe(secretOf(page));
    const user = await t.store.getUserByEmail('ada@example.com');
    expect((await t.store.listFactors(user?.id ?? '')).every((f) => f.confirmedAt === null)).toBe(true);

    const { jar: onJar, totp: on } = await turnOn('eve@example.com');
    const status = (await getPage(t.app, onJar, '/account/security')).body;
    for (const csrf of [undefined, 'forged']) {
      const fields: Record<string, string> = {
        factor_id: field(status, 'factor_id'),
        password: PASSWORD,
        code: nextCode(on),
      };
      if (csrf !== undefined) fields.csrf_token = csrf;
      const refused = await postForm(t.app, onJar, '/account/security/totp/remove', fields);
      expect(refused.statusCode).toBe(403);
    }
    expect((await getPage(t.app, onJar, '/account/security')).body).toContain('<dd id="mfa-status">On</dd>');
  });

  it('turns off with the password and a code or a recovery code; a wrong one is said and changes nothing', async () => {
    const { jar, totp, codes } = await turnOn();
    const other = await signInWithPasswordAndCode(totp);
    const page = (await getPage(t.app, jar, '/account/security')).body;
    const remove = (fields: Record<string, string>) =>
      postForm(t.app, jar, '/account/security/totp/remove', {
        csrf_token: formToken(page),
        factor_id: field(page, 'factor_id'),
        username: 'ada@example.com',
        ...fields,
      });
    const wrongPassword = await remove({ password: 'not the password', code: nextCode(totp) });
    expect(wrongPassword.statusCode).toBe(401);
    expect(wrongPassword.body).toContain('The password is incorrect.');
    const wrongCode = await remove({ password: PASSWORD, code: '000000' });
    expect(wrongCode.statusCode).toBe(401);
    expect(wrongCode.body).toContain('The code is incorrect.');
    const wrongRecovery = await remove({ password: PASSWORD, code: 'AAAA-BBBB-CCCC-DDDD' });
    expect(wrongRecovery.statusCode).toBe(401);
    expect((await getPage(t.app, jar, '/account/security')).body).toContain('<dd id="mfa-status">On</dd>');

    const off = await remove({ password: PASSWORD, code: (codes[3] ?? '').toLowerCase() });
    expect(off.statusCode).toBe(303);
    expect(off.headers.location).toBe('/account/security?notice=mfa_disabled');
    expect(setCookies(off).has(SESSION)).toBe(true);
    const status = await getPage(t.app, jar, '/account/security?notice=mfa_disabled');
    expect(status.body).toContain('<dd id="mfa-status">Off</dd>');
    expect(status.body).toContain('Two-factor authentication is off.');
    // The same form again from a stale tab: said in words.
    const stale = await postForm(t.app, jar, '/account/security/totp/remove', {
      csrf_token: formToken(status.body),
      factor_id: field(page, 'factor_id'),
      password: PASSWORD,
      code: codes[4] ?? '',
    });
    expect(stale.statusCode).toBe(404);
    expect(stale.body).toContain('Two-factor authentication is already off.');
    // The other session was signed out; a new sign-in needs the password only.
    expect(await isSignedIn(other)).toBe(false);
    expect(await isSignedIn((await signInWithForm(t.app, 'ada@example.com', PASSWORD)).jar)).toBe(true);
  });
});

/** A full page sign-in with the password and the app's next code. */
async function signInWithPasswordAndCode(totp: OTPAuth.TOTP, remember = false): Promise<CookieJar> {
  const jar = new CookieJar();
  const step = await passwordStep(jar, 'ada@example.com', remember);
  const done = await postForm(t.app, jar, '/login/verify', {
    csrf_token: formToken(step),
    challenge: field(step, 'challenge'),
    code: nextCode(totp),
  });
  expect(done.statusCode).toBe(303);
  expect(done.headers.location).toBe('/account');
  return jar;
}

describe('the second step of the sign-in page', () => {
  it('asks for the code after the password and signs in with it; "remember me" is carried', async () => {
    const { totp } = await turnOn();
    const jar = new CookieJar();
    const step = await passwordStep(jar, 'ada@example.com', true);
    expect(step).toContain('autocomplete="one-time-code"');
    expect(step).toContain('inputmode="numeric"');
    expect(step).toContain('<summary>Use a recovery code instead</summary>');
    const done = await postForm(t.app, jar, '/login/verify', {
      csrf_token: formToken(step),
      challenge: field(step, 'challenge'),
      code: nextCode(totp),
    });
    expect(done.statusCode).toBe(303);
    const cookie = setCookies(done).get(SESSION);
    expect(cookie?.header).toMatch(/Max-Age=\d+/);
    expect(await isSignedIn(jar)).toBe(true);
    // Without "remember me", a browser-session cookie.
    const plain = new CookieJar();
    const plainStep = await passwordStep(plain);
    const plainDone = await postForm(t.app, plain, '/login/verify', {
      csrf_token: formToken(plainStep),
      challenge: field(plainStep, 'challenge'),
      code: nextCode(totp),
    });
    expect(setCookies(plainDone).get(SESSION)?.header).not.toMatch(/Max-Age/);
  });

  it('signs in with a recovery code once; the same code again is refused', async () => {
    const { codes } = await turnOn();
    const jar = new CookieJar();
    const step = await passwordStep(jar);
    const done = await postForm(t.app, jar, '/login/verify', {
      csrf_token: formToken(step),
      challenge: field(step, 'challenge'),
      recovery_code: codes[0] ?? '',
    });
    expect(done.statusCode).toBe(303);
    expect(await isSignedIn(jar)).toBe(true);

    const again = new CookieJar();
    const step2 = await passwordStep(again);
    const refused = await postForm(t.app, again, '/login/verify', {
      csrf_token: formToken(step2),
      challenge: field(step2, 'challenge'),
      recovery_code: codes[0] ?? '',
    });
    expect(refused.statusCode).toBe(401);
    expect(refused.body).toContain('That recovery code is not valid. 4 tries left.');
    expect(refused.body).toMatch(/<details class="lk-alt" open/);
    expect(setCookies(refused).has(SESSION)).toBe(false);
  });

  it('says a wrong code with the tries left, keeps the step, and after the fifth sends back to the password', async () => {
    const { totp } = await turnOn();
    const jar = new CookieJar();
    let step = await passwordStep(jar);
    const challenge = field(step, 'challenge');
    for (let left = 4; left >= 1; left--) {
      const wrong = await postForm(t.app, jar, '/login/verify', {
        csrf_token: formToken(step),
        challenge,
        code: '000000',
      });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.body).toContain(`The code is incorrect. ${left} ${left === 1 ? 'try' : 'tries'} left.`);
      expect(field(wrong.body, 'challenge')).toBe(challenge);
      step = wrong.body;
    }
    const last = await postForm(t.app, jar, '/login/verify', {
      csrf_token: formToken(step),
      challenge,
      code: '000000',
    });
    expect(last.statusCode).toBe(401);
    expect(last.body).toContain('The code is incorrect, and that was the last try. Sign in again.');
    expect(last.body).toContain('name="password"');
    // The challenge is gone: even the right code cannot use it now.
    const late = await postForm(t.app, jar, '/login/verify', {
      csrf_token: formToken(last.body),
      challenge,
      code: nextCode(totp),
    });
    expect(late.statusCode).toBe(401);
    expect(late.body).toContain('This sign-in has expired or was already used. Sign in again.');
    expect(await isSignedIn(jar)).toBe(false);
  });

  it('sends an expired challenge back to the password, in words', async () => {
    const { totp } = await turnOn();
    const jar = new CookieJar();
    const step = await passwordStep(jar);
    t.clock.advance(5 * 60_000 + 1000);
    const late = await postForm(t.app, jar, '/login/verify', {
      csrf_token: formToken(step),
      challenge: field(step, 'challenge'),
      code: totp.generate({ timestamp: t.clock() }),
    });
    expect(late.statusCode).toBe(401);
    expect(late.body).toContain('This sign-in has expired or was already used. Sign in again.');
    expect(late.body).toContain('name="password"');
    expect(setCookies(late).has(SESSION)).toBe(false);
  });

  it('binds the step to this browser: a missing, foreign or cookie-less token is a 403 and the challenge is not spent', async () => {
    const { totp } = await turnOn();
    const victim = new CookieJar();
    await getPage(t.app, victim, '/login');
    // The attacker signs in to their own account and holds a live challenge and step token.
    const attacker = new CookieJar();
    const attackerStep = await passwordStep(attacker);
    const challenge = field(attackerStep, 'challenge');
    const code = nextCode(totp);
    for (const [what, jar, csrf] of [
      ['missing', victim, undefined],
      ['foreign (the attacker’s token, the victim’s cookie)', victim, formToken(attackerStep)],
      ['no form cookie', new CookieJar(), formToken(attackerStep)],
    ] as const) {
      const fields: Record<string, string> = { challenge, code };
      if (csrf !== undefined) fields.csrf_token = csrf;
      const refused = await postForm(t.app, jar, '/login/verify', fields);
      expect(refused.statusCode, what).toBe(403);
      expect(refused.body, what).toContain('This form has expired or was not sent from this site.');
      expect(refused.body, what).not.toContain(challenge);
      expect(setCookies(refused).has(SESSION), what).toBe(false);
    }
    // Posted from another origin: refused by the cross-site check before any page code runs.
    const crossSite = await postForm(
      t.app,
      attacker,
      '/login/verify',
      { csrf_token: formToken(attackerStep), challenge, code },
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    );
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.body).toContain('cross_site_request');
    expect(await isSignedIn(victim)).toBe(false);
    const refusals = t.logs.filter((line) => line.includes('"event":"csrf.login_refused"'));
    expect(refusals.length).toBeGreaterThanOrEqual(3);
    for (const line of refusals) expect(line).not.toContain(challenge);
    // The challenge was never consumed: its owner (with their own token) finishes with the same code.
    const done = await postForm(t.app, attacker, '/login/verify', {
      csrf_token: formToken(attackerStep),
      challenge,
      code,
    });
    expect(done.statusCode).toBe(303);
  });

  it('refuses a form with both or neither kind of code (400), and a challenge from an API token login', async () => {
    const { totp } = await turnOn();
    const jar = new CookieJar();
    const step = await passwordStep(jar);
    for (const extra of [{}, { code: '123456', recovery_code: 'AAAA-BBBB-CCCC-DDDD' }]) {
      const bad = await postForm(t.app, jar, '/login/verify', {
        csrf_token: formToken(step),
        challenge: field(step, 'challenge'),
        ...extra,
      });
      expect(bad.statusCode).toBe(400);
    }
    const api = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'ada@example.com', password: PASSWORD, mode: 'token' },
    });
    const apiChallenge = (JSON.parse(api.body) as { challenge: string }).challenge;
    const crossed = await postForm(t.app, jar, '/login/verify', {
      csrf_token: formToken(step),
      challenge: apiChallenge,
      code: nextCode(totp),
    });
    expect(crossed.statusCode).toBe(400);
    expect(setCookies(crossed).has(SESSION)).toBe(false);
    const user = await t.store.getUserByEmail('ada@example.com');
    const live = await t.store.listUserSessions(user?.id ?? '', t.clock());
    expect(live.filter((s) => s.mode === 'token')).toEqual([]);
  });
});
