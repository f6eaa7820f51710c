/**
 * The passkey pages through Fastify inject: `/account/passkeys` lists the user's passkeys,
 * renames and removes them with plain forms (the session's CSRF token, the password to remove,
 * a 303 after), refuses a form without its token and another user's passkey (404, nothing
 * changed); the page and `/login` load their scripts from this origin under a CSP that allows
 * no other script. The ceremonies themselves run in Chromium (`test/browser/passkey-pages.test.ts`).
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PasskeyRecord } from '../../src/records.js';
import { createTestApp, PASSWORD, setCookies, signup, type TestApp } from '../helpers/app.js';
import { CookieJar, formToken, getPage, postForm, signInWithForm } from '../helpers/pages.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
  await signup(t.app, 'ada@example.com');
  await signup(t.app, 'eve@example.com');
});
afterEach(async () => {
  await t.close();
});

const SESSION = '__Host-latchkey_session';

/** A passkey as the API would have stored it (the ceremony is the browser test's). */
async function storedPasskey(email: string, id: string, name: string): Promise<PasskeyRecord> {
  const user = await t.store.getUserByEmail(email);
  if (user === null) throw new Error(`no user ${email}`);
  const passkey: PasskeyRecord = {
    id,
    userId: user.id,
    publicKey: Buffer.from('not a key').toString('base64url'),
    counter: 0,
    transports: ['internal'],
    backupEligible: true,
    backedUp: true,
    aaguid: '00000000-0000-0000-0000-000000000000',
    name,
    createdAt: t.clock(),
    lastUsedAt: null,
  };
  await t.store.createPasskey(passkey);
  return passkey;
}

async function namesOf(email: string): Promise<string[]> {
  const user = await t.store.getUserByEmail(email);
  return (await t.store.listPasskeys(user?.id ?? '')).map((p) => p.name);
}

