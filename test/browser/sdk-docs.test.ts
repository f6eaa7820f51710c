import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { PASSWORD } from '../helpers/app.js';
import { launchChromium } from '../helpers/chromium.js';
import { ROOT } from '../helpers/process.js';
import { startSDKServer, type SDKServer } from '../helpers/sdk-server.js';

/** The page of "A SPA with Latchkey in 20 lines", as docs/browser.md gives it. */
function spaExample(): string {
  const docs = readFileSync(join(ROOT, 'docs', 'browser.md'), 'utf8');
  const match = /<!-- spa-example[^>]*-->\s*```html\n([\s\S]*?)\n```/.exec(docs);
  if (match?.[1] === undefined) throw new Error('docs/browser.md has no spa-example block');
  return match[1];
}

let server: SDKServer;
let browser: Browser;
beforeAll(async () => {
  server = await startSDKServer({ accessTokenTTL: 60_000, pages: { '/spa': spaExample() } });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser.close();
  await server.close();
});

describe('docs/browser.md: a SPA with Latchkey in 20 lines', () => {
  it('is at most 20 lines of script', () => {
    const script = /<script type="module">\n([\s\S]*?)\n<\/script>/.exec(spaExample())?.[1] ?? '';
    expect(script.split('\n').length).toBeLessThanOrEqual(20);
  });

  it('signs in and out, in step across two tabs, and shows a refusal in words', async () => {
    const email = 'spa@example.com';
    const signup = await fetch(`${server.url}/v1/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    expect(signup.status).toBe(201);
    const context = await browser.newContext();
    const errors: string[] = [];
    const [first, second] = [await context.newPage(), await context.newPage()];
    for (const page of [first, second]) {
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${server.url}/spa`);
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
    }

    await first.getByLabel('Email').fill(email);
    await first.getByLabel('Password').fill('not the password');
    await first.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => first.locator('#error').textContent()).toBe('The email or password is incorrect');

    await first.getByLabel('Password').fill(PASSWORD);
    await first.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => first.locator('#email').textContent()).toBe(email);
    // The other tab follows, with no reload.
    await expect.poll(() => second.locator('#email').textContent()).toBe(email);
    expect(await second.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(false);

    await second.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => first.getByRole('button', { name: 'Sign in' }).isVisible()).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });
});
