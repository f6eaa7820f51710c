/**
 * Passkeys through the API without a browser: the settings, what the options say, and the
 * attacks that need no authenticator (malformed bodies, forged responses, a registration
 * challenge taken to another session, a challenge used twice, guessing). The ceremonies with a
 * real authenticator are in `test/browser/passkeys.test.ts`.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/env.js';
import { loadConfig } from '../../src/config/config.js';
import { loadWebAuthnConfig } from '../../src/config/webauthn.js';
import { createTestApp, json, loginToken, signup, type TestApp } from '../helpers/app.js';

const b64 = (value: string): string => Buffer.from(value, 'utf8').toString('base64url');

/** A response that is well formed but signed by nobody, answering `challenge`. */
function forgedAssertion(challenge: string, id = 'AAAAAAAAAAAAAAAAAAAAAA'): Record<string, unknown> {
  return {
    id,
    rawId: id,
    type: 'public-key',
    clientExtensionResults: {},
    response: {
      clientDataJSON: b64(
        JSON.stringify({ type: 'webauthn.get', challenge, origin: 'https://auth.example.test' }),
      ),
      authenticatorData: b64('x'.repeat(37)),
      signature: b64('signature'),
    },
  };
}

describe('passkey settings', () => {
  it('default to the issuer: its hostname as RP id, its origin as the one origin', () => {
    const config = loadConfig({ LATCHKEY_ISSUER: 'https://auth.example.com:8443/' });
    expect(config.webauthn).toEqual({ rpId: 'auth.example.com', origins: ['https://auth.example.com:8443'] });
  });

  it('take a parent domain and several origins under it, and refuse an origin outside it', () => {
    expect(
      loadWebAuthnConfig(
        {
          LATCHKEY_WEBAUTHN_RP_ID: 'Example.com',
          LATCHKEY_WEBAUTHN_ORIGINS: 'https://a.example.com, https://example.com',
        },
        'https://auth.example.com',
      ),
    ).toEqual({ rpId: 'example.com', origins: ['https://a.example.com', 'https://example.com'] });
    expect(() =>
      loadWebAuthnConfig({ LATCHKEY_WEBAUTHN_ORIGINS: 'https://evil-example.com' }, 'https://example.com'),
    ).toThrow(ConfigError);
    expect(() =>
      loadWebAuthnConfig({ LATCHKEY_WEBAUTHN_RP_ID: 'https://example.com' }, 'https://example.com'),
    ).toThrow(/LATCHKEY_WEBAUTHN_RP_ID/);
  });
});