describe('/account/passkeys', () => {
  it('is linked from /account, lists the passkeys and sends a signed-out visitor to sign in', async () => {
    await storedPasskey('ada@example.com', 'ada-key-1', 'Laptop <b>');
    const { jar } = await signInWithForm(t.app, 'ada@example.com', PASSWORD);
    expect((await getPage(t.app, jar, '/account')).body).toContain('href="/account/passkeys"');
    const page = await getPage(t.app, jar, '/account/passkeys');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Your passkeys (1)');
    expect(page.body).toContain('Laptop &lt;b>');
    expect(page.body).not.toContain('Laptop <b>');
    expect(page.body).toContain('Yes (synced)');
    expect(page.body).toMatch(/data-csrf="[^"]+"/);
    const anonymous = await getPage(t.app, new CookieJar(), '/account/passkeys');
    expect(anonymous.statusCode).toBe(303);
    expect(anonymous.headers.location).toBe('/login');
  });

  it('loads its script from this origin under a CSP with script-src self (only it, /login and /signup)', async () => {
    const { jar } = await signInWithForm(t.app, 'ada@example.com', PASSWORD);
    const page = await getPage(t.app, jar, '/account/passkeys');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|nonce-|sha256-/);
    const script = /<script type="module" src="(\/assets\/passkey-account-[\w-]+\.js)"><\/script>/.exec(
      page.body,
    )?.[1];
    expect(script).toBeDefined();
    // No inline script: every <script> has a src.
    expect(page.body.match(/<script/g)).toHaveLength(1);
    const served = await t.app.inject({ method: 'GET', url: script ?? '' });
    expect(served.statusCode).toBe(200);
    expect(served.headers['content-type']).toContain('text/javascript');
    expect(served.headers['cache-control']).toContain('immutable');

    const login = await getPage(t.app, new CookieJar(), '/login');
    expect(String(login.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(login.body).toMatch(/<script type="module" src="\/assets\/passkey-login-[\w-]+\.js"><\/script>/);
    expect(login.body).toContain('autocomplete="username webauthn"');
    expect(login.body).toMatch(/<button type="button" id="passkey-login" class="[^"]*" hidden/);
    // Every other page keeps the CSP without script.
    const account = await getPage(t.app, jar, '/account');
    expect(String(account.headers['content-security-policy'])).not.toContain('script-src');
    expect(account.body).not.toContain('<script');
    // /signup loads its own (passkey sign-up), hidden-button first like /login's.
    const signupPage = await getPage(t.app, new CookieJar(), '/signup');
    expect(String(signupPage.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(signupPage.body).toMatch(
      /<script type="module" src="\/assets\/passkey-signup-[\w-]+\.js"><\/script>/,
    );
    expect(signupPage.body).toMatch(/<button type="button" id="passkey-signup" class="[^"]*" hidden/);
    expect(signupPage.body.match(/<script/g)).toHaveLength(1);
  });

  it('renames a passkey with the form, then says so', async () => {
    await storedPasskey('ada@example.com', 'ada-key-1', 'Laptop');
    const { jar } = await signInWithForm(t.app, 'ada@example.com', PASSWORD);
    const page = await getPage(t.app, jar, '/account/passkeys');
    const renamed = await postForm(t.app, jar, '/account/passkeys/rename', {
      csrf_token: formToken(page.body),
      passkey_id: 'ada-key-1',
      name: 'Work laptop',
    });
    expect(renamed.statusCode).toBe(303);
    expect(renamed.headers.location).toBe('/account/passkeys?notice=passkey_renamed');
    expect(await namesOf('ada@example.com')).toEqual(['Work laptop']);
    const after = await getPage(t.app, jar, '/account/passkeys?notice=passkey_renamed');
    expect(after.body).toContain('The passkey is renamed.');
    expect(after.body).toContain('Work laptop');
  });

  it('removes a passkey with the password (the session renewed), and not without it', async () => {
    await storedPasskey('ada@example.com', 'ada-key-1', 'Laptop');
    await storedPasskey('ada@example.com', 'ada-key-2', 'Phone');
    const { jar } = await signInWithForm(t.app, 'ada@example.com', PASSWORD);
    const other = await signInWithForm(t.app, 'ada@example.com', PASSWORD);
    const page = await getPage(t.app, jar, '/account/passkeys');
    const wrong = await postForm(t.app, jar, '/account/passkeys/remove', {
      csrf_token: formToken(page.body),
      passkey_id: 'ada-key-1',
      username: 'ada@example.com',
      password: 'not the password',
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain('The password is incorrect.');
    expect(await namesOf('ada@example.com')).toEqual(['Laptop', 'Phone']);

    const removed = await postForm(t.app, jar, '/account/passkeys/remove', {
      csrf_token: formToken(page.body),
      passkey_id: 'ada-key-1',
      username: 'ada@example.com',
      password: PASSWORD,
    });
    expect(removed.statusCode).toBe(303);
    expect(removed.headers.location).toBe('/account/passkeys?notice=passkey_removed');
    expect(setCookies(removed).has(SESSION)).toBe(true);
    expect(await namesOf('ada@example.com')).toEqual(['Phone']);
    // This browser stays signed in (renewed cookie); the other session is signed out.
    expect((await getPage(t.app, jar, '/account/passkeys')).statusCode).toBe(200);
    expect((await getPage(t.app, other.jar, '/account')).statusCode).toBe(303);
  });

  it('refuses a form without its session token, or with another session’s, and changes nothing', async () => {
    await storedPasskey('ada@example.com', 'ada-key-1', 'Laptop');
    const { jar } = await signInWithForm(t.app, 'ada@example.com', PASSWORD);
    const eve = await signInWithForm(t.app, 'eve@example.com', PASSWORD);
    for (const token of [undefined, eve.token, 'x'.repeat(40)]) {
      const fields = token === undefined ? {} : { csrf_token: token };
      const rename = await postForm(t.app, jar, '/account/passkeys/rename', {
        ...fields,
        passkey_id: 'ada-key-1',
        name: 'Owned',
      });
      expect(rename.statusCode).toBe(403);
      expect(rename.body).toContain('This form has expired');
      const remove = await postForm(t.app, jar, '/account/passkeys/remove', {
        ...fields,
        passkey_id: 'ada-key-1',
        password: PASSWORD,
      });
      expect(remove.statusCode).toBe(403);
      expect(setCookies(remove).has(SESSION)).toBe(false);
    }
    expect(await namesOf('ada@example.com')).toEqual(['Laptop']);
    expect(t.logs.some((line) => line.includes('"event":"csrf.token_refused"'))).toBe(true);
  });

  it('answers 404 for another user’s passkey (or none) and changes nothing', async () => {
    await storedPasskey('ada@example.com', 'ada-key-1', 'Laptop');
    const eve = await signInWithForm(t.app, 'eve@example.com', PASSWORD);
    const page = await getPage(t.app, eve.jar, '/account/passkeys');
    expect(page.body).not.toContain('ada-key-1');
    for (const id of ['ada-key-1', 'no-such-key']) {
      const rename = await postForm(t.app, eve.jar, '/account/passkeys/rename', {
        csrf_token: formToken(page.body),
        passkey_id: id,
        name: 'Owned',
      });
      expect(rename.statusCode).toBe(404);
      expect(rename.body).toContain('This passkey is not on your account');
      const remove = await postForm(t.app, eve.jar, '/account/passkeys/remove', {
        csrf_token: formToken(page.body),
        passkey_id: id,
        password: PASSWORD,
      });
      expect(remove.statusCode).toBe(404);
      expect(setCookies(remove).has(SESSION)).toBe(false);
    }
    expect(await namesOf('ada@example.com')).toEqual(['Laptop']);
    expect(await namesOf('eve@example.com')).toEqual([]);
  });

  it('refuses a malformed form with a 400 page (unknown field, too long), not a 500', async () => {
    await storedPasskey('ada@example.com', 'ada-key-1', 'Laptop');
    const { jar, token } = await signInWithForm(t.app, 'ada@example.com', PASSWORD);
    const unknown = await postForm(t.app, jar, '/account/passkeys/rename', {
      csrf_token: token,
      passkey_id: 'ada-key-1',
      name: 'x',
      extra: '1',
    });
    expect(unknown.statusCode).toBe(400);
    const long = await postForm(t.app, jar, '/account/passkeys/rename', {
      csrf_token: token,
      passkey_id: 'ada-key-1',
      name: 'x'.repeat(101),
    });
    expect(long.statusCode).toBe(400);
    expect(await namesOf('ada@example.com')).toEqual(['Laptop']);
  });
});
