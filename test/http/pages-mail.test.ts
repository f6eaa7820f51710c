/**
 * The pages the mails link to, over HTTP (inject), reading each link out of the mail that was
 * really delivered to an SMTP server in the test process: forgot → reset, verify, sign-in links in
 * the same and in another browser, an email change; a GET never uses a token; a form without its
 * CSRF token changes nothing; the token pages' headers; a token is escaped in the page.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSMTPTransport } from '../../src/mail/smtp.js';
import { createTestApp, ISSUER, PASSWORD, signup, type TestApp } from '../helpers/app.js';
import { CookieJar, formToken, getPage, postForm, signInWithForm } from '../helpers/pages.js';
import { startSMTPServer, type TestSMTPServer } from '../helpers/smtp.js';

const NEW_PASSWORD = 'a brand new passphrase 42';
const EMAIL = 'ada@example.com';

let t: TestApp;
let smtp: TestSMTPServer;

/** The subject of each kind of mail (the product name is the default, Latchkey). */
const SUBJECTS: Record<string, RegExp> = {
  password_reset: /^Subject: Reset your /m,
  verification: /^Subject: Verify your email address/m,
  signin_link: /^Subject: Sign in to /m,
  email_change: /^Subject: Confirm your new email address/m,
};

/** The delivered mails of `kind` to `to`, as a reader sees them. */
function delivered(kind: string, to = EMAIL): string[] {
  const subject = SUBJECTS[kind];
  if (subject === undefined) throw new Error(`no subject for ${kind}`);
  return smtp.texts().filter((text) => subject.test(text) && text.includes(`To: ${to}`));
}

