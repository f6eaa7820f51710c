/**
 * Screenshots of the pages for the docs: `npx tsx scripts/screenshot-pages.ts` writes
 * docs/images/login.png, docs/images/account.png (a user with three sessions: this laptop,
 * a phone and another computer) and docs/images/lab.png (the mode explorer signed in three
 * ways, each asked /v1/me, the cookie session revoked). Uses the test helpers' server and
 * Debian's Chromium.
 */

import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { PASSWORD } from '../test/helpers/app.js';
import { launchChromium } from '../test/helpers/chromium.js';
import { startPageServer } from '../test/helpers/page-server.js';
import { ensureLabBundle } from '../test/helpers/sdk-server.js';

const IMAGES = fileURLToPath(new URL('../docs/images/', import.meta.url));
const EMAIL = 'ada@example.com';

const DEVICES = [
  {
    ip: '198.51.100.23',
    userAgent:
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  },
  {
    ip: '203.0.113.80',
    userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0',
  },
];

async function signIn(
  browser: Browser,
  url: string,
  device: { ip: string; userAgent: string },
): Promise<void> {
  const context = await browser.newContext({
    userAgent: device.userAgent,
    extraHTTPHeaders: { 'x-forwarded-for': device.ip },
  });
  const page = await context.newPage();
  await page.goto(`${url}/login`);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${url}/account`);
  await context.close();
}

/** /lab in a wide window: signed in three ways, each asked /v1/me, then the cookie session revoked. */
async function screenshotLab(browser: Browser, url: string): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  await page.goto(`${url}/lab`);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in three ways' }).click();
  await page.locator('#lab-cookie [data-slot="status"].lk-lab-live').waitFor();
  for (const mode of ['cookie', 'token', 'hybrid']) {
    await page.locator(`#lab-${mode}`).getByRole('button', { name: 'Call /v1/me' }).click();
    await page.locator(`#lab-${mode} [data-slot="timing"]`).filter({ hasText: 'ms' }).waitFor();
  }
  await page.locator('#lab-cookie').getByRole('button', { name: 'Revoke' }).click();
  await page.locator('#lab-cookie [data-slot="status"]').filter({ hasText: 'Refused' }).waitFor();
  await page.screenshot({ path: `${IMAGES}lab.png`, fullPage: true });
  await context.close();
}

ensureLabBundle();
const server = await startPageServer({ trustedProxies: ['127.0.0.1'] });
const browser = await launchChromium();
try {
  const context = await browser.newContext({
    viewport: { width: 1120, height: 900 },
    deviceScaleFactor: 1,
    extraHTTPHeaders: { 'x-forwarded-for': '192.0.2.10' },
  });
  const page = await context.newPage();
  await page.goto(`${server.url}/login`);
  await page.screenshot({ path: `${IMAGES}login.png`, fullPage: true });

  await page.goto(`${server.url}/signup`);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/account/);
  for (const device of DEVICES) {
    server.clock.advance(9 * 60_000);
    await signIn(browser, server.url, device);
  }
  await page.goto(`${server.url}/account`);
  await page.screenshot({ path: `${IMAGES}account.png`, fullPage: true });
  await screenshotLab(browser, server.url);
  console.log(`wrote ${IMAGES}login.png, ${IMAGES}account.png and ${IMAGES}lab.png`);
} finally {
  await browser.close();
  await server.close();
}
