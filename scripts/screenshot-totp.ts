/**
 * Screenshots of the two-factor pages for the docs: `npx tsx scripts/screenshot-totp.ts` writes
 * docs/images/totp-setup.png (the set-up page with its QR code) and docs/images/login-code.png
 * (the sign-in's second step). Uses the test helpers' server and Debian's Chromium.
 */

import { fileURLToPath } from 'node:url';
import * as OTPAuth from 'otpauth';
import { PASSWORD } from '../test/helpers/app.js';
import { launchChromium } from '../test/helpers/chromium.js';
import { startPageServer } from '../test/helpers/page-server.js';

const IMAGES = fileURLToPath(new URL('../docs/images/', import.meta.url));
const EMAIL = 'ada@example.com';

const server = await startPageServer();
const browser = await launchChromium();
try {
  const context = await browser.newContext({ viewport: { width: 1120, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  await page.goto(`${server.url}/signup`);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/account/);
  await page.goto(`${server.url}/account/security`);
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  await page.waitForURL(`${server.url}/account/security/totp`);
  await page.screenshot({ path: `${IMAGES}totp-setup.png`, fullPage: true });

  const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s/g, '');
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });
  await page.getByLabel('Code from the app').fill(totp.generate({ timestamp: server.clock() }));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await page.getByRole('heading', { name: 'Two-factor authentication is on' }).waitFor();
  await page.getByRole('link', { name: 'I have saved my recovery codes' }).click();
  await page.getByRole('button', { name: 'Sign out', exact: true }).first().click();
  await page.waitForURL(/\/login/);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
  await page.getByText('Use a recovery code instead').click();
  await page.screenshot({ path: `${IMAGES}login-code.png`, fullPage: true });
  await page.goto(`${server.url}/account`);
} finally {
  await browser.close();
  await server.close();
}
