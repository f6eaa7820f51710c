/**
 * `/lab` in a real Chromium against a real server: sign in as cookie, token and hybrid side by
 * side, see the token's JWT claims, call `/v1/me` with each (Server-Timing shown), revoke each
 * and see each refused while the others stay signed in. No console error but the refusals the
 * test provokes.
 */

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { PASSWORD } from '../helpers/app.js';
import { launchChromium } from '../helpers/chromium.js';
import { startPageServer, watchConsole, type PageServer } from '../helpers/page-server.js';
import { ensureLabBundle } from '../helpers/sdk-server.js';

let server: PageServer;
let browser: Browser;

beforeAll(async () => {
  ensureLabBundle();
  server = await startPageServer();
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser.close();
  await server.close();
});

const panel = (page: Page, mode: string): Locator => page.locator(`#lab-${mode}`);
const slot = (page: Page, mode: string, name: string): Locator =>
  panel(page, mode).locator(`[data-slot="${name}"]`);

async function waitForText(locator: Locator, pattern: RegExp): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = (await locator.textContent()) ?? '';
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`waited for ${String(pattern)}, saw "${text}"`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function callMe(page: Page, mode: string, expected: RegExp): Promise<void> {
  const before = await slot(page, mode, 'requests').locator('li').count();
  await panel(page, mode).getByRole('button', { name: 'Call /v1/me' }).click();
  const deadline = Date.now() + 10_000;
  while ((await slot(page, mode, 'requests').locator('li').count()) <= before) {
    if (Date.now() > deadline) throw new Error(`no request logged in the ${mode} panel`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await waitForText(slot(page, mode, 'status'), expected);
}

describe('/lab in Chromium', () => {
  it('signs in three ways, shows the JWT, revokes each and sees each refused', async () => {
    const email = `lab-${randomUUID()}@example.com`;
    const signup = await fetch(`${server.url}/v1/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    expect(signup.status).toBe(201);

    const context = await browser.newContext();
    const errors = watchConsole(context);
    const page = await context.newPage();
    const response = await page.goto(`${server.url}/lab`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in three ways' }).click();
    for (const mode of ['cookie', 'token', 'hybrid']) {
      await waitForText(slot(page, mode, 'status'), new RegExp(`Signed in as ${email}`));
    }

    // Token mode: the decoded JWT, from the SDK's state; hybrid: the same JWT is out of reach.
    const jwt = await waitForText(slot(page, 'token', 'jwt'), /"claims"/);
    const decoded = JSON.parse(jwt) as { header: { alg: string }; claims: Record<string, unknown> };
    expect(decoded.claims).toMatchObject({ iss: server.url });
    expect(typeof decoded.claims.sid).toBe('string');
    expect(typeof decoded.header.alg).toBe('string');
    expect(await slot(page, 'token', 'session').textContent()).toContain(String(decoded.claims.sid));
    expect(await slot(page, 'hybrid', 'jwt').textContent()).toContain('HttpOnly');
    // What the browser holds, by the server's word: names and attributes.
    await waitForText(slot(page, 'cookie', 'holds'), /__Host-latchkey_session \(sent with .*HttpOnly/);
    const hybridHolds = await waitForText(slot(page, 'hybrid', 'holds'), /__Host-latchkey_access \(sent/);
    expect(hybridHolds).toMatch(/__Secure-latchkey_refresh \(not sent here.*Path=\/v1\/refresh/);

    // Three sessions of the user, plus the "other device" that revokes.
    const users = await server.store.getUserByEmail(email);
    const sessions = await server.store.listUserSessions(users?.id ?? '', server.clock());
    expect(
      sessions
        .filter((s) => s.revokedAt === null)
        .map((s) => s.mode)
        .sort(),
    ).toEqual(['cookie', 'hybrid', 'token', 'token']);

    for (const mode of ['cookie', 'token', 'hybrid']) {
      await callMe(page, mode, /Accepted by \/v1\/me/);
      // The auth step's time, from the response's Server-Timing header.
      await waitForText(slot(page, mode, 'timing'), /^\d+\.\d{2} ms/);
    }
    const logs = await slot(page, 'token', 'requests').textContent();
    expect(logs).toMatch(/GET \/v1\/me → 200 · Authorization: Bearer/);
    expect(await slot(page, 'hybrid', 'requests').textContent()).toMatch(
      /GET \/v1\/me → 200 · cookies \+ X-CSRF-Token/,
    );

    // Revoke one at a time: that one is refused at its next /v1/me, the others still answer.
    const order = ['cookie', 'hybrid', 'token'];
    for (const [index, mode] of order.entries()) {
      await panel(page, mode).getByRole('button', { name: 'Revoke' }).click();
      await waitForText(slot(page, mode, 'status'), /^Refused: session_revoked \(401\)$/);
      expect(await slot(page, mode, 'requests').textContent()).toMatch(
        /DELETE \/v1\/sessions\/[\w-]+ → 204 · Authorization: Bearer · auth [\d.]+ ms · from the other device/,
      );
      for (const other of order.slice(index + 1)) await callMe(page, other, /Accepted by \/v1\/me/);
    }
    const live = (await server.store.listUserSessions(users?.id ?? '', server.clock())).filter(
      (s) => s.revokedAt === null,
    );
    expect(live.map((s) => s.mode)).toEqual(['token']); // the other device
    expect(errors.filter((text) => !/status of 401 \(Unauthorized\)/.test(text))).toEqual([]);
    await context.close();
  });
});
