/**
 * Passkeys in real Chromium, with the DevTools protocol's virtual authenticator (CTAP2, internal
 * transport, resident keys, user verification): register, sign in username-less in every mode,
 * a passkey as the second step of a password login, a ceremony from an origin the server is not
 * configured for refused, and a cloned credential replayed with an older signature counter
 * refused and logged (`passkey.counter_regression`).
 *
 * The page is the test's own, served on the server's origin (`http://localhost:<port>`: an IP
 * address cannot be a relying-party id), calling `navigator.credentials` with the API's options.
 */

import { Writable } from 'node:stream';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLatchkey, type Latchkey } from '../../src/app/latchkey.js';
import { systemClock } from '../../src/clock.js';
import { defaultConfig } from '../../src/config/config.js';
import { createHTTPServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { createPasswordHasher } from '../../src/password/hash.js';
import type { Store } from '../../src/store.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { FAST_HASHER_PARAMETERS, PASSWORD, SECRET } from '../helpers/app.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';
import { freePort } from '../helpers/process.js';

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>passkey test page</title><link rel="icon" href="data:,"></head>
<body><p>passkey test page</p>
<script type="module">
window.api = async (method, path, body, csrf) => {
  const headers = { 'content-type': 'application/json' };
  if (csrf) headers['x-csrf-token'] = csrf;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
};
window.createPasskey = async (options) =>
  (await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })).toJSON();
window.getPasskey = async (options) =>
  (await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) })).toJSON();
window.ready = true;
</script></body></html>`;

interface Server {
  url: string;
  latchkey: Latchkey;
  logs: string[];
  close(): Promise<void>;
}

/** A real server on 127.0.0.1 with the origin `http://localhost:<port>` (unless `origins` says another). */
async function startServer(options: { store?: Store; origins?: string[] } = {}): Promise<Server> {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString('utf8'));
      callback();
    },
  });
  const config = defaultConfig({
    issuer: url,
    audience: url,
    insecureCookies: true,
    logLevel: 'info',
    webauthn: { rpId: 'localhost', origins: options.origins ?? [url] },
  });
  const latchkey = await createLatchkey({
    config,
    store: options.store ?? createMemoryStore(),
    secret: SECRET,
    clock: systemClock,
    logger: createLogger({ level: 'info', destination }),
    hasher: createPasswordHasher(FAST_HASHER_PARAMETERS),
  });
  const app = createHTTPServer(latchkey);
  app.get('/test/passkeys', (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
  await app.listen({ port, host: '127.0.0.1' });
  return {
    url,
    latchkey,
    logs,
    async close() {
      await app.close();
      if (options.store === undefined) await latchkey.close();
    },
  };
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** A page of `server` with a fresh virtual authenticator (or none, with `authenticator: false`). */
async function openPage(
  context: BrowserContext,
  server: Server,
  options: { authenticator?: boolean } = {},
): Promise<{ page: Page; cdp: CDPSession; authenticatorId: string }> {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  let authenticatorId = '';
  if (options.authenticator !== false) {
    ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    }));
  }
  await page.goto(`${server.url}/test/passkeys`);
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
  return { page, cdp, authenticatorId };
}

function api(page: Page, method: string, path: string, body?: unknown, csrf?: string): Promise<Answer> {
  return page.evaluate(
    ([m, p, b, c]) =>
      (window as unknown as { api: (...a: unknown[]) => Promise<Answer> }).api(
        m,
        p,
        b ?? undefined,
        c ?? undefined,
      ),
    [method, path, body ?? null, csrf ?? null] as const,
  );
}

function browserCall(page: Page, name: 'createPasskey' | 'getPasskey', options: unknown): Promise<unknown> {
  return page.evaluate(
    ([n, o]) => (window as unknown as Record<string, (o: unknown) => Promise<unknown>>)[n]?.(o),
    [name, options] as const,
  );
}

/** Signs up and signs in (cookie mode) from the page; returns the CSRF token. */
async function signIn(page: Page, email: string, signup = true): Promise<string> {
  if (signup) expect((await api(page, 'POST', '/v1/signup', { email, password: PASSWORD })).status).toBe(201);
  const login = await api(page, 'POST', '/v1/login', { email, password: PASSWORD });
  expect(login.status).toBe(200);
  return login.body.csrf_token as string;
}

/** Registers a passkey from the signed-in page; returns the answer (with the renewed CSRF token). */
async function register(page: Page, csrf: string, name: string): Promise<Answer> {
  const options = await api(page, 'POST', '/v1/passkeys/register/options', {}, csrf);
  expect(options.status).toBe(200);
  const response = await browserCall(page, 'createPasskey', options.body);
  return api(page, 'POST', '/v1/passkeys/register', { response, name }, csrf);
}

