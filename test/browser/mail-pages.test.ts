/**
 * The pages of the mails' links in a real Chromium with JavaScript off, against a server on a
 * real port of `localhost` that sends its mail to a real SMTP server in the test process: the
 * link is read out of the delivered mail and opened in the browser.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createManualClock } from '../../src/clock.js';
import { createSMTPTransport } from '../../src/mail/smtp.js';
import { PAGE_CSP } from '../../src/http/pages/index.js';
import { PASSKEY_CSP } from '../../src/http/pages/passkey-scripts.js';
import { createTestApp, PASSWORD, type TestApp } from '../helpers/app.js';
import { launchChromium } from '../helpers/chromium.js';
import { watchConsole } from '../helpers/page-server.js';
import { freePort } from '../helpers/process.js';
import { startSMTPServer, type TestSMTPServer } from '../helpers/smtp.js';

const NEW_PASSWORD = 'a brand new passphrase 42';
const EMAIL = 'grace@example.com';

let browser: Browser;
let smtp: TestSMTPServer;
let t: TestApp;
let url: string;

beforeAll(async () => {
  [browser, smtp] = await Promise.all([launchChromium(), startSMTPServer()]);
  const port = await freePort();
  url = `http://localhost:${port}`;
  t = await createTestApp({
    clock: createManualClock(Date.now()),
    config: { issuer: url, audience: url },
    mailTransport: createSMTPTransport({
      url: `smtp://127.0.0.1:${smtp.port}`,
      from: 'Acme <no-reply@example.test>',
    }),
  });
  await t.app.listen({ port, host: '127.0.0.1' });
}, 60_000);
afterAll(async () => {
  await browser.close();
  await t.close();
  await smtp.close();
});

/** Delivers the queue over SMTP and returns the newest link (on the server's URL) whose mail matches `subject`. */
async function linkFromMail(subject: RegExp): Promise<string> {
  await t.latchkey.mailWorker.runOnce();
  const mail = smtp
    .texts()
    .filter((text) => subject.test(text))
    .at(-1);
  const link = mail === undefined ? null : new RegExp(`${url}/[^\\s"<]*token=[A-Za-z0-9_-]+`).exec(mail);
  if (link === null) throw new Error(`no mail matching ${String(subject)} with a link`);
  return link[0];
}

describe('the mails’ pages in Chromium, JavaScript off', { timeout: 90_000 }, () => {
  it('walks forgot → mail → reset → sign in', async () => {
    const signup = await t.app.inject({
      method: 'POST',
      url: '/v1/signup',
      payload: { email: EMAIL, password: PASSWORD },
    });
    expect(signup.statusCode).toBe(201);
    const context = await browser.newContext({ javaScriptEnabled: false });
    const errors = watchConsole(context);
    const documents: {
      url: string;
      status: number;
      csp: string | undefined;
      referrer: string | undefined;
    }[] = [];
    context.on('response', (response) => {
      if (response.request().resourceType() === 'document') {
        documents.push({
          url: response.url(),
          status: response.status(),
          csp: response.headers()['content-security-policy'],
          referrer: response.headers()['referrer-policy'],
        });
      }
    });
    const page = await context.newPage();

    await page.goto(`${url}/login`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.waitForURL(`${url}/forgot`);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByRole('button', { name: 'Email me a link' }).click();
    await page.waitForURL(`${url}/forgot/sent`);
    expect(await page.getByRole('status').textContent()).toContain('If an account exists');

    const link = await linkFromMail(/Reset your .* password/);
    expect(link.startsWith(`${url}/reset?token=`)).toBe(true);
    await page.goto(link);
    expect(await page.locator('h1').textContent()).toBe('Choose a new password');
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.waitForURL(`${url}/login?notice=password_reset`);
    expect(await page.getByRole('status').textContent()).toContain('Your password is changed');

    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${url}/account`);
    expect(await page.locator('h1').textContent()).toBe('Your account');

    // The link is spent: opening it again shows the form, whose post says so in words.
    await page.goto(link);
    await page.getByLabel('New password', { exact: true }).fill('yet another passphrase 7');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('already used');

    for (const document of documents.filter((d) => d.status === 200)) {
      // The sign-in form carries the passkey script; every other page none.
      const login = ['/login', '/signup'].includes(new URL(document.url).pathname);
      expect(document.csp, document.url).toBe(login ? PASSKEY_CSP : PAGE_CSP);
      expect(document.referrer, document.url).toBe('same-origin');
    }
    const refused = new Set(documents.filter((d) => d.status >= 400).map((d) => String(d.status)));
    expect(errors.filter((error) => ![...refused].some((status) => error.includes(status)))).toEqual([]);
    await context.close();
  });

  it('signs in with a link asked for on the sign-in page, in the same browser', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${url}/login`);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.waitForURL(`${url}/login/link/sent`);
    const link = await linkFromMail(/Sign in to /);
    await page.goto(link);
    await page.getByRole('button', { name: 'Sign in', exact: true }).last().click();
    await page.waitForURL(`${url}/account`);
    expect(await page.locator('h1').textContent()).toBe('Your account');
    await context.close();
  });
});