/** Delivers the queue over SMTP and returns the path (with its `?token=`) of the newest mail of `kind`. */
async function linkIn(kind: string, to = EMAIL): Promise<string> {
  await t.latchkey.mailWorker.runOnce();
  const text = delivered(kind, to).at(-1);
  const match =
    text === undefined ? null : /https:\/\/auth\.example\.test(\/[^\s"<]*token=[A-Za-z0-9_-]+)/.exec(text);
  if (match?.[1] === undefined) throw new Error(`no ${kind} mail with a link`);
  return match[1];
}

async function start(mail: Record<string, unknown> = {}): Promise<void> {
  smtp = await startSMTPServer();
  const base = (await import('../../src/config/config.js')).defaultConfig();
  t = await createTestApp({
    mailTransport: createSMTPTransport({
      url: `smtp://127.0.0.1:${smtp.port}`,
      from: 'Latchkey <no-reply@example.test>',
    }),
    config: { mail: { ...base.mail, ...mail } },
  });
}

async function canSignIn(password: string): Promise<boolean> {
  const jar = new CookieJar();
  const page = await getPage(t.app, jar, '/login');
  const response = await postForm(t.app, jar, '/login', {
    email: EMAIL,
    password,
    csrf_token: formToken(page.body),
  });
  return response.statusCode === 303;
}

afterEach(async () => {
  await t.close();
  await smtp.close();
});

describe('forgot → reset through the pages', () => {
  beforeEach(() => start());

  it('mails a link from /forgot, shows the same answer for an unknown address, resets, signs out everywhere', async () => {
    await signup(t.app, EMAIL);
    const other = await signInWithForm(t.app, EMAIL, PASSWORD);
    const jar = new CookieJar();
    const login = await getPage(t.app, jar, '/login');
    expect(login.body).toContain('href="/forgot"');
    expect(login.body).toContain('formaction="/login/link"');
    const forgot = await getPage(t.app, jar, '/forgot');
    const known = await postForm(t.app, jar, '/forgot', { email: EMAIL, csrf_token: formToken(forgot.body) });
    const unknown = await postForm(t.app, jar, '/forgot', {
      email: 'nobody@example.com',
      csrf_token: formToken(forgot.body),
    });
    expect(known.statusCode).toBe(303);
    expect(unknown.statusCode).toBe(303);
    expect(known.headers.location).toBe('/forgot/sent');
    expect(unknown.headers.location).toBe('/forgot/sent');
    const sent = await getPage(t.app, jar, '/forgot/sent');
    expect(sent.body).toContain('If an account exists');

    const link = await linkIn('password_reset');
    expect(link.startsWith('/reset?token=')).toBe(true);
    const token = decodeURIComponent(link.split('token=')[1] ?? '');
    // GET twice: the token is only in a hidden field, and still good afterwards.
    await getPage(t.app, jar, link);
    const page = await getPage(t.app, jar, link);
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain(`name="token" value="${token}"`);

    const weak = await postForm(t.app, jar, '/reset', {
      token,
      password: 'short',
      csrf_token: formToken(page.body),
    });
    expect(weak.statusCode).toBe(400);
    expect(weak.body).toContain('role="alert"');
    expect(weak.body).toContain(`name="token" value="${token}"`);

    const done = await postForm(t.app, jar, '/reset', {
      token,
      password: NEW_PASSWORD,
      csrf_token: formToken(weak.body),
    });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/login?notice=password_reset');
    const notice = await getPage(t.app, jar, '/login?notice=password_reset');
    expect(notice.body).toContain('Your password is changed');
    expect(await canSignIn(NEW_PASSWORD)).toBe(true);
    expect(await canSignIn(PASSWORD)).toBe(false);
    // The other session is gone.
    const account = await getPage(t.app, other.jar, '/account');
    expect(account.statusCode).toBe(303);

    // Used once: the same link now says so, with a way to ask again.
    const reused = await getPage(t.app, jar, link);
    const again = await postForm(t.app, jar, '/reset', {
      token,
      password: 'yet another passphrase 7',
      csrf_token: formToken(reused.body),
    });
    expect(again.statusCode).toBe(400);
    expect(again.body).toContain('invalid, has expired or was already used');
    expect(again.body).toContain('href="/forgot"');
  });

  it('refuses a reset without its CSRF token and changes nothing', async () => {
    await signup(t.app, EMAIL);
    const jar = new CookieJar();
    const forgot = await getPage(t.app, jar, '/forgot');
    await postForm(t.app, jar, '/forgot', { email: EMAIL, csrf_token: formToken(forgot.body) });
    const link = await linkIn('password_reset');
    const token = decodeURIComponent(link.split('token=')[1] ?? '');
    await getPage(t.app, jar, link);
    const refused = await postForm(t.app, jar, '/reset', { token, password: NEW_PASSWORD });
    expect(refused.statusCode).toBe(403);
    const foreign = await postForm(t.app, new CookieJar(), '/reset', {
      token,
      password: NEW_PASSWORD,
      csrf_token: formToken(refused.body),
    });
    expect(foreign.statusCode).toBe(403);
    expect(await canSignIn(PASSWORD)).toBe(true);
    // The link still works from its own page.
    const page = await getPage(t.app, jar, link);
    const done = await postForm(t.app, jar, '/reset', {
      token,
      password: NEW_PASSWORD,
      csrf_token: formToken(page.body),
    });
    expect(done.statusCode).toBe(303);
  });

  it('refuses a forgot post without its CSRF token and sends nothing', async () => {
    await signup(t.app, EMAIL);
    const refused = await postForm(t.app, new CookieJar(), '/forgot', { email: EMAIL });
    expect(refused.statusCode).toBe(403);
    await t.latchkey.mailWorker.runOnce();
    expect(delivered('password_reset')).toHaveLength(0);
  });

  it('keeps the token out of any other origin and escapes it in the page', async () => {
    const jar = new CookieJar();
    const hostile = '"><script>alert(1)</script>';
    const page = await getPage(t.app, jar, `/reset?token=${encodeURIComponent(hostile)}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('<script>');
    expect(page.body).toContain('name="token" value="&quot;>&lt;script>alert(1)&lt;/script>"');
    for (const path of [
      '/reset?token=x',
      '/verify?token=x',
      '/login/link?token=x',
      '/email/confirm?token=x',
      '/forgot',
    ]) {
      const response = await getPage(t.app, jar, path);
      // `same-origin`: the token's URL is never sent to another origin (see page.tsx for why not
      // `no-referrer`: a form posted under it carries `Origin: null`, which the CSRF check refuses).
      expect(response.headers['referrer-policy']).toBe('same-origin');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['content-security-policy']).toContain("default-src 'none'");
    }
    const none = await getPage(t.app, jar, '/reset');
    expect(none.statusCode).toBe(400);
    expect(none.body).toContain('href="/forgot"');
  });
});

describe('email verification through the pages', () => {
  beforeEach(() => start({ emailVerification: 'required' }));

  it('offers to resend on the refused sign-in, and the link confirms only on the post', async () => {
    const jar = new CookieJar();
    const form = await getPage(t.app, jar, '/signup');
    await postForm(t.app, jar, '/signup', {
      email: EMAIL,
      password: PASSWORD,
      csrf_token: formToken(form.body),
    });
    const login = await getPage(t.app, jar, '/login');
    const refused = await postForm(t.app, jar, '/login', {
      email: EMAIL,
      password: PASSWORD,
      csrf_token: formToken(login.body),
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain('not confirmed yet');
    expect(refused.body).toContain('action="/verify/resend"');
    const resend = await postForm(t.app, jar, '/verify/resend', {
      email: EMAIL,
      csrf_token: formToken(refused.body),
    });
    expect(resend.statusCode).toBe(303);
    expect(resend.headers.location).toBe('/verify/sent');

    const link = await linkIn('verification');
    expect(link.startsWith('/verify?token=')).toBe(true);
    await getPage(t.app, jar, link);
    const page = await getPage(t.app, jar, link);
    expect(page.body).toContain('Confirm my email');
    const stillRefused = await getPage(t.app, jar, '/login');
    const beforePost = await postForm(t.app, jar, '/login', {
      email: EMAIL,
      password: PASSWORD,
      csrf_token: formToken(stillRefused.body),
    });
    expect(beforePost.statusCode).toBe(403);

    const noCSRF = await postForm(t.app, jar, '/verify', {
      token: decodeURIComponent(link.split('token=')[1] ?? ''),
    });
    expect(noCSRF.statusCode).toBe(403);
    const confirmed = await postForm(t.app, jar, '/verify', {
      token: decodeURIComponent(link.split('token=')[1] ?? ''),
      csrf_token: formToken(page.body),
    });
    expect(confirmed.statusCode).toBe(303);
    expect(confirmed.headers.location).toBe('/login?notice=email_verified');
    expect(await canSignIn(PASSWORD)).toBe(true);
  });

  it('says so for a link that is not ours', async () => {
    const jar = new CookieJar();
    const page = await getPage(t.app, jar, '/verify?token=AAAA');
    const response = await postForm(t.app, jar, '/verify', {
      token: 'AAAA',
      csrf_token: formToken(page.body),
    });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('invalid, has expired or was already used');
  });
});

describe('sign-in links off', () => {
  beforeEach(() => start({ signInLinks: false }));

  it('offers no sign-in link and refuses to send one, in words', async () => {
    await signup(t.app, EMAIL);
    const jar = new CookieJar();
    const login = await getPage(t.app, jar, '/login');
    expect(login.body).not.toContain('formaction="/login/link"');
    const asked = await postForm(t.app, jar, '/login/link', {
      email: EMAIL,
      csrf_token: formToken(login.body),
    });
    expect(asked.statusCode).toBe(404);
    expect(asked.body).toContain('Sign-in links are off');
  });
});

describe('sign-in links and email change through the pages', () => {
  beforeEach(() => start());

  async function askForLink(jar: CookieJar): Promise<string> {
    const login = await getPage(t.app, jar, '/login');
    const asked = await postForm(t.app, jar, '/login/link', {
      email: EMAIL,
      csrf_token: formToken(login.body),
    });
    expect(asked.statusCode).toBe(303);
    expect(asked.headers.location).toBe('/login/link/sent');
    return linkIn('signin_link');
  }

  it('signs in at once in the browser that asked, after GETs that used nothing', async () => {
    await signup(t.app, EMAIL);
    const jar = new CookieJar();
    const link = await askForLink(jar);
    expect(link.startsWith('/login/link?token=')).toBe(true);
    await getPage(t.app, jar, link);
    const page = await getPage(t.app, jar, link);
    const token = decodeURIComponent(link.split('token=')[1] ?? '');
    const noCSRF = await postForm(t.app, jar, '/login/link', { token });
    expect(noCSRF.statusCode).toBe(403);
    expect((await getPage(t.app, jar, '/account')).statusCode).toBe(303);
    const signedIn = await postForm(t.app, jar, '/login/link', { token, csrf_token: formToken(page.body) });
    expect(signedIn.statusCode).toBe(303);
    expect(signedIn.headers.location).toBe('/account');
    expect((await getPage(t.app, jar, '/account')).statusCode).toBe(200);
  });

  it('asks another browser to confirm first, and the unknown address gets the same answer', async () => {
    await signup(t.app, EMAIL);
    const link = await askForLink(new CookieJar());
    const unknownJar = new CookieJar();
    const login = await getPage(t.app, unknownJar, '/login');
    const unknown = await postForm(t.app, unknownJar, '/login/link', {
      email: 'nobody@example.com',
      csrf_token: formToken(login.body),
    });
    expect(unknown.headers.location).toBe('/login/link/sent');

    const jar = new CookieJar();
    const page = await getPage(t.app, jar, link);
    const token = decodeURIComponent(link.split('token=')[1] ?? '');
    const ask = await postForm(t.app, jar, '/login/link', { token, csrf_token: formToken(page.body) });
    expect(ask.statusCode).toBe(200);
    expect(ask.body).toContain('Sign in on this device');
    expect((await getPage(t.app, jar, '/account')).statusCode).toBe(303);
    const signedIn = await postForm(t.app, jar, '/login/link', {
      token,
      confirm: 'yes',
      csrf_token: formToken(ask.body),
    });
    expect(signedIn.statusCode).toBe(303);
    expect((await getPage(t.app, jar, '/account')).statusCode).toBe(200);
  });

  it('says when a reset link has expired, with a way to ask again', async () => {
    await signup(t.app, EMAIL);
    const jar = new CookieJar();
    const forgot = await getPage(t.app, jar, '/forgot');
    await postForm(t.app, jar, '/forgot', { email: EMAIL, csrf_token: formToken(forgot.body) });
    const link = await linkIn('password_reset');
    const page = await getPage(t.app, jar, link);
    t.clock.advance(31 * 60_000);
    const token = decodeURIComponent(link.split('token=')[1] ?? '');
    const late = await postForm(t.app, jar, '/reset', {
      token,
      password: NEW_PASSWORD,
      csrf_token: formToken(page.body),
    });
    expect(late.statusCode).toBe(400);
    expect(late.body).toContain('has expired');
    expect(late.body).toContain('href="/forgot"');
    expect(await canSignIn(PASSWORD)).toBe(true);
  });

  it('confirms an email change from the link in the new mailbox', async () => {
    await signup(t.app, EMAIL);
    const { jar, token: csrf } = await signInWithForm(t.app, EMAIL, PASSWORD);
    const change = await t.app.inject({
      method: 'POST',
      url: '/v1/email/change',
      payload: { email: 'ada@new.example', password: PASSWORD },
      headers: { origin: ISSUER, cookie: jar.header(), 'x-csrf-token': csrf },
    });
    expect(change.statusCode).toBe(202);
    const link = await linkIn('email_change', 'ada@new.example');
    expect(link.startsWith('/email/confirm?token=')).toBe(true);
    await getPage(t.app, jar, link);
    const page = await getPage(t.app, jar, link);
    const token = decodeURIComponent(link.split('token=')[1] ?? '');
    const refused = await postForm(t.app, jar, '/email/confirm', { token });
    expect(refused.statusCode).toBe(403);
    expect(await t.latchkey.store.getUserByEmail('ada@new.example')).toBeNull();
    const done = await postForm(t.app, jar, '/email/confirm', { token, csrf_token: formToken(page.body) });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/account?notice=email_changed');
    const account = await getPage(t.app, jar, '/account?notice=email_changed');
    expect(account.body).toContain('ada@new.example');
    expect(account.body).toContain('Your email address is changed.');
  });
});
