/**
 * The passkey pages in real Chromium, with the DevTools protocol's virtual authenticator (as in
 * `test/browser/passkeys.test.ts`): add a passkey from `/account/passkeys` (the page's script),
 * rename it, sign out, sign in with "Sign in with a passkey" on `/login` (the login script),
 * remove it with the password. The two pages carry a CSP that allows this origin's script files
 * and nothing inline, and no console error appears (a CSP violation would be one).
 */

import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { PAGE_CSP } from '../../src/http/pages/index.js';
import { PASSKEY_CSP } from '../../src/http/pages/passkey-scripts.js';
import { createTestApp, PASSWORD, signup, type TestApp } from '../helpers/app.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';
import { watchConsole } from '../helpers/page-server.js';
import { freePort } from '../helpers/process.js';

let browser: Browser;
let t: TestApp & { url: string };

beforeAll(async () => {
  // `localhost` must reach the server on 127.0.0.1 (not ::1): an IP address cannot be an RP id.
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP localhost 127.0.0.1'],
    headless: true,
  });
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const app = await createTestApp({
    clock: createManualClock(Date.now()),
    config: { issuer: url, audience: url, webauthn: { rpId: 'localhost', origins: [url] } },
  });
  await app.app.listen({ port, host: '127.0.0.1' });
  t = { ...app, url };
}, 60_000);

afterAll(async () => {
  await browser.close();
  await t.close();
});

/** A context whose pages have a virtual authenticator (CTAP2, internal, resident keys, UV). */
async function openPage(): Promise<{
  context: BrowserContext;
  page: Page;
  errors: string[];
  documents: { path: string; method: string; status: number; csp: string | undefined; body: string }[];
}> {
  const context = await browser.newContext();
  const errors = watchConsole(context);
  const documents: { path: string; method: string; status: number; csp: string | undefined; body: string }[] =
    [];
  context.on('response', (response) => {
    if (response.request().resourceType() !== 'document' || !response.url().startsWith(t.url)) return;
    if (response.status() >= 300 && response.status() < 400) return;
    void response.text().then(
      (body) =>
        documents.push({
          path: new URL(response.url()).pathname,
          method: response.request().method(),
          status: response.status(),
          csp: response.headers()['content-security-policy'],
          body,
        }),
      () => undefined,
    );
  });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { context, page, errors, documents };
}

async function passkeyNames(email: string): Promise<string[]> {
  const user = await t.store.getUserByEmail(email);
  return (await t.store.listPasskeys(user?.id ?? '')).map((p) => p.name);
}

describe('the passkey pages in Chromium', () => {
  it('adds, renames, signs in with and removes a passkey, under a CSP that allows only self scripts', async () => {
    await signup(t.app, 'ada@example.com');
    const { context, page, errors, documents } = await openPage();

    // Sign in with the password; the sign-in form shows the passkey button (the script ran).
    await page.goto(`${t.url}/login`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).waitFor({ state: 'visible' });
    expect(await page.getAttribute('#email', 'autocomplete')).toBe('username webauthn');
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${t.url}/account`);

    // Add a passkey from /account/passkeys (linked from /account).
    await page.getByRole('link', { name: 'Manage passkeys' }).click();
    await page.waitForURL(`${t.url}/account/passkeys`);
    expect(await page.locator('#passkeys-empty').textContent()).toBe('No passkeys yet.');
    await page.getByLabel('Name (optional)').fill('Laptop');
    const add = page.getByRole('button', { name: 'Add a passkey' });
    await expect.poll(() => add.isEnabled()).toBe(true);
    await add.click();
    await page.waitForURL(`${t.url}/account/passkeys?notice=passkey_added`);
    expect(await page.locator('.lk-passkey-name').allTextContents()).toEqual(['Laptop']);
    expect(await passkeyNames('ada@example.com')).toEqual(['Laptop']);

    // Rename it with the plain form.
    await page.locator('#rename-0').fill('Work laptop');
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.waitForURL(`${t.url}/account/passkeys?notice=passkey_renamed`);
    expect(await page.locator('.lk-passkey-name').allTextContents()).toEqual(['Work laptop']);

    // Sign out: the sign-in page's conditional request (autofill) is answered by the
    // authenticator at once (it needs no pick), and signs in with the passkey alone.
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(`${t.url}/account`);
    expect(documents.some((d) => d.path === '/login' && d.body.includes('You are signed out.'))).toBe(true);

    // Without conditional mediation, the "Sign in with a passkey" button does it.
    await page.addInitScript(() => {
      PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
    });
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(/\/login\?notice=signed_out$/);
    const passkeyButton = page.getByRole('button', { name: 'Sign in with a passkey' });
    await passkeyButton.waitFor({ state: 'visible' });
    await passkeyButton.click();
    await page.waitForURL(`${t.url}/account`);
    expect(await page.locator('main').textContent()).toContain('ada@example.com');

    // The passkey was used; remove it with the password (a wrong one first).
    await page.goto(`${t.url}/account/passkeys`);
    expect(await page.locator('.lk-passkey time').count()).toBe(2);
    await page.locator('#remove-0').fill('not the password');
    await page.getByRole('button', { name: 'Remove' }).click();
    expect(await page.locator('#passkeys-error').textContent()).toContain('The password is incorrect.');
    expect(await passkeyNames('ada@example.com')).toEqual(['Work laptop']);
    await page.locator('#remove-0').fill(PASSWORD);
    await page.getByRole('button', { name: 'Remove' }).click();
    await page.waitForURL(`${t.url}/account/passkeys?notice=passkey_removed`);
    expect(await page.locator('#passkeys-empty').textContent()).toBe('No passkeys yet.');
    expect(await passkeyNames('ada@example.com')).toEqual([]);

    // The two pages with a script allow only this origin's files, and have no inline script.
    await expect.poll(() => documents.length).toBeGreaterThan(5);
    for (const document of documents) {
      const scripted =
        document.path.startsWith('/account/passkeys') ||
        (document.path === '/login' && document.method === 'GET');
      expect(document.csp, document.path).toBe(scripted ? PASSKEY_CSP : PAGE_CSP);
      for (const [tag] of document.body.matchAll(/<script\b[^>]*>/g)) {
        expect(tag, document.path).toMatch(
          /^<script type="module" src="\/assets\/passkey-(account|login)-[\w-]+\.js">$/,
        );
      }
    }
    expect(PASSKEY_CSP).toContain("script-src 'self';");
    expect(PASSKEY_CSP).not.toMatch(/unsafe|nonce-|sha256-|https?:/);
    expect(errors, 'console errors').toEqual(
      // The wrong password is a 401 page, which Chromium logs as a failed load.
      errors.filter((e) =>
        e.startsWith('Failed to load resource: the server responded with a status of 401'),
      ),
    );
    await context.close();
  }, 60_000);
});