/** A fresh assertion from the page's authenticator for a new sign-in challenge. */
async function assertion(page: Page): Promise<unknown> {
  const options = await api(page, 'POST', '/v1/passkeys/login/options', {});
  expect(options.status).toBe(200);
  expect(options.body).toMatchObject({ rpId: 'localhost', userVerification: 'required' });
  return browserCall(page, 'getPasskey', options.body);
}

let browser: Browser;
let server: Server;

beforeAll(async () => {
  // `localhost` must reach the server on 127.0.0.1 (not ::1).
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP localhost 127.0.0.1'],
    headless: true,
  });
  server = await startServer();
}, 60_000);

afterAll(async () => {
  await browser.close();
  await server.close();
});

describe('passkeys in Chromium with a virtual authenticator', () => {
  it('registers a passkey, then signs in with it alone in every mode', async () => {
    const context = await browser.newContext();
    const { page } = await openPage(context, server);
    const csrf = await signIn(page, 'ada@example.com');
    // Another session of the user (from outside the browser), which adding a passkey revokes.
    const other = await fetch(`${server.url}/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ada@example.com', password: PASSWORD, mode: 'token' }),
    });
    expect(other.status).toBe(200);
    const otherToken = ((await other.json()) as { access_token: string }).access_token;

    const registered = await register(page, csrf, 'Laptop');
    expect(registered.status).toBe(201);
    expect(registered.body.passkey).toMatchObject({
      name: 'Laptop',
      transports: ['internal'],
      last_used_at: null,
    });
    expect(registered.body.csrf_token).not.toBe(csrf);
    const me = await page.evaluate(
      async (token) => (await fetch('/v1/me', { headers: { authorization: `Bearer ${token}` } })).status,
      otherToken,
    );
    expect(me).toBe(401);
    const list = await api(page, 'GET', '/v1/passkeys');
    expect((list.body.passkeys as unknown[]).length).toBe(1);

    let csrfNow = '';
    for (const mode of ['cookie', 'token', 'hybrid'] as const) {
      await context.clearCookies();
      const started = performance.now();
      const response = await assertion(page);
      const login = await api(page, 'POST', '/v1/passkeys/login', { response, mode });
      const elapsed = performance.now() - started;
      console.log(
        `[figure] passkey sign-in (${mode}), options + navigator.credentials.get + verify: ${elapsed.toFixed(1)} ms`,
      );
      expect(login.status).toBe(200);
      expect(login.body.user).toMatchObject({ email: 'ada@example.com' });
      expect(login.body.session).toMatchObject({ mode });
      if (mode === 'token') expect(typeof login.body.access_token).toBe('string');
      else csrfNow = login.body.csrf_token as string;
      // The same assertion again: its challenge was used up.
      const replay = await api(page, 'POST', '/v1/passkeys/login', { response, mode });
      expect(replay.status).toBe(401);
      expect(replay.body.code).toBe('passkey_invalid');
    }
    const used = await api(page, 'GET', '/v1/passkeys');
    expect((used.body.passkeys as { last_used_at: string | null }[])[0]?.last_used_at).not.toBeNull();

    // Rename, then remove with a fresh passkey assertion as the proof.
    const id = (used.body.passkeys as { id: string }[])[0]?.id ?? '';
    const token = csrfNow;
    const renamed = await api(page, 'PATCH', `/v1/passkeys/${id}`, { name: 'Work laptop' }, token);
    expect(renamed.body.passkey).toMatchObject({ name: 'Work laptop' });
    const wrong = await api(
      page,
      'POST',
      `/v1/passkeys/${id}/remove`,
      { password: 'not the password' },
      token,
    );
    expect(wrong.status).toBe(401);
    const proof = await assertion(page);
    const removed = await api(page, 'POST', `/v1/passkeys/${id}/remove`, { assertion: proof }, token);
    expect(removed.status).toBe(200);
    expect((await api(page, 'GET', '/v1/passkeys')).body.passkeys).toEqual([]);
    // A passkey that is gone signs no one in.
    await context.clearCookies();
    const orphan = await api(page, 'POST', '/v1/passkeys/login', { response: await assertion(page) });
    expect(orphan.status).toBe(401);
    await context.close();
  }, 60_000);

  it('answers mfa_required with passkey among the methods, and a passkey finishes the login', async () => {
    const context = await browser.newContext();
    const { page } = await openPage(context, server);
    const csrf = await signIn(page, 'grace@example.com');
    expect((await register(page, csrf, 'Phone')).status).toBe(201);
    const user = await server.latchkey.store.getUserByEmail('grace@example.com');
    // A confirmed TOTP factor turns the second step on (its code is not used here).
    await server.latchkey.store.createFactor({
      id: 'totp-1',
      userId: user?.id ?? '',
      kind: 'totp',
      label: 'App',
      secret: 'unused',
      lastUsedStep: null,
      createdAt: Date.now(),
      confirmedAt: Date.now(),
      lastUsedAt: null,
    });
    await context.clearCookies();
    const login = await api(page, 'POST', '/v1/login', {
      email: 'grace@example.com',
      password: PASSWORD,
      mode: 'token',
    });
    expect(login.status).toBe(401);
    expect(login.body).toMatchObject({ code: 'mfa_required', methods: ['totp', 'passkey', 'recovery_code'] });

    // Another user's passkey is no second factor for grace.
    const other = await browser.newContext();
    const stranger = await openPage(other, server);
    expect(
      (await register(stranger.page, await signIn(stranger.page, 'mallory@example.com'), 'x')).status,
    ).toBe(201);
    const foreign = await api(page, 'POST', '/v1/mfa/verify', {
      challenge: login.body.challenge,
      passkey: await assertion(stranger.page),
    });
    expect(foreign.status).toBe(401);
    expect(foreign.body.code).toBe('invalid_code');
    await other.close();

    const verified = await api(page, 'POST', '/v1/mfa/verify', {
      challenge: login.body.challenge,
      passkey: await assertion(page),
    });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ user: { email: 'grace@example.com' }, session: { mode: 'token' } });
    await context.close();
  }, 60_000);

  it('refuses a registration and a sign-in from an origin the server is not configured for', async () => {
    // Same store, but configured for another origin than the one its page is served from.
    const elsewhere = await startServer({ store: server.latchkey.store, origins: ['http://localhost:1'] });
    try {
      const context = await browser.newContext();
      const { page, cdp, authenticatorId } = await openPage(context, server);
      const csrf = await signIn(page, 'eve@example.com');
      expect((await register(page, csrf, 'Key')).status).toBe(201);
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });

      const away = await openPage(context, elsewhere);
      for (const credential of credentials) {
        await away.cdp.send('WebAuthn.addCredential', { authenticatorId: away.authenticatorId, credential });
      }
      const login = await api(away.page, 'POST', '/v1/passkeys/login', {
        response: await assertion(away.page),
      });
      expect(login.status).toBe(401);
      expect(login.body.code).toBe('passkey_invalid');

      // A fresh authenticator (the first one holds an excluded credential).
      const fresh = await openPage(context, elsewhere);
      const csrfAway = await signIn(fresh.page, 'eve@example.com', false);
      const registered = await register(fresh.page, csrfAway, 'Refused');
      expect(registered.status).toBe(401);
      expect(registered.body.code).toBe('passkey_invalid');
      expect((await api(fresh.page, 'GET', '/v1/passkeys')).body.passkeys).toHaveLength(1);
      await context.close();
    } finally {
      await elsewhere.close();
    }
  }, 60_000);

  it('refuses a cloned credential whose signature counter is behind, and logs it', async () => {
    const context = await browser.newContext();
    const { page, cdp, authenticatorId } = await openPage(context, server);
    const csrf = await signIn(page, 'clone@example.com');
    expect((await register(page, csrf, 'Original')).status).toBe(201);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    const [snapshot] = credentials;
    if (snapshot === undefined) throw new Error('no credential');

    // The original signs in twice: the stored counter moves past the snapshot's next value.
    for (let i = 0; i < 2; i += 1) {
      await context.clearCookies();
      expect(
        (await api(page, 'POST', '/v1/passkeys/login', { response: await assertion(page) })).status,
      ).toBe(200);
    }
    const owner = await server.latchkey.store.getUserByEmail('clone@example.com');
    const [stored] = await server.latchkey.store.listPasskeys(owner?.id ?? '');
    if (stored === undefined) throw new Error('no passkey stored');
    expect(stored.counter).toBeGreaterThan(snapshot.signCount + 1);

    // The clone: the same key with the old counter, in another authenticator.
    const clone = await openPage(context, server, { authenticator: true });
    await clone.cdp.send('WebAuthn.addCredential', {
      authenticatorId: clone.authenticatorId,
      credential: snapshot,
    });
    await context.clearCookies();
    const cloned = await api(clone.page, 'POST', '/v1/passkeys/login', {
      response: await assertion(clone.page),
    });
    expect(cloned.status).toBe(401);
    expect(cloned.body.code).toBe('passkey_invalid');
    expect(server.logs.some((line) => line.includes('"event":"passkey.counter_regression"'))).toBe(true);
    expect((await server.latchkey.store.getPasskey(stored.id))?.counter).toBe(stored.counter);
    await context.close();
  }, 60_000);
});
