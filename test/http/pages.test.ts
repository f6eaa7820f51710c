/**
 * The pages over HTTP (Fastify inject): what each page answers, the forms' refusals in words
 * with their status codes, escaping, the stylesheet, the 404 page, and LATCHKEY_PAGES=off.
 * The CSRF attacks on the forms are in `pages-csrf.test.ts`; the browser flows in
 * `test/browser/pages.test.ts`.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { storeUnavailable } from '../../src/errors.js';
import { PAGE_CSP } from '../../src/http/pages/index.js';
import { PASSKEY_CSP } from '../../src/http/pages/passkey-scripts.js';
import { createTestApp, PASSWORD, setCookies, signup, type TestApp } from '../helpers/app.js';
import { CookieJar, formToken, getPage, postForm, signInWithForm } from '../helpers/pages.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await signup(t.app, 'ada@example.com');
});
afterAll(async () => {
  await t.close();
});

describe('the pages', () => {
  it('/ sends a visitor to /login and a signed-in one to /account (303)', async () => {
    const anonymous = await getPage(t.app, new CookieJar(), '/');
    expect(anonymous.statusCode).toBe(303);
    expect(anonymous.headers.location).toBe('/login');
    const { jar } = await signInWithForm(t.app, 'ada@example.com', PASSWORD);
    const signedIn = await getPage(t.app, jar, '/');
    expect(signedIn.headers.location).toBe('/account');
    expect((await getPage(t.app, jar, '/login')).headers.location).toBe('/account');
  });

  it('serves /login with the strict CSP, a label for every input and a Sign in button', async () => {
    const response = await getPage(t.app, new CookieJar(), '/login');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    // The pages' CSP plus the passkey script of this origin (test/http/pages-passkeys.test.ts).
    expect(response.headers['content-security-policy']).toBe(PASSKEY_CSP);
    expect(PAGE_CSP).toContain("default-src 'none'");
    expect(PAGE_CSP).not.toMatch(/unsafe|https?:/);
    expect(response.headers['referrer-policy']).toBe('same-origin');
    expect(response.headers['cache-control']).toBe('no-store');
    const html = response.body;
    expect(html).not.toMatch(/style=|<style/i);
    expect(
      html.replace(/<script type="module" src="\/assets\/passkey-login-[\w-]+\.js"><\/script>/, ''),
    ).not.toMatch(/<script/i);
    for (const [id, label] of [
      ['email', 'Email'],
      ['password', 'Password'],
      ['remember', 'Remember me on this device'],
    ]) {
      expect(html).toContain(`<label for="${id}">${label}</label>`);
      expect(html).toMatch(new RegExp(`<input[^>]* id="${id}"`));
    }
    expect(html).toMatch(/<button type="submit"[^>]*>Sign in<\/button>/);
    // The login-CSRF cookie: HttpOnly, Strict, __Host- in secure mode.
    const form = setCookies(response).get('__Host-latchkey_form');
    expect(form?.header).toMatch(/HttpOnly; Secure; SameSite=Strict/);
  });

  it('signs in through the form: 303 to /account, a browser-session cookie, then the account page', async () => {
    const jar = new CookieJar();
    const page = await getPage(t.app, jar, '/login');
    const response = await postForm(t.app, jar, '/login', {
      email: 'ada@example.com',
      password: PASSWORD,
      csrf_token: formToken(page.body),
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/account');
    const session = setCookies(response).get('__Host-latchkey_session');
    expect(session?.header).toMatch(/HttpOnly; Secure; SameSite=Lax/);
    expect(session?.header).not.toContain('Max-Age');
    const account = await getPage(t.app, jar, '/account');
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain('ada@example.com');
    expect(account.body).toContain('This device');
    expect(account.headers['content-security-policy']).toBe(PAGE_CSP);
  });

  it('"remember me" gives a persistent session cookie (Max-Age up to the absolute expiry)', async () => {
    const jar = new CookieJar();
    const page = await getPage(t.app, jar, '/login');
    const response = await postForm(t.app, jar, '/login', {
      email: 'ada@example.com',
      password: PASSWORD,
      remember: 'on',
      csrf_token: formToken(page.body),
    });
    expect(response.statusCode).toBe(303);
    const header = setCookies(response).get('__Host-latchkey_session')?.header ?? '';
    expect(header).toContain(`Max-Age=${12 * 3600}`);
  });

  it('a wrong password: 401, the words next to the form, the email kept, the password not', async () => {
    const jar = new CookieJar();
    const page = await getPage(t.app, jar, '/login');
    const response = await postForm(t.app, jar, '/login', {
      email: 'ada@example.com',
      password: 'wrong password 123',
      remember: 'on',
      csrf_token: formToken(page.body),
    });
    expect(response.statusCode).toBe(401);
    expect(response.body).toContain('role="alert"');
    expect(response.body).toContain('The email or password is incorrect.');
    expect(response.body).toContain('value="ada@example.com"');
    expect(response.body).toMatch(/id="remember"[^>]* checked/);
    expect(response.body).not.toContain('wrong password 123');
    expect(setCookies(response).has('__Host-latchkey_session')).toBe(false);
  });

  it('throttled: 429 with Retry-After and the wait in words', async () => {
    await signup(t.app, 'throttled@example.com');
    const jar = new CookieJar();
    const token = formToken((await getPage(t.app, jar, '/login')).body);
    let response = await postForm(t.app, jar, '/login', {
      email: 'throttled@example.com',
      password: 'not the password',
      csrf_token: token,
    });
    for (let i = 0; i < 10 && response.statusCode === 401; i++) {
      response = await postForm(t.app, jar, '/login', {
        email: 'throttled@example.com',
        password: 'not the password',
        csrf_token: token,
      });
    }
    expect(response.statusCode).toBe(429);
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(response.body).toMatch(/Too many attempts\. Try again in \d+ (second|minute)s?\./);
  });

  it('signs up through the form: 303 to the account page, signed in', async () => {
    const jar = new CookieJar();
    const page = await getPage(t.app, jar, '/signup');
    expect(page.body).toContain('<label for="email">Email</label>');
    expect(page.body).toMatch(/>Create account<\/button>/);
    const response = await postForm(t.app, jar, '/signup', {
      email: 'grace@example.com',
      password: PASSWORD,
      csrf_token: formToken(page.body),
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/account?notice=welcome');
    const account = await getPage(t.app, jar, response.headers.location ?? '');
    expect(account.body).toContain('grace@example.com');
    expect(account.body).toContain('Your account is ready.');
  });

  it('sign-up refusals: a weak password with its reason (400), a taken email (409)', async () => {
    const jar = new CookieJar();
    const token = formToken((await getPage(t.app, jar, '/signup')).body);
    const weak = await postForm(t.app, jar, '/signup', {
      email: 'weak@example.com',
      password: 'password',
      csrf_token: token,
    });
    expect(weak.statusCode).toBe(400);
    expect(weak.body).toContain('The password is one of the most commonly used passwords.');
    expect(weak.body).toContain('value="weak@example.com"');
    const short = await postForm(t.app, jar, '/signup', {
      email: 'w@example.com',
      password: 'abc',
      csrf_token: token,
    });
    expect(short.body).toContain('The password must be at least 8 characters.');
    const taken = await postForm(t.app, jar, '/signup', {
      email: 'ada@example.com',
      password: PASSWORD,
      csrf_token: token,
    });
    expect(taken.statusCode).toBe(409);
    expect(taken.body).toContain('An account with this email already exists.');
  });

  it('escapes a hostile email in the re-rendered form and a hostile User-Agent in the sessions list', async () => {
    const jar = new CookieJar();
    const token = formToken((await getPage(t.app, jar, '/signup')).body);
    const hostile = '"><script>alert(1)</script>';
    const response = await postForm(t.app, jar, '/signup', {
      email: hostile,
      password: PASSWORD,
      csrf_token: token,
    });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('Enter a valid email address');
    expect(response.body).not.toContain('<script>');
    expect(response.body).toContain('value="&quot;>&lt;script>alert(1)&lt;/script>"');

    const agent = 'Mozilla/5.0 <script>alert(2)</script> "quoted" <img src=x onerror=alert(3)>';
    const { jar: signedIn } = await signInWithForm(t.app, 'ada@example.com', PASSWORD, {
      'user-agent': agent,
    });
    const account = await getPage(t.app, signedIn, '/account', { 'user-agent': agent });
    expect(account.statusCode).toBe(200);
    expect(account.body).not.toMatch(/<script|<img/i);
    expect(account.body).toContain('&lt;script>alert(2)&lt;/script>');
  });

  it('refuses bad form bodies with a 4xx page, and changes nothing', async () => {
    const jar = new CookieJar();
    const token = formToken((await getPage(t.app, jar, '/login')).body);
    const good = `email=ada%40example.com&password=${encodeURIComponent(PASSWORD)}&csrf_token=${encodeURIComponent(token)}`;
    const cases: [string, string, number][] = [
      ['a field twice', `${good}&email=eve%40example.com`, 400],
      ['an unknown field', `${good}&mode=token`, 400],
      ['a missing field', `email=ada%40example.com&csrf_token=${token}`, 400],
      ['bad percent-encoding', `${good}&x=%E0%A4%A`, 400],
      ['a NUL character', `email=ada%40example.com%00&password=x&csrf_token=${token}`, 400],
      ['a value too long', `email=${'a'.repeat(400)}&password=x&csrf_token=${token}`, 400],
      ['too many fields', Array.from({ length: 20 }, (_, i) => `f${i}=1`).join('&'), 400],
      ['a body over 16 KiB', `${good}&pad=${'a'.repeat(17 * 1024)}`, 413],
    ];
    for (const [what, body, status] of cases) {
      const response = await postForm(t.app, jar, '/login', body);
      expect(response.statusCode, what).toBe(status);
      expect(response.headers['content-type'], what).toBe('text/html; charset=utf-8');
      expect(response.headers['content-security-policy'], what).toBe(PAGE_CSP);
      expect(setCookies(response).has('__Host-latchkey_session'), what).toBe(false);
    }
    const asJSON = await t.app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/json', cookie: jar.header() },
      payload: JSON.stringify({ email: 'ada@example.com', password: PASSWORD, csrf_token: token }),
    });
    expect(asJSON.statusCode).toBe(415);
    expect(jar.cookies.has('__Host-latchkey_session')).toBe(false);
  });

  it('serves the stylesheet with a content hash, a year of caching and an ETag', async () => {
    const page = await getPage(t.app, new CookieJar(), '/login');
    const href = /<link rel="stylesheet" href="([^"]+)"/.exec(page.body)?.[1] ?? '';
    expect(href).toMatch(/^\/assets\/latchkey-[A-Za-z0-9_-]{12}\.css$/);
    const css = await t.app.inject({ method: 'GET', url: href });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(css.body).toContain('--lk-accent');
    const again = await t.app.inject({
      method: 'GET',
      url: href,
      headers: { 'if-none-match': String(css.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
  });

  it('answers an unknown page with an HTML 404 for a browser, problem+json for the API', async () => {
    const page = await getPage(t.app, new CookieJar(), '/nowhere');
    expect(page.statusCode).toBe(404);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(PAGE_CSP);
    expect(page.body).toContain('Page not found');
    for (const [url, accept] of [
      ['/nowhere', 'application/json'],
      ['/v1/nowhere', 'text/html'],
    ] as const) {
      const api = await t.app.inject({ method: 'GET', url, headers: { accept } });
      expect(api.statusCode).toBe(404);
      expect(api.headers['content-type']).toContain('application/problem+json');
    }
  });
});

describe('cookies and modes', () => {
  it('honours LATCHKEY_INSECURE_COOKIES: plain names, no Secure', async () => {
    const insecure = await createTestApp({ config: { insecureCookies: true } });
    try {
      await signup(insecure.app, 'plain@example.com');
      const jar = new CookieJar();
      const page = await getPage(insecure.app, jar, '/login');
      expect(setCookies(page).get('latchkey_form')?.header).toBe(
        `latchkey_form=${jar.cookies.get('latchkey_form') ?? ''}; Path=/; HttpOnly; SameSite=Strict`,
      );
      const response = await postForm(insecure.app, jar, '/login', {
        email: 'plain@example.com',
        password: PASSWORD,
        csrf_token: formToken(page.body),
      });
      expect(response.statusCode).toBe(303);
      const session = setCookies(response).get('latchkey_session')?.header ?? '';
      expect(session).toMatch(/; Path=\/; HttpOnly; SameSite=Lax$/);
      expect((await getPage(insecure.app, jar, '/account')).statusCode).toBe(200);
    } finally {
      await insecure.close();
    }
  });

  it('shows the account page to a hybrid session too (its access cookie), and renews it in its mode', async () => {
    await signup(t.app, 'hybrid@example.com');
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: 'hybrid@example.com', password: PASSWORD, mode: 'hybrid' },
    });
    const jar = new CookieJar();
    jar.keep(login);
    expect(jar.cookies.has('__Host-latchkey_access')).toBe(true);
    const account = await getPage(t.app, jar, '/account');
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain('<td class="lk-mode">hybrid</td>');
    const changed = await postForm(t.app, jar, '/account/password', {
      csrf_token: formToken(account.body),
      current_password: PASSWORD,
      new_password: 'another long passphrase',
    });
    expect(changed.statusCode).toBe(303);
    expect(setCookies(changed).has('__Host-latchkey_access')).toBe(true);
    expect(setCookies(changed).has('__Secure-latchkey_refresh')).toBe(true);
    expect((await getPage(t.app, jar, '/account')).statusCode).toBe(200);
  });

  it('sends a dead session cookie to the sign-in page and clears it', async () => {
    const { jar, token } = await signInWithForm(t.app, 'ada@example.com', PASSWORD);
    await postForm(t.app, jar, '/logout', { csrf_token: token });
    const stolen = new CookieJar();
    stolen.cookies.set('__Host-latchkey_session', 'x'.repeat(22) + '.' + 'y'.repeat(43));
    const response = await getPage(t.app, stolen, '/account');
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/login');
    expect(stolen.cookies.has('__Host-latchkey_session')).toBe(false);
    const posted = await postForm(t.app, stolen, '/account/sign-out-everywhere', { csrf_token: token });
    expect(posted.statusCode).toBe(303);
    expect(posted.headers.location).toBe('/login?notice=session_ended');
  });
});

describe('a store outage', () => {
  it('is a 503 page with Retry-After, never a 500 or a stack trace', async () => {
    const down = await createTestApp();
    try {
      await signup(down.app, 'outage@example.com');
      const { jar } = await signInWithForm(down.app, 'outage@example.com', PASSWORD);
      const loginJar = new CookieJar();
      const token = formToken((await getPage(down.app, loginJar, '/login')).body);
      down.store.getSession = () =>
        Promise.reject(storeUnavailable(new Error('connection refused at 10.0.0.5')));
      down.store.getSessionWithUser = () =>
        Promise.reject(storeUnavailable(new Error('connection refused at 10.0.0.5')));
      down.store.getUserByEmail = () =>
        Promise.reject(storeUnavailable(new Error('connection refused at 10.0.0.5')));
      down.latchkey.sessionCache?.clear();
      for (const response of [
        await getPage(down.app, jar, '/account'),
        await postForm(down.app, loginJar, '/login', {
          email: 'outage@example.com',
          password: PASSWORD,
          csrf_token: token,
        }),
      ]) {
        expect(response.statusCode).toBe(503);
        expect(response.headers['retry-after']).toBe('1');
        expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(response.body).toContain('Unavailable for a moment');
        expect(response.body).not.toContain('10.0.0.5');
      }
    } finally {
      await down.close();
    }
  });
});

describe('theming and LATCHKEY_PAGES', () => {
  it('LATCHKEY_PAGES=off serves the API only', async () => {
    const off = await createTestApp({ config: { pages: loadConfig({ LATCHKEY_PAGES: 'off' }).pages } });
    try {
      for (const url of ['/', '/login', '/signup', '/account']) {
        const response = await off.app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
        expect(response.statusCode, url).toBe(404);
        expect(response.headers['content-type'], url).toContain('application/problem+json');
      }
      const post = await off.app.inject({
        method: 'POST',
        url: '/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'email=a&password=b',
      });
      expect(post.statusCode).toBe(404);
      expect(
        (
          await off.app.inject({
            method: 'POST',
            url: '/v1/signup',
            payload: { email: 'x@example.com', password: PASSWORD },
          })
        ).statusCode,
      ).toBe(201);
    } finally {
      await off.close();
    }
  });

  it('shows the brand (escaped) and links and serves the operator stylesheet file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'latchkey-theme-'));
    const file = join(dir, 'theme.css');
    await writeFile(file, ':root { --lk-accent: #0a7; }\n');
    const themed = await createTestApp({
      config: {
        pages: loadConfig({ LATCHKEY_BRAND: 'Acme <Sign-in>', LATCHKEY_STYLESHEET: `file://${file}` }).pages,
      },
    });
    try {
      const page = await getPage(themed.app, new CookieJar(), '/login');
      expect(page.body).toContain('<title>Sign in · Acme &lt;Sign-in></title>');
      const links = [...page.body.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)].map((m) => m[1]);
      expect(links).toHaveLength(2);
      expect(links[1]).toMatch(/^\/assets\/theme-[A-Za-z0-9_-]{12}\.css$/);
      const css = await themed.app.inject({ method: 'GET', url: links[1] ?? '' });
      expect(css.body).toContain('--lk-accent: #0a7');
    } finally {
      await themed.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('LATCHKEY_STYLESHEET takes a path on this origin or a file, never another origin', () => {
    expect(loadConfig({ LATCHKEY_STYLESHEET: '/brand/theme.css' }).pages.stylesheet).toEqual({
      kind: 'url',
      path: '/brand/theme.css',
    });
    expect(loadConfig({ LATCHKEY_STYLESHEET: './theme.css' }).pages.stylesheet).toEqual({
      kind: 'file',
      path: './theme.css',
    });
    for (const bad of ['https://cdn.example/theme.css', '//cdn.example/theme.css', 'theme.css', '/a"b.css']) {
      expect(() => loadConfig({ LATCHKEY_STYLESHEET: bad }), bad).toThrow(/LATCHKEY_STYLESHEET/);
    }
    expect(() => loadConfig({ LATCHKEY_PAGES: 'maybe' })).toThrow(/LATCHKEY_PAGES/);
    expect(() => loadConfig({ LATCHKEY_BRAND: 'x'.repeat(61) })).toThrow(/LATCHKEY_BRAND/);
    expect(loadConfig({}).pages).toEqual({ enabled: true, brand: 'Latchkey', stylesheet: null });
  });
});
