/**
 * Accounts made with a passkey and no password, over HTTP with a software authenticator (the
 * ceremonies in Chromium are in `test/browser/passkey-signup.test.ts`): sign-up in each mode,
 * sign-in with the passkey, a password login that fails like a wrong password, the challenge's
 * rules, the sign-up limit, and the last passkey that cannot be removed.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, ISSUER, json, PASSWORD, signup, type TestApp } from '../helpers/app.js';
import { CookieJar, formToken, getPage, postForm } from '../helpers/pages.js';
import { createSoftAuthenticator, type SoftAuthenticator } from '../helpers/soft-authenticator.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

type CreationOptions = { challenge: string; rp: { id: string }; user: { id: string; name: string } };
interface Signed {
  access_token: string;
  user: { id: string; email: string };
}

async function post(
  url: string,
  payload: unknown,
  headers: Record<string, string> = {},
  remoteAddress?: string,
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url,
    payload: payload as object,
    headers: { origin: ISSUER, ...headers },
    ...(remoteAddress === undefined ? {} : { remoteAddress }),
  });
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** A passkey sign-up of `email`; returns the answer and the authenticator that holds the passkey. */
async function passkeySignup(
  email: string,
  options: { mode?: string; authenticator?: SoftAuthenticator; remoteAddress?: string } = {},
): Promise<{ answer: LightMyRequestResponse; authenticator: SoftAuthenticator }> {
  const authenticator = options.authenticator ?? createSoftAuthenticator(ISSUER);
  const created = await post('/v1/passkeys/signup/options', { email }, {}, options.remoteAddress);
  expect(created.statusCode).toBe(200);
  const response = authenticator.create(json<CreationOptions>(created));
  const answer = await post(
    '/v1/passkeys/signup',
    { response, name: 'Phone', mode: options.mode ?? 'token' },
    {},
    options.remoteAddress,
  );
  return { answer, authenticator };
}

async function passkeyLogin(authenticator: SoftAuthenticator, id?: string): Promise<LightMyRequestResponse> {
  const options = json<{ challenge: string }>(await post('/v1/passkeys/login/options', {}));
  return post('/v1/passkeys/login', { response: authenticator.get(options, id), mode: 'token' });
}

async function assertion(authenticator: SoftAuthenticator, id?: string): Promise<Record<string, unknown>> {
  const options = json<{ challenge: string }>(await post('/v1/passkeys/login/options', {}));
  return authenticator.get(options, id);
}

