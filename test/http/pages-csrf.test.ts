/**
 * Attacks on the pages' forms (Fastify inject): login CSRF on the sign-in and sign-up forms, the
 * session-bound token of the account forms (missing, foreign, stale), and a cross-site post.
 * Each refusal changes nothing. Also the account forms themselves (revoke, sign out everywhere,
 * change password).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORM_TOKEN_TTL } from '../../src/http/pages/form-csrf.js';
import { createTestApp, ISSUER, PASSWORD, setCookies, signup, type TestApp } from '../helpers/app.js';
import { CookieJar, formToken, getPage, postForm, signInWithForm } from '../helpers/pages.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  await signup(t.app, 'ada@example.com');
  await signup(t.app, 'eve@example.com');
});
afterAll(async () => {
  await t.close();
});

async function liveSessions(email: string): Promise<number> {
  const user = await t.store.getUserByEmail(email);
  return user === null ? 0 : (await t.store.listUserSessions(user.id, t.clock())).length;
}

async function isSignedIn(jar: CookieJar): Promise<boolean> {
  const response = await t.app.inject({ method: 'GET', url: '/account', headers: { cookie: jar.header() } });
  return response.statusCode === 200;
}

describe('login CSRF: the sign-in and sign-up forms need the token of this browser', () => {
  it('refuses a missing, tampered, cookie-less, foreign or expired token with a 403, and signs no one in', async () => {
    const victim = new CookieJar();
    const token = formToken((await getPage(t.app, victim, '/login')).body);
    const attacker = new CookieJar();
    const attackerToken = formToken((await getPage(t.app, attacker, '/login')).body);
    const before = await liveSessions('eve@example.com');
    const attempts: [string, CookieJar, string | undefined][] = [
      ['missing', victim, undefined],
      ['empty', victim, ''],
      ['tampered', victim, `${token.slice(0, -2)}xx`],
      ['no cookie', new CookieJar(), token],
      // The attacker's own (valid) token, posted with the victim's cookie: bound to another nonce.
      ['foreign', victim, attackerToken],
      ['timestamp moved', victim, token.replace(/^\d+/, String(t.clock() + 1000))],
    ];
    for (const [what, jar, csrf] of attempts) {
      for (const url of ['/login', '/signup']) {
        const fields: Record<string, string> = { email: 'eve@example.com', password: PASSWORD };
        if (csrf !== undefined) fields.csrf_token = csrf;
        const response = await postForm(t.app, jar, url, fields);
        expect(response.statusCode, `${what} ${url}`).toBe(403);
        expect(response.body, what).toContain('This form has expired or was not sent from this site.');
        expect(setCookies(response).has('__Host-latchkey_session'), what).toBe(false);
      }
    }
    expect(await liveSessions('eve@example.com')).toBe(before);
    const refusals = t.logs.filter((line) => line.includes('"event":"csrf.login_refused"'));
    expect(refusals.length).toBeGreaterThanOrEqual(attempts.length * 2);
    for (const line of refusals) {
      expect(line).not.toContain(token);
      expect(line).not.toContain(PASSWORD);
    }

    // Expired: the same token, once its two hours are over.
    t.clock.advance(FORM_TOKEN_TTL + 1000);
    const expired = await postForm(t.app, victim, '/login', {
      email: 'eve@example.com',
      password: PASSWORD,
      csrf_token: token,
    });
    expect(expired.statusCode).toBe(403);
    expect(await liveSessions('eve@example.com')).toBe(before);
    // A fresh form works again.
    const fresh = formToken((await getPage(t.app, victim, '/login')).body);
    const ok = await postForm(t.app, victim, '/login', {
      email: 'eve@example.com',
      password: PASSWORD,
      csrf_token: fresh,
    });
    expect(ok.statusCode).toBe(303);
  });

  it('refuses a sign-up without its token: no account is created', async () => {
    const response = await postForm(t.app, new CookieJar(), '/signup', {
      email: 'planted@example.com',
      password: PASSWORD,
    });
    expect(response.statusCode).toBe(403);
    expect(await t.store.getUserByEmail('planted@example.com')).toBeNull();
  });

  it('refuses a sign-in form posted from another origin (Origin, Sec-Fetch-Site) before any work', async () => {
    const jar = new CookieJar();
    const token = formToken((await getPage(t.app, jar, '/login')).body);
    for (const headers of [
      { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      { origin: 'null' },
      { 'sec-fetch-site': 'same-site', origin: 'https://sub.auth.example.test' },
    ]) {
      const response = await postForm(
        t.app,
        jar,
        '/login',
        { email: 'eve@example.com', password: PASSWORD, csrf_token: token },
        headers,
      );
      expect(response.statusCode).toBe(403);
      expect(setCookies(response).has('__Host-latchkey_session')).toBe(false);
    }
    const own = await postForm(
      t.app,
      jar,
      '/login',
      { email: 'eve@example.com', password: PASSWORD, csrf_token: token },
      { origin: ISSUER, 'sec-fetch-site': 'same-origin' },
    );
    expect(own.statusCode).toBe(303);
  });
});

describe('the account forms need the session token', () => {
  it('refuses a missing, foreign or stale token with a 403 page, and changes nothing', async () => {
    const ada = await signInWithForm(t.app, 'ada@example.com', PASSWORD);
    const other = await signInWithForm(t.app, 'ada@example.com', PASSWORD);
    const eve = await signInWithForm(t.app, 'eve@example.com', PASSWORD);
    // Stale: the token of a session that has since ended (this browser signed in again).
    const stale = await signInWithForm(t.app, 'ada@example.com', PASSWORD);
    const staleToken = stale.token;
    await postForm(t.app, stale.jar, '/logout', { csrf_token: staleToken });
    const again = await signInWithForm(t.app, 'ada@example.com', PASSWORD);
    const before = await liveSessions('ada@example.com');

    for (const [what, token] of [
      ['missing', undefined],
      ['foreign (another user)', eve.token],
      ['foreign (another session of the same user)', other.token],
      ['stale (an ended session)', staleToken],
    ] as const) {
      for (const url of ['/account/sign-out-everywhere', '/account/sign-out-others', '/logout']) {
        const response = await postForm(
          t.app,
          again.jar,
          url,
          token === undefined ? {} : { csrf_token: token },
        );
        expect(response.statusCode, `${what} ${url}`).toBe(403);
        expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(response.body).toContain('This form has expired or was not sent from this site.');
      }
      const password = await postForm(t.app, again.jar, '/account/password', {
        ...(token === undefined ? {} : { csrf_token: token }),
        current_password: PASSWORD,
        new_password: 'a brand new passphrase',
      });
      expect(password.statusCode, what).toBe(403);
    }
    expect(await liveSessions('ada@example.com')).toBe(before);
    for (const jar of [ada.jar, other.jar, again.jar]) expect(await isSignedIn(jar)).toBe(true);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/v1/login',
          payload: { email: 'ada@example.com', password: PASSWORD },
        })
      ).statusCode,
    ).toBe(200);
  });

  it('refuses a valid account form posted from another origin, with nothing changed', async () => {
    const ada = await signInWithForm(t.app, 'ada@example.com', PASSWORD);
    const before = await liveSessions('ada@example.com');
    const response = await postForm(
      t.app,
      ada.jar,
      '/account/sign-out-everywhere',
      { csrf_token: ada.token },
      { origin: 'http://127.0.0.1:9999', 'sec-fetch-site': 'same-site' },
    );
    expect(response.statusCode).toBe(403);
    expect(await liveSessions('ada@example.com')).toBe(before);
    expect(await isSignedIn(ada.jar)).toBe(true);
  });
});

describe('the account forms', () => {
  it('revokes another session (signed out at its next request), then signs out everywhere', async () => {
    await signup(t.app, 'sam@example.com');
    const first = await signInWithForm(t.app, 'sam@example.com', PASSWORD);
    const second = await signInWithForm(t.app, 'sam@example.com', PASSWORD);
    const third = await signInWithForm(t.app, 'sam@example.com', PASSWORD);
    const user = await t.store.getUserByEmail('sam@example.com');
    const sessions = await t.store.listUserSessions(user?.id ?? '', t.clock());
    const secondSession = sessions.find((session) => second.jar.header().includes(session.id));
    expect(secondSession).toBeDefined();
    const revoke = await postForm(t.app, first.jar, `/account/sessions/${secondSession?.id ?? ''}/revoke`, {
      csrf_token: first.token,
    });
    expect(revoke.statusCode).toBe(303);
    expect(revoke.headers.location).toBe('/account?notice=session_revoked');
    const signedOut = await getPage(t.app, second.jar, '/account');
    expect(signedOut.statusCode).toBe(303);
    expect(signedOut.headers.location).toBe('/login');
    expect(second.jar.cookies.has('__Host-latchkey_session')).toBe(false);

    const gone = await postForm(t.app, first.jar, `/account/sessions/${secondSession?.id ?? ''}/revoke`, {
      csrf_token: first.token,
    });
    expect(gone.statusCode).toBe(404);
    expect(gone.body).toContain('That session has already ended.');

    const everywhere = await postForm(t.app, first.jar, '/account/sign-out-everywhere', {
      csrf_token: first.token,
    });
    expect(everywhere.statusCode).toBe(303);
    expect(everywhere.headers.location).toBe('/login?notice=signed_out_everywhere');
    expect(await isSignedIn(first.jar)).toBe(false);
    expect(await isSignedIn(third.jar)).toBe(false);
    expect(await liveSessions('sam@example.com')).toBe(0);
  });

  it('changes the password: refusals in words, then other sessions out and this one kept', async () => {
    await signup(t.app, 'kim@example.com');
    const here = await signInWithForm(t.app, 'kim@example.com', PASSWORD);
    const elsewhere = await signInWithForm(t.app, 'kim@example.com', PASSWORD);
    const wrong = await postForm(t.app, here.jar, '/account/password', {
      csrf_token: here.token,
      current_password: 'not my password',
      new_password: 'a brand new passphrase',
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain('The current password is incorrect.');
    expect(wrong.body).not.toContain('not my password');
    const weak = await postForm(t.app, here.jar, '/account/password', {
      csrf_token: here.token,
      current_password: PASSWORD,
      new_password: 'kim',
    });
    expect(weak.statusCode).toBe(400);
    expect(weak.body).toContain('The password must be at least 8 characters.');

    const changed = await postForm(t.app, here.jar, '/account/password', {
      csrf_token: here.token,
      username: 'kim@example.com',
      current_password: PASSWORD,
      new_password: 'a brand new passphrase',
    });
    expect(changed.statusCode).toBe(303);
    expect(changed.headers.location).toBe('/account?notice=password_changed');
    const account = await getPage(t.app, here.jar, '/account?notice=password_changed');
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain('Your password is changed.');
    expect(await isSignedIn(elsewhere.jar)).toBe(false);
    expect(await liveSessions('kim@example.com')).toBe(1);
    // The renewed session has a new token; the one of the replaced session is refused.
    expect(formToken(account.body)).not.toBe(here.token);
  });

  it('"Sign out" on this device\'s own row ends this session only', async () => {
    await signup(t.app, 'row@example.com');
    const here = await signInWithForm(t.app, 'row@example.com', PASSWORD);
    const there = await signInWithForm(t.app, 'row@example.com', PASSWORD);
    const id = /__Host-latchkey_session=([^.;]+)\./.exec(here.jar.header())?.[1] ?? '';
    const response = await postForm(t.app, here.jar, `/account/sessions/${id}/revoke`, {
      csrf_token: here.token,
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/login?notice=signed_out');
    expect(here.jar.cookies.has('__Host-latchkey_session')).toBe(false);
    expect(await isSignedIn(there.jar)).toBe(true);
    // Someone else's session id is "not found" (nothing confirmed, nothing revoked).
    const foreignId = /__Host-latchkey_session=([^.;]+)\./.exec(there.jar.header())?.[1] ?? '';
    const eve = await signInWithForm(t.app, 'eve@example.com', PASSWORD);
    const foreign = await postForm(t.app, eve.jar, `/account/sessions/${foreignId}/revoke`, {
      csrf_token: eve.token,
    });
    expect(foreign.statusCode).toBe(404);
    expect(await isSignedIn(there.jar)).toBe(true);
  });

  it('signs out through the header form: 303 to /login, the cookie cleared', async () => {
    const ada = await signInWithForm(t.app, 'ada@example.com', PASSWORD);
    const response = await postForm(t.app, ada.jar, '/logout', { csrf_token: ada.token });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/login?notice=signed_out');
    expect(ada.jar.cookies.has('__Host-latchkey_session')).toBe(false);
    const login = await getPage(t.app, ada.jar, '/login?notice=signed_out');
    expect(login.body).toContain('You are signed out.');
  });
});
