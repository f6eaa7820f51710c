/**
 * The pages in a real Chromium (Debian's, through playwright-core), against a server listening
 * on a real port of `localhost` with the production cookies (`__Host-`, Secure: Chromium treats
 * localhost as a secure context). Each test checks that every page carried the CSP and that no
 * console error appeared.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { PAGE_CSP } from '../../src/http/pages/index.js';
import { PASSKEY_CSP } from '../../src/http/pages/passkey-scripts.js';
import { PASSWORD } from '../helpers/app.js';
import { launchChromium } from '../helpers/chromium.js';
import { startOtherOrigin, startPageServer, watchConsole, type PageServer } from '../helpers/page-server.js';

let browser: Browser;
let server: PageServer;
beforeAll(async () => {
  [browser, server] = await Promise.all([launchChromium(), startPageServer()]);
}, 60_000);
afterAll(async () => {
  await browser.close();
  await server.close();
});

interface Watched {
  context: BrowserContext;
  page: Page;
  errors: string[];
  /** Every document this context loaded from the server: its status and CSP header. */
  documents: { url: string; method: string; status: number; csp: string | undefined }[];
}

const contexts: Watched[] = [];

async function open(options: { javaScript?: boolean } = {}): Promise<Watched> {
  const context = await browser.newContext({ javaScriptEnabled: options.javaScript ?? true });
  const errors = watchConsole(context);
  const documents: Watched['documents'] = [];
  context.on('response', (response) => {
    if (response.request().resourceType() === 'document' && response.url().startsWith(server.url)) {
      documents.push({
        url: response.url(),
        method: response.request().method(),
        status: response.status(),
        csp: response.headers()['content-security-policy'],
      });
    }
  });
  const watched = { context, page: await context.newPage(), errors, documents };
  contexts.push(watched);
  return watched;
}

afterEach(async () => {
  for (const { context, errors, documents } of contexts.splice(0)) {
    // Chromium logs a page answered with a 4xx as a failed load; the tests ask for those (a
    // refused form keeps its status). Any other console error fails the test.
    const refusals = new Set(documents.filter((d) => d.status >= 400).map((d) => d.status));
    const unexpected = errors.filter((error) => {
      const status = /^Failed to load resource: the server responded with a status of (\d{3})/.exec(
        error,
      )?.[1];
      return status === undefined || !refusals.has(Number(status));
    });
    expect(unexpected, 'console errors').toEqual([]);
    // Every page has the CSP (redirects carry no body, the refusals of the cross-site check are JSON).
    for (const document of documents.filter(
      (d) => d.status === 200 || (d.status >= 400 && d.status !== 403),
    )) {
      // The sign-in form loads its passkey script (test/browser/passkey-pages.test.ts); a post
      // to /login answers the form again (with it) or the second step or a refusal (without).
      const login = ['/login', '/signup'].includes(new URL(document.url).pathname);
      if (login && document.method === 'GET') expect(document.csp, document.url).toBe(PASSKEY_CSP);
      else if (login) expect([PAGE_CSP, PASSKEY_CSP], document.url).toContain(document.csp);
      else expect(document.csp, document.url).toBe(PAGE_CSP);
    }
    await context.close();
  }
});

/** The text of the one element a locator finds, once it is there. */
async function text(locator: Locator): Promise<string> {
  return (await locator.textContent()) ?? '';
}

let emails = 0;
function newEmail(): string {
  emails += 1;
  return `browser-${emails}-${Date.now()}@example.com`;
}

