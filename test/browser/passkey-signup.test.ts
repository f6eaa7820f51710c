/**
 * Sign-up with a passkey in real Chromium, with the DevTools protocol's virtual authenticator
 * (as in `test/browser/passkey-pages.test.ts`): "Sign up with a passkey" on /signup makes
 * an account with no password and signs it in; after signing out, the passkey signs in again; a
 * password login of the account is refused like a wrong password; the last passkey cannot be
 * removed. /signup carries the passkey CSP (this origin's script files, nothing inline).
 */

import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { PASSKEY_CSP } from '../../src/http/pages/passkey-scripts.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
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

/** A page with a virtual authenticator (CTAP2, internal, resident keys, UV) and no autofill sign-in. */
async function openPage(): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
  const context = await browser.newContext();
  const errors = watchConsole(context);
  const page = await context.newPage();
  // The sign-in page's conditional request would sign in at once; the button is what is tested.
  await page.addInitScript(() => {
    PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
  });
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
  return { page, errors, close: () => context.close() };
}

describe('sign-up with a passkey in Chromium', () => {
  it('creates an account with no password from /signup, and its passkey signs in again', async () => {
    const { page, errors, close } = await openPage();
    const signup = await page.goto(`${t.url}/signup`);
    expect(signup?.headers()['content-security-policy']).toBe(PASSKEY_CSP);
    const create = page.getByRole('button', { name: 'Sign up with a passkey' });
    await create.waitFor({ state: 'visible' });
    await page.getByLabel('Email').fill('pia@example.com');
    await create.click();
    await page.waitForURL(`${t.url}/account?notice=welcome`);
    expect(await page.locator('main').textContent()).toContain('pia@example.com');
    const user = await t.store.getUserByEmail('pia@example.com');
    expect(user?.passwordHash).toBe('');
    const passkeys = await t.store.listPasskeys(user?.id ?? '');
    expect(passkeys).toHaveLength(1);
    expect(passkeys[0]?.backupEligible).toBe(false);

    // The only passkey of an account without a password cannot be removed (the form says why).
    await page.goto(`${t.url}/account/passkeys`);
    expect(await page.locator('.lk-passkey-name').count()).toBe(1);

    // Sign out, then in with the passkey button.
    await page.goto(`${t.url}/account`);
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(/\/login\?notice=signed_out$/);
    const passkeyButton = page.getByRole('button', { name: 'Sign in with a passkey' });
    await passkeyButton.waitFor({ state: 'visible' });
    await passkeyButton.click();
    await page.waitForURL(`${t.url}/account`);
    expect(await page.locator('main').textContent()).toContain('pia@example.com');

    // A password sign-in of the account says what a wrong password says.
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(/\/login\?notice=signed_out$/);
    await page.getByLabel('Email').fill('pia@example.com');
    await page.getByLabel('Password').fill('any password at all');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    expect(await page.getByRole('alert').textContent()).toContain('The email or password is incorrect.');

    expect(errors, 'console errors').toEqual(
      errors.filter((e) =>
        e.startsWith('Failed to load resource: the server responded with a status of 401'),
      ),
    );
    await close();
  }, 60_000);

  it('says a taken address in words (LATCHKEY_EMAIL_VERIFICATION=optional), and stays on the page', async () => {
    const { page, close } = await openPage();
    await page.goto(`${t.url}/signup`);
    const create = page.getByRole('button', { name: 'Sign up with a passkey' });
    await create.waitFor({ state: 'visible' });
    await page.getByLabel('Email').fill('pia@example.com');
    await create.click();
    await expect
      .poll(() => page.locator('#passkey-signup-status').textContent())
      .toContain('An account with this email already exists');
    expect(page.url()).toBe(`${t.url}/signup`);
    await close();
  }, 60_000);
});
