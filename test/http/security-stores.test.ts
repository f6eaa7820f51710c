/**
 * The HTTP security rules on every store (issue 20, part 3): memory, PGlite, Postgres and Redis
 * (and each later backend: one entry in `test/helpers/stores.ts`). One test per rule; the
 * memory-store files (`csrf`, `cross-site`, `token-mode`, `session-renewal`, `lockout`,
 * `abuse`, `maintenance`) keep the variants.
 *
 * Each rule is checked through the HTTP API and then in the records the store holds: a refusal
 * changes nothing there, a revocation is written there, and the sweep removes what expired.
 */

import { randomBytes } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  createTestApp,
  heldRevocations,
  json,
  loginCookie,
  loginToken,
  PASSWORD,
  setCookies,
  signup,
  type TestApp,
} from '../helpers/app.js';
import { describeEachStore, probeStores } from '../helpers/stores.js';

const stores = await probeStores();

const EMAIL = 'alice@example.com';
const NEW_PASSWORD = 'an entirely different passphrase 42';
const ATTACKER = '203.0.113.66';
const OWNER = '198.51.100.7';
const EVIL = 'https://evil.example';
const MINUTE = 60_000;

describeEachStore('HTTP security rules', stores, (factory) => {
  let t: TestApp;
  beforeEach(async () => {
    const store = await factory.open();
    // Isolation: nothing left by an earlier test (or another store kind) is visible.
    expect(await store.listUsers({ limit: 1 })).toEqual([]);
    t = await createTestApp({ store });
    await signup(t.app, EMAIL);
  });
  afterEach(async () => {
    await t.close();
  });

  const status = async (headers: Record<string, string>): Promise<number> =>
    (await t.app.inject({ method: 'GET', url: '/v1/me', headers })).statusCode;
  const refresh = (refresh_token: string): Promise<LightMyRequestResponse> =>
    t.app.inject({ method: 'POST', url: '/v1/refresh', payload: { refresh_token } });
  const login = (
    password: string,
    from: { ip: string; device?: string; origin?: string },
  ): Promise<LightMyRequestResponse> =>
    t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: EMAIL, password },
      remoteAddress: from.ip,
      headers: {
        ...(from.device === undefined ? {} : { cookie: `__Host-latchkey_device=${from.device}` }),
        ...(from.origin === undefined ? {} : { origin: from.origin }),
      },
    });
  const passwordHash = async (): Promise<string | undefined> =>
    (await t.store.getUserByEmail(EMAIL))?.passwordHash;
  const revokedAt = async (sessionId: string): Promise<number | null | undefined> =>
    (await t.store.getSession(sessionId))?.revokedAt;

  it('refuses a cookie request without its CSRF token or from another site, and changes nothing', async () => {
    const alice = await loginCookie(t.app, EMAIL);
    const other = await loginCookie(t.app, EMAIL);
    const hashBefore = await passwordHash();
    const change = { current_password: PASSWORD, new_password: NEW_PASSWORD };
    const attempts: [string, InjectOptions][] = [
      [
        'csrf_failed',
        { method: 'POST', url: '/v1/password', headers: { cookie: alice.cookie }, payload: change },
      ],
      [
        'csrf_failed',
        {
          method: 'POST',
          url: '/v1/password',
          headers: { cookie: alice.cookie, 'x-csrf-token': other.csrf },
          payload: change,
        },
      ],
      ['csrf_failed', { method: 'POST', url: '/v1/logout', headers: { cookie: alice.cookie } }],
      [
        'cross_site_request',
        {
          method: 'POST',
          url: '/v1/password',
          headers: { cookie: alice.cookie, 'x-csrf-token': alice.csrf, origin: EVIL },
          payload: change,
        },
      ],
      [
        'cross_site_request',
        {
          method: 'DELETE',
          url: '/v1/sessions',
          headers: { cookie: alice.cookie, 'x-csrf-token': alice.csrf, 'sec-fetch-site': 'cross-site' },
        },
      ],
      [
        'cross_site_request',
        {
          method: 'POST',
          url: '/v1/login',
          headers: { origin: EVIL },
          payload: { email: EMAIL, password: PASSWORD },
        },
      ],
    ];
    for (const [code, request] of attempts) {
      const response = await t.app.inject(request);
      expect(response.statusCode, code).toBe(403);
      expect(json(response)).toMatchObject({ code });
      expect(response.headers['set-cookie']).toBeUndefined();
    }
    // Nothing changed in the store: the same hash, both sessions live, no revocation, no new session.
    expect(await passwordHash()).toBe(hashBefore);
    expect(await revokedAt(alice.sessionId)).toBeNull();
    expect(await revokedAt(other.sessionId)).toBeNull();
    expect(await heldRevocations(t.store)).toEqual([]);
    const user = await t.store.getUserByEmail(EMAIL);
    const live = await t.store.listUserSessions(user?.id ?? '', t.clock());
    expect(live.map((session) => session.id).sort()).toEqual([alice.sessionId, other.sessionId].sort());
    expect(await status({ cookie: alice.cookie })).toBe(200);
    // The password is the old one.
    expect((await login(NEW_PASSWORD, { ip: OWNER })).statusCode).toBe(401);
    expect((await login(PASSWORD, { ip: OWNER })).statusCode).toBe(200);
  });

  it('a refresh replayed inside the grace window gets the same successor and revokes nothing', async () => {
    const first = await loginToken(t.app, EMAIL);
    const a = await refresh(first.refresh_token);
    expect(a.statusCode).toBe(200);
    t.clock.advance(5_000);
    const b = await refresh(first.refresh_token);
    expect(b.statusCode).toBe(200);
    const successor = json<{ refresh_token: string; access_token: string }>(a);
    expect(json<{ refresh_token: string }>(b).refresh_token).toBe(successor.refresh_token);
    expect(await status({ authorization: `Bearer ${successor.access_token}` })).toBe(200);
    expect((await refresh(successor.refresh_token)).statusCode).toBe(200);
    expect(await revokedAt(first.session.id)).toBeNull();
    expect(await heldRevocations(t.store)).toEqual([]);
  });

  it('a refresh replayed after the grace window revokes the session and every token of it', async () => {
    const first = await loginToken(t.app, EMAIL);
    const second = json<{ refresh_token: string; access_token: string }>(await refresh(first.refresh_token));
    t.clock.advance(11_000);
    const reuse = await refresh(first.refresh_token);
    expect(reuse.statusCode).toBe(400);
    expect(json(reuse)).toMatchObject({ code: 'invalid_grant' });
    expect((await refresh(second.refresh_token)).statusCode).toBe(400);
    expect(await status({ authorization: `Bearer ${second.access_token}` })).toBe(401);
    expect(await revokedAt(first.session.id)).toBe(t.clock());
    expect(await heldRevocations(t.store)).toEqual([
      expect.objectContaining({ kind: 'session', subject: first.session.id }),
    ]);
  });

  it('a token replaced rotations ago still revokes its family; its id with a forged secret revokes nothing', async () => {
    const first = await loginToken(t.app, EMAIL);
    let current = first.refresh_token;
    for (let i = 0; i < 4; i += 1) {
      t.clock.advance(MINUTE);
      const next = await refresh(current);
      expect(next.statusCode).toBe(200);
      current = json<{ refresh_token: string }>(next).refresh_token;
    }
    t.clock.advance(MINUTE);
    // The attacker knows the first token's id (not its secret): refused, and nothing revoked.
    const forged = await refresh(
      `${first.refresh_token.split('.')[0] ?? ''}.${randomBytes(32).toString('base64url')}`,
    );
    expect(forged.statusCode).toBe(400);
    expect(await revokedAt(first.session.id)).toBeNull();
    expect((await refresh(current)).statusCode).toBe(200);
    // The real first token, four rotations later (kept since as a retired record): reuse.
    expect((await refresh(first.refresh_token)).statusCode).toBe(400);
    expect(await revokedAt(first.session.id)).toBe(t.clock());
  });

  it('a password change renews the caller’s session, revokes the others and retires the old password', async () => {
    const caller = await loginCookie(t.app, EMAIL);
    const other = await loginCookie(t.app, EMAIL);
    const tokens = await loginToken(t.app, EMAIL);
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/password',
      headers: { cookie: caller.cookie, 'x-csrf-token': caller.csrf },
      payload: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    });
    expect(response.statusCode).toBe(200);
    const renewedId = json<{ session: { id: string } }>(response).session.id;
    expect(renewedId).not.toBe(caller.sessionId);
    const renewed = `__Host-latchkey_session=${setCookies(response).get('__Host-latchkey_session')?.value ?? ''}`;

    expect(await status({ cookie: caller.cookie })).toBe(401);
    expect(await status({ cookie: other.cookie })).toBe(401);
    expect(await status({ authorization: `Bearer ${tokens.access_token}` })).toBe(401);
    expect((await refresh(tokens.refresh_token)).statusCode).toBe(400);
    expect(await status({ cookie: renewed })).toBe(200);

    for (const id of [caller.sessionId, other.sessionId, tokens.session.id]) {
      expect(await revokedAt(id), id).toBe(t.clock());
    }
    const live = await t.store.listUserSessions(tokens.user.id, t.clock());
    expect(live.map((session) => session.id)).toEqual([renewedId]);
    const held = await heldRevocations(t.store);
    const revoked = held.filter((record) => record.kind === 'session').map((record) => record.subject);
    expect(revoked.sort()).toEqual([caller.sessionId, other.sessionId, tokens.session.id].sort());
    // And a notice that the user changed (new password hash): every node drops its cached user.
    // It revokes no token (issued before 0: none).
    expect(held.filter((record) => record.kind !== 'session')).toEqual([
      expect.objectContaining({ kind: 'user', subject: tokens.user.id, issuedBefore: 0 }),
    ]);
    expect((await login(PASSWORD, { ip: OWNER })).statusCode).toBe(401);
    expect((await login(NEW_PASSWORD, { ip: OWNER })).statusCode).toBe(200);
  });

  it('login failures lock one account at one source; a device cookie spends its own budget', async () => {
    const first = await login(PASSWORD, { ip: OWNER });
    expect(first.statusCode).toBe(200);
    const device = setCookies(first).get('__Host-latchkey_device')?.value ?? '';
    expect(device).not.toBe('');

    for (let i = 0; i < 5; i++) expect((await login(`wrong ${i}!`, { ip: ATTACKER })).statusCode).toBe(401);
    const locked = await login(PASSWORD, { ip: ATTACKER });
    expect(locked.statusCode).toBe(429);
    expect(locked.headers['retry-after']).toBe('1');
    // Only that source: the owner from elsewhere, and her browser even at the attacker's address.
    expect((await login(PASSWORD, { ip: OWNER })).statusCode).toBe(200);
    expect((await login(PASSWORD, { ip: ATTACKER, device })).statusCode).toBe(200);

    // The device mistypes: its own budget runs out, and only its own.
    for (let i = 0; i < 5; i++)
      expect((await login(`typo ${i}!`, { ip: OWNER, device })).statusCode).toBe(401);
    const deviceLocked = await login(PASSWORD, { ip: OWNER, device });
    expect(deviceLocked.statusCode).toBe(429);
    expect(deviceLocked.headers['retry-after']).toBe('1');
    expect((await login(PASSWORD, { ip: OWNER })).statusCode).toBe(200);
    t.clock.advance(1_000);
    expect((await login(PASSWORD, { ip: OWNER, device })).statusCode).toBe(200);
  });

  it('limits sign-ups per address per hour, creating no account past the limit', async () => {
    const signupFrom = (ip: string, email: string): Promise<LightMyRequestResponse> =>
      t.app.inject({
        method: 'POST',
        url: '/v1/signup',
        payload: { email, password: PASSWORD },
        remoteAddress: ip,
      });
    for (let i = 0; i < 20; i++) {
      expect((await signupFrom(ATTACKER, `user${i}@example.com`)).statusCode).toBe(201);
    }
    const blocked = await signupFrom(ATTACKER, 'one-more@example.com');
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(await t.store.getUserByEmail('one-more@example.com')).toBeNull();
    expect((await signupFrom(OWNER, 'elsewhere@example.com')).statusCode).toBe(201);
    t.clock.advance(60 * MINUTE);
    expect((await signupFrom(ATTACKER, 'one-more@example.com')).statusCode).toBe(201);
  });

  it('logout and revocation write the store; the sweep removes them once expired', async () => {
    const out = await loginCookie(t.app, EMAIL);
    const kept = await loginCookie(t.app, EMAIL);
    const tokens = await loginToken(t.app, EMAIL);
    const logout = await t.app.inject({
      method: 'POST',
      url: '/v1/logout',
      headers: { cookie: out.cookie, 'x-csrf-token': out.csrf },
    });
    expect(logout.statusCode).toBe(204);
    const gone = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie: out.cookie } });
    expect(json(gone)).toMatchObject({ status: 401, code: 'session_revoked' });
    const revoke = await t.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${tokens.session.id}`,
      headers: { cookie: kept.cookie, 'x-csrf-token': kept.csrf },
    });
    expect(revoke.statusCode).toBe(204);
    expect(await status({ authorization: `Bearer ${tokens.access_token}` })).toBe(401);
    expect((await refresh(tokens.refresh_token)).statusCode).toBe(400);

    const now = t.clock();
    expect(await revokedAt(out.sessionId)).toBe(now);
    expect(await revokedAt(tokens.session.id)).toBe(now);
    expect(await revokedAt(kept.sessionId)).toBeNull();
    // Kept as long as an access token issued before can be shown: 15 min plus the 30 s leeway.
    const expiresAt = now + 15 * MINUTE + 30_000;
    expect(await heldRevocations(t.store)).toEqual([
      expect.objectContaining({ kind: 'session', subject: out.sessionId, expiresAt }),
      expect.objectContaining({ kind: 'session', subject: tokens.session.id, expiresAt }),
    ]);

    // Past the records' retention, within the idle timeout of the session kept.
    t.clock.advance(16 * MINUTE);
    await t.latchkey.maintain();
    expect(await heldRevocations(t.store)).toEqual([]);
    expect(await t.store.getSession(out.sessionId)).toBeNull();
    expect(await t.store.getSession(tokens.session.id)).toBeNull();
    expect(await t.store.getRefreshToken(tokens.refresh_token.split('.')[0] ?? '')).toBeNull();
    expect(await t.store.getSession(kept.sessionId)).not.toBeNull();
    expect(await status({ cookie: kept.cookie })).toBe(200);
  });
});