describe('passkeys over HTTP', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  it('sign-in options: a fresh challenge for this RP id, user verification required, no account named', async () => {
    const first = await t.app.inject({ method: 'POST', url: '/v1/passkeys/login/options' });
    const second = await t.app.inject({ method: 'POST', url: '/v1/passkeys/login/options', payload: {} });
    expect(first.statusCode).toBe(200);
    const body = json<{
      challenge: string;
      rpId: string;
      userVerification: string;
      allowCredentials?: unknown[];
    }>(first);
    expect(body).toMatchObject({ rpId: 'auth.example.test', userVerification: 'required' });
    expect(body.allowCredentials ?? []).toEqual([]);
    expect(Buffer.from(body.challenge, 'base64url')).toHaveLength(32);
    expect(json<{ challenge: string }>(second).challenge).not.toBe(body.challenge);
  });

  it('registration needs a signed-in session; its options ask for a discoverable credential with UV', async () => {
    expect((await t.app.inject({ method: 'POST', url: '/v1/passkeys/register/options' })).statusCode).toBe(
      401,
    );
    await signup(t.app, 'ada@example.com');
    const { access_token } = await loginToken(t.app, 'ada@example.com');
    const options = await t.app.inject({
      method: 'POST',
      url: '/v1/passkeys/register/options',
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(options.statusCode).toBe(200);
    expect(json(options)).toMatchObject({
      rp: { id: 'auth.example.test' },
      user: { name: 'ada@example.com' },
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      attestation: 'none',
    });
  });

  it('refuses malformed bodies with 400 and forged responses with 401, changing nothing', async () => {
    for (const payload of [
      {},
      { response: 'x' },
      { response: { ...forgedAssertion('A'.repeat(43)), type: 'password' } },
      { response: forgedAssertion('A'.repeat(43)), mode: 'cookie', extra: 1 },
      { response: { ...forgedAssertion('A'.repeat(43)), id: 'not base64url!' } },
    ]) {
      const answer = await t.app.inject({ method: 'POST', url: '/v1/passkeys/login', payload });
      expect(answer.statusCode, JSON.stringify(payload)).toBe(400);
    }
    const forged = await t.app.inject({
      method: 'POST',
      url: '/v1/passkeys/login',
      payload: { response: forgedAssertion('A'.repeat(43)) },
    });
    expect(forged.statusCode).toBe(401);
    expect(json(forged)).toMatchObject({ code: 'passkey_invalid' });
  });

  it('uses a sign-in challenge once, even when the assertion fails', async () => {
    const { challenge } = json<{ challenge: string }>(
      await t.app.inject({ method: 'POST', url: '/v1/passkeys/login/options' }),
    );
    for (let i = 0; i < 2; i += 1) {
      const answer = await t.app.inject({
        method: 'POST',
        url: '/v1/passkeys/login',
        payload: { response: forgedAssertion(challenge) },
      });
      expect(answer.statusCode).toBe(401);
    }
    expect(t.logs.filter((line) => line.includes('"reason":"unknown_credential"'))).toHaveLength(1);
    expect(t.logs.filter((line) => line.includes('"reason":"unknown_challenge"'))).toHaveLength(1);
  });

  it('refuses a registration answering a challenge issued to another session', async () => {
    await signup(t.app, 'ada@example.com');
    const a = await loginToken(t.app, 'ada@example.com');
    const b = await loginToken(t.app, 'ada@example.com');
    const options = json<{ challenge: string }>(
      await t.app.inject({
        method: 'POST',
        url: '/v1/passkeys/register/options',
        headers: { authorization: `Bearer ${a.access_token}` },
      }),
    );
    const response = {
      id: 'AAAA',
      rawId: 'AAAA',
      type: 'public-key',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64(JSON.stringify({ type: 'webauthn.create', challenge: options.challenge })),
        attestationObject: b64('nothing'),
      },
    };
    const answer = await t.app.inject({
      method: 'POST',
      url: '/v1/passkeys/register',
      headers: { authorization: `Bearer ${b.access_token}` },
      payload: { response },
    });
    expect(answer.statusCode).toBe(401);
    expect(json(answer)).toMatchObject({ code: 'passkey_invalid' });
    expect(await t.store.listPasskeys(a.user.id)).toEqual([]);
  });

  it('throttles failed assertions per client address', async () => {
    let last = 0;
    for (let i = 0; i < 51; i += 1) {
      const answer = await t.app.inject({
        method: 'POST',
        url: '/v1/passkeys/login',
        payload: { response: forgedAssertion('B'.repeat(43)) },
      });
      last = answer.statusCode;
      if (i < 50) expect(answer.statusCode).toBe(401);
    }
    expect(last).toBe(429);
  });

  it('lists no passkeys of another user and renames or removes none of them', async () => {
    await signup(t.app, 'ada@example.com');
    await signup(t.app, 'bob@example.com');
    const ada = await loginToken(t.app, 'ada@example.com');
    const bob = await loginToken(t.app, 'bob@example.com');
    await t.store.createPasskey({
      id: 'adas-key',
      userId: ada.user.id,
      publicKey: 'AA',
      counter: 0,
      transports: [],
      backupEligible: false,
      backedUp: false,
      aaguid: '',
      name: 'Ada',
      createdAt: 1,
      lastUsedAt: null,
    });
    const as = (token: string) => ({ authorization: `Bearer ${token}` });
    const list = await t.app.inject({ method: 'GET', url: '/v1/passkeys', headers: as(bob.access_token) });
    expect(json(list)).toEqual({ passkeys: [] });
    const rename = await t.app.inject({
      method: 'PATCH',
      url: '/v1/passkeys/adas-key',
      headers: as(bob.access_token),
      payload: { name: 'mine' },
    });
    expect(rename.statusCode).toBe(404);
    const remove = await t.app.inject({
      method: 'POST',
      url: '/v1/passkeys/adas-key/remove',
      headers: as(bob.access_token),
      payload: { password: 'correct horse battery staple' },
    });
    expect(remove.statusCode).toBe(404);
    expect((await t.store.getPasskey('adas-key'))?.name).toBe('Ada');
  });
});