async function signUp(page: Page, email: string): Promise<void> {
  await page.goto(`${server.url}/signup`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${server.url}/account?notice=welcome`);
}

async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto(`${server.url}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(`${server.url}/account`);
}

async function isSignedIn(page: Page): Promise<boolean> {
  await page.goto(`${server.url}/account`);
  return page.url() === `${server.url}/account`;
}

async function liveSessions(email: string): Promise<number> {
  const user = await server.store.getUserByEmail(email);
  return user === null ? 0 : (await server.store.listUserSessions(user.id, server.clock())).length;
}

describe('signing up and in through the forms', { timeout: 90_000 }, () => {
  for (const javaScript of [true, false]) {
    it(`works with JavaScript ${javaScript ? 'on' : 'off'}: sign up, sign out, sign in`, async () => {
      const { page, context } = await open({ javaScript });
      const email = newEmail();
      await signUp(page, email);
      expect(await text(page.locator('h1'))).toBe('Your account');
      expect(await page.locator('.lk-notice').textContent()).toBe('Your account is ready.');
      expect(await page.locator('dd').first().textContent()).toBe(email);
      const cookies = await context.cookies();
      const session = cookies.find((cookie) => cookie.name === '__Host-latchkey_session');
      expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', expires: -1 });

      await page.getByRole('button', { name: 'Sign out', exact: true }).first().click();
      await page.waitForURL(`${server.url}/login?notice=signed_out`);
      expect(await text(page.getByRole('status'))).toBe('You are signed out.');
      expect(await isSignedIn(page)).toBe(false);

      // A wrong password: the words next to the form, the email kept.
      await page.goto(`${server.url}/login`);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password', { exact: true }).fill('not the password');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      expect(await text(page.getByRole('alert'))).toBe('The email or password is incorrect.');
      expect(await page.getByLabel('Email').inputValue()).toBe(email);

      await signIn(page, email);
      expect(await page.locator('tbody tr').count()).toBe(1);
      expect(await text(page.locator('tbody tr').first())).toMatch('This device');
      expect(await text(page.locator('tbody tr').first())).toMatch(/Chrom(e|ium) \d+ on Linux/);
    });
  }

  it('works with the keyboard alone, "remember me" included, and the stylesheet applies', async () => {
    const { page, context } = await open();
    const email = newEmail();
    await signUp(page, email);
    await page.getByRole('button', { name: 'Sign out', exact: true }).first().click();
    await page.waitForURL(/\/login/);
    await page.goto(`${server.url}/login`);
    // The email field has the focus (autofocus; typing before it lands would lose keys, so wait
    // for it); Tab goes to the password, the checkbox, the button.
    await page.waitForFunction(() => document.activeElement?.id === 'email');
    await page.keyboard.type(email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Sign in');
    expect(await page.getByLabel('Email').inputValue()).toBe(email);
    expect(await page.getByLabel('Password', { exact: true }).inputValue()).toBe(PASSWORD);
    expect(await page.getByLabel(/remember me/i).isChecked()).toBe(true);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${server.url}/account`);
    const session = (await context.cookies()).find((cookie) => cookie.name === '__Host-latchkey_session');
    expect(session?.expires).toBeGreaterThan(Date.now() / 1000 + 3600);
    const background = await page.evaluate(
      () => getComputedStyle(document.querySelector('.lk-danger') ?? document.body).color,
    );
    expect(background).toBe('rgb(180, 35, 24)');
  });
});

describe('sessions on the account page', { timeout: 90_000 }, () => {
  it('lists two sessions from two browsers; revoking one signs the other out at its next request', async () => {
    const email = newEmail();
    const laptop = await open();
    const phone = await open({ javaScript: false });
    await signUp(laptop.page, email);
    await signIn(phone.page, email);
    await laptop.page.reload();
    const rows = laptop.page.locator('tbody tr');
    expect(await rows.count()).toBe(2);
    const other = rows.filter({ hasNotText: 'This device' });
    expect(await other.count()).toBe(1);
    expect(await text(other)).toMatch('cookie');
    expect(await text(other)).toMatch('127.0.0.1');
    await other.getByRole('button', { name: /^Revoke / }).click();
    await laptop.page.waitForURL(`${server.url}/account?notice=session_revoked`);
    expect(await text(laptop.page.getByRole('status'))).toBe('The session is signed out.');
    expect(await laptop.page.locator('tbody tr').count()).toBe(1);

    await phone.page.reload();
    expect(phone.page.url()).toBe(`${server.url}/login`);
    expect(await isSignedIn(laptop.page)).toBe(true);
  });

  it('"Sign out everywhere" signs out this browser and the other', async () => {
    const email = newEmail();
    const one = await open();
    const two = await open();
    await signUp(one.page, email);
    await signIn(two.page, email);
    await one.page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await one.page.waitForURL(`${server.url}/login?notice=signed_out_everywhere`);
    expect(await isSignedIn(one.page)).toBe(false);
    expect(await isSignedIn(two.page)).toBe(false);
    expect(await liveSessions(email)).toBe(0);
  });

  it('changing the password signs the other sessions out and keeps this one', async () => {
    const email = newEmail();
    const here = await open({ javaScript: false });
    const there = await open();
    await signUp(here.page, email);
    await signIn(there.page, email);
    await here.page.goto(`${server.url}/account`);

    await here.page.getByLabel('Current password').fill(PASSWORD);
    await here.page.getByLabel('New password').fill('password1');
    await here.page.getByRole('button', { name: 'Change password' }).click();
    expect(await text(here.page.getByRole('alert'))).toBe(
      'The password is one of the most commonly used passwords.',
    );

    await here.page.getByLabel('Current password').fill(PASSWORD);
    await here.page.getByLabel('New password').fill('a new and long passphrase');
    await here.page.getByRole('button', { name: 'Change password' }).click();
    await here.page.waitForURL(`${server.url}/account?notice=password_changed`);
    expect(await text(here.page.getByRole('status'))).toMatch('Your password is changed.');
    expect(await isSignedIn(here.page)).toBe(true);
    expect(await isSignedIn(there.page)).toBe(false);
    await signIn(there.page, email, 'a new and long passphrase');
  });
});

describe('forms posted from another origin', { timeout: 90_000 }, () => {
  it('are refused with nothing changed, even with the victim’s own CSRF token', async () => {
    const email = newEmail();
    const victim = await open();
    await signUp(victim.page, email);
    const token = await victim.page.locator('input[name="csrf_token"]').first().getAttribute('value');
    // The attacker has an account of their own and a valid sign-in form token (for their own cookie).
    const attackerEmail = newEmail();
    const created = await server.app.inject({
      method: 'POST',
      url: '/v1/signup',
      payload: { email: attackerEmail, password: PASSWORD },
    });
    expect(created.statusCode).toBe(201);
    const attacker = await open();
    await attacker.page.goto(`${server.url}/login`);
    const attackerFormToken = await attacker.page.locator('input[name="csrf_token"]').getAttribute('value');
    const sessionsBefore = await liveSessions(email);

    // localhost on another port: another origin of the same site, so the victim's cookies go along.
    const site = await startOtherOrigin(
      () => `<!doctype html><title>Win a prize</title>
        <form method="post" action="${server.url}/account/sign-out-everywhere">
          <input type="hidden" name="csrf_token" value="${token ?? ''}"><button id="everywhere">Claim</button>
        </form>
        <form method="post" action="${server.url}/login">
          <input type="hidden" name="email" value="${attackerEmail}">
          <input type="hidden" name="password" value="${PASSWORD}">
          <input type="hidden" name="csrf_token" value="${attackerFormToken ?? ''}"><button id="login">Claim more</button>
        </form>`,
    );
    try {
      for (const button of ['#everywhere', '#login']) {
        await victim.page.goto(site.url);
        const [response] = await Promise.all([
          victim.page.waitForResponse((r) => r.url().startsWith(server.url)),
          victim.page.click(button),
        ]);
        expect(response.status(), button).toBe(403);
        expect(await response.json()).toMatchObject({ code: 'cross_site_request' });
      }
    } finally {
      await site.close();
    }
    // Refused by the Origin / Fetch-Metadata check, before any page code ran (and logged).
    expect(server.logs.some((line) => line.includes('"csrf.cross_site"'))).toBe(true);
    expect(await liveSessions(email)).toBe(sessionsBefore);
    expect(await isSignedIn(victim.page)).toBe(true);
    expect(await victim.page.locator('dd').first().textContent()).toBe(email);
  });
});
