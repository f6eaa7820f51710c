import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';

describe('a real Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 30_000);
  afterAll(async () => {
    await browser.close();
  });

  it('starts headless and runs a page', async () => {
    const page = await browser.newPage();
    await page.setContent('<p id="x">hello</p>');
    expect(await page.textContent('#x')).toBe('hello');
    expect(browser.version()).toMatch(/^\d+\./);
  });
});