describe('sign-up with a passkey', () => {
  it('makes an account with no password, signs it in, and the passkey signs in again', async () => {
    const created = await post('/v1/passkeys/signup/options', { email: ' Ada@Example.com ' });
    const options = json<CreationOptions & { authenticatorSelection: Record<string, string> }>(created);
    expect(options.user.name).toBe('ada@example.com');
    expect(options.authenticatorSelection).toMatchObject({
      residentKey: 'required',
      userVerification: 'required',
    });
    const authenticator = createSoftAuthenticator(ISSUER);
    const answer = await post('/v1/passkeys/signup', {
      response: authenticator.create(options),
      mode: 'token',
    });
    expect(answer.statusCode).toBe(201);
    const signed = json<Signed>(answer);
    expect(signed.user.email).toBe('ada@example.com');
    // The passkey's user handle is the account's id.
    expect(Buffer.from(options.user.id, 'base64url').toString('utf8')).toBe(signed.user.id);
    expect((await t.app.inject({ url: '/v1/me', headers: bearer(signed.access_token) })).statusCode).toBe(
      200,
    );
    const listed = json<{ passkeys: { name: string }[] }>(
      await t.app.inject({ url: '/v1/passkeys', headers: bearer(signed.access_token) }),
    );
    expect(listed.passkeys.map((p) => p.name)).toEqual(['Passkey']);
    const user = await t.store.getUserByEmail('ada@example.com');
    expect(user?.passwordHash).toBe('');

    const again = await passkeyLogin(authenticator);
    expect(again.statusCode).toBe(200);
    expect(json<Signed>(again).user.id).toBe(signed.user.id);
  });

  it('signs in in cookie mode too (the default)', async () => {
    const authenticator = createSoftAuthenticator(ISSUER);
    const options = json<CreationOptions>(
      await post('/v1/passkeys/signup/options', { email: 'cy@example.com' }),
    );
    const answer = await post('/v1/passkeys/signup', { response: authenticator.create(options) });
    expect(answer.statusCode).toBe(201);
    expect(String(answer.headers['set-cookie'])).toContain('__Host-latchkey_session=');
    expect(json<{ csrf_token: string }>(answer).csrf_token).toBeTruthy();
  });

  it('answers a password login of the account like a wrong password (no way to tell it has none)', async () => {
    await passkeySignup('ada@example.com');
    await signup(t.app, 'bob@example.com');
    const passwordless = await post('/v1/login', { email: 'ada@example.com', password: PASSWORD });
    const wrong = await post('/v1/login', { email: 'bob@example.com', password: 'not the password' });
    const unknown = await post('/v1/login', { email: 'nobody@example.com', password: PASSWORD });
    for (const answer of [passwordless, wrong, unknown]) {
      expect(answer.statusCode).toBe(401);
      expect(answer.headers['set-cookie']).toBeUndefined();
    }
    expect(passwordless.body).toBe(wrong.body);
    expect(passwordless.body).toBe(unknown.body);
    // The empty hash is no password: nothing verifies against it.
    expect((await post('/v1/login', { email: 'ada@example.com', password: ' ' })).statusCode).toBe(401);
  });

  it('refuses a taken address with 409 (LATCHKEY_EMAIL_VERIFICATION=optional) and stores no passkey', async () => {
    await signup(t.app, 'bob@example.com');
    const { answer, authenticator } = await passkeySignup('bob@example.com');
    expect(answer.statusCode).toBe(409);
    expect(json<{ code: string }>(answer).code).toBe('email_taken');
    expect(await t.store.getPasskey(authenticator.ids[0] ?? '')).toBeNull();
    expect((await passkeyLogin(authenticator)).statusCode).toBe(401);
  });

  it('uses a challenge once, only for a sign-up, and refuses a bad address or a forged response', async () => {
    expect((await post('/v1/passkeys/signup/options', { email: 'not an address' })).statusCode).toBe(400);
    const authenticator = createSoftAuthenticator(ISSUER);
    const options = json<CreationOptions>(
      await post('/v1/passkeys/signup/options', { email: 'ada@example.com' }),
    );
    const response = authenticator.create(options);
    expect((await post('/v1/passkeys/signup', { response })).statusCode).toBe(201);
    const replay = await post('/v1/passkeys/signup', { response });
    expect(json<{ code: string }>(replay).code).toBe('passkey_invalid');

    // A registration challenge of a signed-in user is not a sign-up challenge.
    await signup(t.app, 'bob@example.com');
    const bob = json<Signed>(
      await post('/v1/login', { email: 'bob@example.com', password: PASSWORD, mode: 'token' }),
    );
    const register = json<CreationOptions>(
      await post('/v1/passkeys/register/options', {}, bearer(bob.access_token)),
    );
    const other = createSoftAuthenticator(ISSUER);
    const crossed = await post('/v1/passkeys/signup', { response: other.create(register) });
    expect(json<{ code: string }>(crossed).code).toBe('passkey_invalid');
    // From another origin: refused.
    const evil = createSoftAuthenticator('https://evil.example');
    const fromEvil = json<CreationOptions>(
      await post('/v1/passkeys/signup/options', { email: 'eve@example.com' }),
    );
    expect((await post('/v1/passkeys/signup', { response: evil.create(fromEvil) })).statusCode).toBe(401);
    expect(await t.store.getUserByEmail('eve@example.com')).toBeNull();
  });

  it('counts against the per-IP sign-up limit of password sign-ups (20 an hour)', async () => {
    const ip = '198.51.100.9';
    for (let i = 0; i < 20; i += 1) {
      const answer = await post('/v1/signup', { email: `u${i}@example.com`, password: PASSWORD }, {}, ip);
      expect(answer.statusCode).toBe(201);
    }
    const { answer } = await passkeySignup('late@example.com', { remoteAddress: ip });
    expect(answer.statusCode).toBe(429);
    expect(await t.store.getUserByEmail('late@example.com')).toBeNull();
  });
});

