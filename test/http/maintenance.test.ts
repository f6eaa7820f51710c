import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createTestApp,
  heldRevocations,
  loginCookie,
  loginToken,
  PASSWORD,
  signup,
  type TestApp,
} from '../helpers/app.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('maintenance', () => {
  it('sweeps revoked sessions at once, expired ones later, and the revocation records once expired', async () => {
    await signup(t.app, 'alice@example.com');
    const out = await loginCookie(t.app, 'alice@example.com');
    const idle = await loginCookie(t.app, 'alice@example.com');
    const tokens = await loginToken(t.app, 'alice@example.com');
    const refreshId = tokens.refresh_token.split('.')[0] ?? '';
    const logout = await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { cookie: out.cookie, 'x-csrf-token': out.csrf },
    });
    expect(logout.statusCode).toBe(204);
    // The logout is in the store: the session is revoked now, and its revocation record is kept
    // as long as an access token issued before can be shown (15 min plus the 30 s leeway).
    const loggedOutAt = t.clock();
    expect((await t.store.getSession(out.sessionId))?.revokedAt).toBe(loggedOutAt);
    expect(await heldRevocations(t.store)).toEqual([
      {
        seq: expect.any(Number) as number,
        kind: 'session',
        subject: out.sessionId,
        issuedBefore: null,
        createdAt: loggedOutAt,
        expiresAt: loggedOutAt + 15 * MINUTE + 30_000,
      },
    ]);

    // A minute later: the revoked session is swept, the others are live and stay.
    t.clock.advance(MINUTE);
    await t.latchkey.maintain();
    expect(await t.store.getSession(out.sessionId)).toBeNull();
    expect(await t.store.getSession(idle.sessionId)).not.toBeNull();
    expect(await heldRevocations(t.store)).toHaveLength(1);

    // Past the record's retention (still within the idle timeout): the record is swept.
    t.clock.advance(15 * MINUTE);
    await t.latchkey.maintain();
    expect(await heldRevocations(t.store)).toEqual([]);
    expect(await t.store.getSession(idle.sessionId)).not.toBeNull();

    // Past the idle timeout of the cookie session (30 min): swept without a revocation.
    t.clock.advance(15 * MINUTE);
    await t.latchkey.maintain();
    expect(await t.store.getSession(idle.sessionId)).toBeNull();
    expect(await heldRevocations(t.store)).toEqual([]);
    // The token-mode session lives 7 days idle, so it stays with its refresh token...
    expect(await t.store.getSession(tokens.session.id)).not.toBeNull();
    expect(await t.store.getRefreshToken(refreshId)).not.toBeNull();
    // ...until then.
    t.clock.advance(7 * DAY);
    await t.latchkey.maintain();
    expect(await t.store.getSession(tokens.session.id)).toBeNull();
    expect(await t.store.getRefreshToken(refreshId)).toBeNull();
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
