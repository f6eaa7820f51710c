import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, json, loginCookie, PASSWORD, signup, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('maintenance', () => {
  it('sweeps expired and revoked sessions with their refresh tokens, and expired revocation records', async () => {
    await signup(t.app, 'alice@example.com');
    const kept = await loginCookie(t.app, 'alice@example.com');
    const expiring = await loginCookie(t.app, 'alice@example.com');
    const tokens = json<{ refresh_token: string; session: { id: string } }>(
      await t.app.inject({
        method: 'POST',
        url: '/v1/login',
        payload: { email: 'alice@example.com', password: PASSWORD, mode: 'token' },
      }),
    );
    await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { cookie: kept.cookie, 'x-csrf-token': kept.csrf },
    });
    t.clock.advance(31 * 60_000);
    await t.latchkey.maintain();
    expect(await t.store.getSession(kept.sessionId)).toBeNull();
    expect(await t.store.getSession(expiring.sessionId)).toBeNull();
    // The token-mode session lives 7 days idle, so it stays with its refresh token.
    expect(await t.store.getSession(tokens.session.id)).not.toBeNull();
    expect(await t.store.getRefreshToken(tokens.refresh_token.split('.')[0] ?? '')).not.toBeNull();
    // The revocation record of the logout outlives the longest access token, then goes.
    expect(await t.store.listRevocations({ now: t.clock() })).toHaveLength(0);
    t.clock.advance(8 * 86_400_000);
    await t.latchkey.maintain();
    expect(await t.store.getSession(tokens.session.id)).toBeNull();
    expect(await t.store.getRefreshToken(tokens.refresh_token.split('.')[0] ?? '')).toBeNull();
  });

  it('rotates the signing key on schedule and keeps the previous key published', async () => {
    const before = t.latchkey.keyring.signingKey().kid;
    t.clock.advance(31 * 86_400_000);
    await t.latchkey.maintain();
    t.clock.advance(11 * 60_000);
    await t.latchkey.maintain();
    const after = t.latchkey.keyring.signingKey().kid;
    expect(after).not.toBe(before);
    const kids = t.latchkey.keyring.jwks().keys.map((key) => key.kid);
    expect(kids).toEqual(expect.arrayContaining([before, after]));
  });
});

describe('sign-up throttling', () => {
  it('limits sign-ups per IP per hour', async () => {
    for (let i = 0; i < 20; i++) await signup(t.app, `user${i}@example.com`);
    const blocked = await t.app.inject({
      method: 'POST',
      url: '/v1/signup',
      payload: { email: 'one-more@example.com', password: PASSWORD },
    });
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(await t.store.getUserByEmail('one-more@example.com')).toBeNull();
    t.clock.advance(3_600_000);
    await signup(t.app, 'one-more@example.com');
  });
});