describe('an account without a password', () => {
  it('cannot remove its last passkey (it would be locked out), but can once it has another', async () => {
    const { answer, authenticator } = await passkeySignup('ada@example.com');
    let token = json<Signed>(answer).access_token;
    const [first] = authenticator.ids;
    const refused = await post(
      `/v1/passkeys/${first}/remove`,
      { assertion: await assertion(authenticator, first) },
      bearer(token),
    );
    expect(refused.statusCode).toBe(403);
    expect(json<{ detail: string }>(refused).detail).toMatch(/only way to sign in/);
    expect(await t.store.getPasskey(first ?? '')).not.toBeNull();

    const options = json<CreationOptions>(await post('/v1/passkeys/register/options', {}, bearer(token)));
    const added = await post(
      '/v1/passkeys/register',
      { response: authenticator.create(options) },
      bearer(token),
    );
    expect(added.statusCode).toBe(201);
    token = json<Signed>(added).access_token;
    const second = authenticator.ids[1];
    const removed = await post(
      `/v1/passkeys/${first}/remove`,
      { assertion: await assertion(authenticator, second) },
      bearer(token),
    );
    expect(removed.statusCode).toBe(200);
    token = json<Signed>(removed).access_token;
    const last = await post(
      `/v1/passkeys/${second}/remove`,
      { assertion: await assertion(authenticator, second) },
      bearer(token),
    );
    expect(last.statusCode).toBe(403);
    expect((await passkeyLogin(authenticator, second)).statusCode).toBe(200);
  });

  it('keeps one passkey when its last two are removed at once', async () => {
    const { answer, authenticator } = await passkeySignup('ada@example.com');
    const first = json<Signed>(answer).access_token;
    const options = json<CreationOptions>(await post('/v1/passkeys/register/options', {}, bearer(first)));
    const added = await post(
      '/v1/passkeys/register',
      { response: authenticator.create(options) },
      bearer(first),
    );
    const token = json<Signed>(added).access_token;
    const [a, b] = authenticator.ids;
    const proofs = [await assertion(authenticator, a), await assertion(authenticator, b)];
    const answers = await Promise.all(
      [a, b].map((id, i) => post(`/v1/passkeys/${id}/remove`, { assertion: proofs[i] }, bearer(token))),
    );
    expect(answers.map((r) => r.statusCode).filter((status) => status === 200).length).toBeLessThanOrEqual(1);
    const user = await t.store.getUserByEmail('ada@example.com');
    expect((await t.store.listPasskeys(user?.id ?? '')).length).toBeGreaterThanOrEqual(1);
  });

  it('cannot turn on TOTP (it guards a password it does not have) nor change a password it does not have', async () => {
    const { answer } = await passkeySignup('ada@example.com');
    const token = json<Signed>(answer).access_token;
    const totp = await post('/v1/mfa/totp', {}, bearer(token));
    expect(totp.statusCode).toBe(403);
    const change = await post(
      '/v1/password',
      { current_password: 'anything at all', new_password: 'a brand new passphrase 42' },
      bearer(token),
    );
    expect(change.statusCode).toBe(401);
  });
});

describe('the account pages of an account without a password', () => {
  it('say how to set a password instead of asking for the current one, and refuse TOTP in words', async () => {
    const authenticator = createSoftAuthenticator(ISSUER);
    const options = json<CreationOptions>(
      await post('/v1/passkeys/signup/options', { email: 'ada@example.com' }),
    );
    const answer = await post('/v1/passkeys/signup', { response: authenticator.create(options) });
    expect(answer.statusCode).toBe(201);
    const jar = new CookieJar();
    jar.keep(answer);
    const account = await getPage(t.app, jar, '/account');
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain('id="no-password"');
    expect(account.body).toContain('href="/forgot"');
    expect(account.body).not.toContain('action="/account/password"');
    const security = await getPage(t.app, jar, '/account/security');
    const refused = await postForm(t.app, jar, '/account/security/totp', {
      csrf_token: formToken(security.body),
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain('Your account has no password: set one first');
    expect(await t.store.listFactors(json<Signed>(answer).user.id)).toEqual([]);
  });
});
