/**
 * Two-factor authentication in a real Chromium: set up TOTP from the account page (the QR code
 * scanned from a screenshot by ZBar and checked against the key shown for typing, codes computed
 * by the otpauth package at the real time), sign out, sign in
 * with the password and a code with JavaScript off, then with a recovery code. Every page
 * carried the CSP and no console error appeared.
 */

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as OTPAuth from 'otpauth';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PAGE_CSP } from '../../src/http/pages/index.js';
import { PASSKEY_CSP } from '../../src/http/pages/passkey-scripts.js';
import { PASSWORD } from '../helpers/app.js';
import { launchChromium } from '../helpers/chromium.js';
import { startPageServer, watchConsole, type PageServer } from '../helpers/page-server.js';

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
    // Chromium logs a page answered with a 4xx as a failed load; a refused form keeps its status.
    const refusals = new Set(documents.filter((d) => d.status >= 400).map((d) => d.status));
    const unexpected = errors.filter((error) => {
      const status = /^Failed to load resource: the server responded with a status of (\d{3})/.exec(
        error,
      )?.[1];
      return status === undefined || !refusals.has(Number(status));
    });
    expect(unexpected, 'console errors').toEqual([]);
    expect(documents.length).toBeGreaterThan(0);
    for (const document of documents.filter((d) => d.status !== 303)) {
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

/** The text of the QR code in a picture, read by ZBar (`zbarimg`, Debian's zbar-tools; `.ci/run` installs it). */
function scanQRCode(path: string): string {
  if (!existsSync('/usr/bin/zbarimg')) throw new Error('no zbarimg: apt-get install zbar-tools');
  return execFileSync('/usr/bin/zbarimg', ['--quiet', '--raw', '-Sdisable', '-Sqrcode.enable', path], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** The server reads the real time (its clock is a test clock, set to now before each code). */
function now(): number {
  const time = Date.now();
  server.clock.set(time);
  return time;
}

const step = (time: number): number => Math.floor(time / 30_000);

/** Waits until the app shows a code of a step after `used` (each code is accepted once), then gives it. */
async function freshCode(totp: OTPAuth.TOTP, used: number): Promise<{ code: string; step: number }> {
  const wait = (used + 1) * 30_000 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait + 50));
  const time = now();
  return { code: totp.generate({ timestamp: time }), step: step(time) };
}

async function signInWithPassword(page: Page, email: string): Promise<void> {
  await page.goto(`${server.url}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out', exact: true }).first().click();
  await page.waitForURL(`${server.url}/login?notice=signed_out`);
}

describe('two-factor authentication through the pages', { timeout: 120_000 }, () => {
  it('sets up TOTP from the account page, then signs in with a code (JavaScript off) and a recovery code', async () => {
    const email = `mfa-${Date.now()}@example.com`;
    const setup = await open();
    const { page } = setup;
    await page.goto(`${server.url}/signup`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(`${server.url}/account?notice=welcome`);

    await page.getByRole('link', { name: 'Off · Manage' }).click();
    await page.waitForURL(`${server.url}/account/security`);
    expect(await page.locator('#mfa-status').textContent()).toBe('Off');
    await page.getByLabel('Name (optional)').fill('Test phone');
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await page.waitForURL(`${server.url}/account/security/totp`);
    // The QR code is drawn (inline SVG, a square of some size), and the key is there to type.
    const qr = page.getByRole('img', { name: 'QR code to scan with your authenticator app' });
    const box = await qr.boundingBox();
    expect(box?.width).toBeGreaterThan(100);
    expect(box?.height).toBe(box?.width);
    const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    // Scanned as a phone would: a picture of the QR code, read by an independent decoder (ZBar).
    const folder = await mkdtemp(join(tmpdir(), 'latchkey-qr-'));
    await qr.screenshot({ path: join(folder, 'qr.png') });
    const scanned = scanQRCode(join(folder, 'qr.png'));
    await rm(folder, { recursive: true });
    expect(scanned).toBe(
      await page.getByRole('link', { name: /Open it in your authenticator app/ }).getAttribute('href'),
    );
    const totp = OTPAuth.URI.parse(scanned);
    if (!(totp instanceof OTPAuth.TOTP)) throw new Error('the QR code is not a TOTP URI');
    expect(totp.secret.base32).toBe(secret);
    expect(totp.digits).toBe(6);
    expect(totp.period).toBe(30);
    expect(totp.label).toBe(email);

    const enrolAt = now();
    await page.getByLabel('Code from the app').fill(totp.generate({ timestamp: enrolAt }));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByRole('heading', { name: 'Two-factor authentication is on' }).waitFor();
    const codes = await page.locator('.lk-codes code').allTextContents();
    expect(codes).toHaveLength(10);
    await page.getByRole('link', { name: 'I have saved my recovery codes' }).click();
    await page.waitForURL(`${server.url}/account/security?notice=mfa_enabled`);
    expect(await page.locator('#mfa-status').textContent()).toBe('On');
    expect(await page.getByText('Test phone').count()).toBe(1);
    await signOut(page);

    // JavaScript off: the password, then the code, through plain forms.
    const phone = await open({ javaScript: false });
    await signInWithPassword(phone.page, email);
    const codeField = phone.page.getByLabel('Code', { exact: true });
    expect(await codeField.getAttribute('autocomplete')).toBe('one-time-code');
    expect(await codeField.getAttribute('inputmode')).toBe('numeric');
    const wrong = await freshCode(totp, step(enrolAt));
    await codeField.fill(wrong.code === '000000' ? '111111' : '000000');
    await phone.page.getByRole('button', { name: 'Verify' }).click();
    expect(await phone.page.getByRole('alert').textContent()).toBe('The code is incorrect. 4 tries left.');
    await phone.page.getByLabel('Code', { exact: true }).fill(wrong.code);
    await phone.page.getByRole('button', { name: 'Verify' }).click();
    await phone.page.waitForURL(`${server.url}/account`);
    expect(await phone.page.getByRole('link', { name: 'On · Manage' }).count()).toBe(1);
    await signOut(phone.page);

    // A recovery code, behind the "Use a recovery code instead" toggle (a <details>: no script).
    await signInWithPassword(phone.page, email);
    await phone.page.getByText('Use a recovery code instead').click();
    await phone.page.getByLabel('Recovery code').fill(codes[0] ?? '');
    await phone.page.getByRole('button', { name: 'Use recovery code' }).click();
    await phone.page.waitForURL(`${server.url}/account`);
    const cookie = (await phone.context.cookies()).find((c) => c.name === '__Host-latchkey_session');
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', expires: -1 });
  });
});
