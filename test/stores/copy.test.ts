import * as OTPAuth from 'otpauth';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { copyStore, COPY_KINDS, type CopyKind, type CopyReport } from '../../src/app/copy.js';
import { openCopyLocation, parseCopyLocation, type OpenedLocation } from '../../src/app/copy-locations.js';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import { defaultConfig } from '../../src/config/config.js';
import { LatchkeyError } from '../../src/errors.js';
import type { Store } from '../../src/store.js';
import {
  createTestApp,
  ISSUER,
  json,
  loginCookie,
  loginToken,
  PASSWORD,
  SECRET,
  signup,
  type TestApp,
} from '../helpers/app.js';
import { createTestMySQLDatabase, probeMySQL, type TestMySQLDatabase } from '../helpers/mysql.js';
import {
  createTestDatabase,
  createTestRedisPrefix,
  describeWithServices,
  probePostgres,
  probeRedis,
  type TestDatabase,
  type TestRedisPrefix,
} from '../helpers/services.js';

// `latchkey copy` between real stores: every kind at least once as source and as target, one
// PGlite in the whole file. Each pair: a deployment on the source (a user, a cookie session, a
// token session whose refresh token rotated once, a machine client, a revocation); the copy;
// a second copy that finds everything present; then on the target the password signs in, the
// cookie opens the same session, the refresh token rotates, and replaying the token rotated on
// the source is reuse, which revokes the session.

const EMAIL = 'alice@example.com';
const base = defaultConfig({ secret: SECRET });

let dir = '';
const cleanups: (() => Promise<void>)[] = [];

async function postgresURL(): Promise<string> {
  const database: TestDatabase = await createTestDatabase();
  cleanups.push(() => database.drop());
  return database.url;
}

async function mysqlURL(): Promise<string> {
  const database: TestMySQLDatabase = await createTestMySQLDatabase();
  cleanups.push(() => database.drop());
  return database.url;
}

function redisURL(): string {
  const prefix: TestRedisPrefix = createTestRedisPrefix();
  cleanups.push(() => prefix.cleanup());
  return `${prefix.url}?prefix=${prefix.prefix}`;
}

async function embedded(kind: 'sqlite' | 'pglite'): Promise<string> {
  return `${kind}:${await mkdtemp(join(dir, `${kind}-`))}`;
}

function open(name: string, role: 'source' | 'target', redis?: string): Promise<OpenedLocation> {
  return openCopyLocation(parseCopyLocation(name, { base, redis }), { role });
}

/** The store, with a `close()` that leaves it open (the test app closes what it is given). */
function borrowed(store: Store): Store {
  return { ...store, close: () => Promise.resolve() };
}

interface Deployment {
  cookie: string;
  cookieSessionId: string;
  /** The token issued at login, rotated once on the source. */
  rotated: string;
  /** Its successor, the current one. */
  current: string;
  clientId: string;
  revokedSessionSeq: number;
  revokedSessionId: string;
  /** The TOTP secret (base32) of the second user, whose first code was accepted on the source. */
  totpSecret: string;
}

const MFA_EMAIL = 'second-factor@example.com';

/** Sets up TOTP for MFA_EMAIL; returns its secret. The confirming code's step is used up. */
async function enrolTotp(t: TestApp, clock: ManualClock): Promise<string> {
  await signup(t.app, MFA_EMAIL);
  const { access_token } = await loginToken(t.app, MFA_EMAIL);
  const headers = { authorization: `Bearer ${access_token}` };
  const started = json<{ factor: { id: string }; secret: string }>(
    await t.app.inject({ method: 'POST', url: '/v1/mfa/totp', headers }),
  );
  const code = totpAt(started.secret, clock());
  const confirmed = await t.app.inject({
    method: 'POST',
    url: '/v1/mfa/totp/confirm',
    headers,
    payload: { factor_id: started.factor.id, code },
  });
  expect(confirmed.statusCode).toBe(200);
  return started.secret;
}

function totpAt(secret: string, timestamp: number): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate({ timestamp });
}

/** The copied factor is asked for at login, its used step stays used, and a fresh code signs in. */
async function checkSecondFactor(t: TestApp, clock: ManualClock, secret: string): Promise<void> {
  const login = () =>
    t.app.inject({
      method: 'POST',
      url: '/v1/login',
      payload: { email: MFA_EMAIL, password: PASSWORD, mode: 'token' },
    });
  const verify = async (code: string) => {
    const asked = await login();
    expect(json(asked)).toMatchObject({ code: 'mfa_required' });
    const { challenge } = json<{ challenge: string }>(asked);
    return t.app.inject({ method: 'POST', url: '/v1/mfa/verify', payload: { challenge, code } });
  };
  expect((await verify(totpAt(secret, clock() - 12_000))).statusCode).toBe(401); // used on the source
  clock.advance(30_000);
  expect((await verify(totpAt(secret, clock()))).statusCode).toBe(200);
}

async function deploy(store: Store, clock: ManualClock): Promise<Deployment> {
  const t = await createTestApp({ store: borrowed(store), clock });
  try {
    await signup(t.app, EMAIL);
    const cookie = await loginCookie(t.app, EMAIL);
    const first = await loginToken(t.app, EMAIL);
    clock.advance(1_000);
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/v1/refresh',
      payload: { refresh_token: first.refresh_token },
    });
    expect(refreshed.statusCode).toBe(200);
    const gone = await loginToken(t.app, EMAIL);
    const revocation = await t.latchkey.revocations.sessionRevoked(gone.session.id);
    await store.revokeSession(gone.session.id, clock());
    const { client } = await t.latchkey.clients.create({
      name: 'api',
      scopes: ['read'],
      audiences: [ISSUER],
    });
    return {
      cookie: cookie.cookie,
      cookieSessionId: cookie.sessionId,
      rotated: first.refresh_token,
      current: json<{ refresh_token: string }>(refreshed).refresh_token,
      clientId: client.id,
      revokedSessionSeq: revocation.seq,
      revokedSessionId: gone.session.id,
      totpSecret: await enrolTotp(t, clock),
    };
  } finally {
    await t.close();
  }
}

function created(report: CopyReport, kind: CopyKind): number {
  return report.counts[kind].created + report.counts[kind].updated;
}

async function checkTarget(target: Store, clock: ManualClock, deployed: Deployment): Promise<void> {
  const t = await createTestApp({ store: borrowed(target), clock });
  try {
    expect(await target.getSession(deployed.revokedSessionId)).toBeNull(); // a revoked session stays behind
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { cookie: deployed.cookie } });
    expect(me.statusCode).toBe(200);
    expect(json<{ session: { id: string } }>(me).session.id).toBe(deployed.cookieSessionId);
    await loginCookie(t.app, EMAIL, PASSWORD);
    expect(await target.getClient(deployed.clientId)).toMatchObject({ name: 'api', scopes: ['read'] });
    const revocations = await target.listRevocations({ now: clock() });
    expect(revocations.map((r) => r.seq)).toContain(deployed.revokedSessionSeq);
    // A later revocation comes after the copied one, for readers resuming from its seq.
    const later = await t.latchkey.revocations.userRevoked('someone');
    expect(later.seq).toBeGreaterThan(deployed.revokedSessionSeq);
    const refresh = (token: string) =>
      t.app.inject({ method: 'POST', url: '/v1/refresh', payload: { refresh_token: token } });
    const next = await refresh(deployed.current);
    expect(next.statusCode).toBe(200);
    const successor = json<{ refresh_token: string }>(next).refresh_token;
    clock.advance(11_000); // past the grace window: replaying an old token is reuse
    const reuse = await refresh(deployed.rotated);
    expect(reuse.statusCode).toBe(400);
    expect((await refresh(successor)).statusCode).toBe(400); // the session was revoked
    expect(t.logs.join('')).toContain('security.refresh_token_reuse');
    await checkSecondFactor(t, clock, deployed.totpSecret);
  } finally {
    await t.close();
  }
}

async function copyPair(from: string, to: string, options: { fromRedis?: string; toRedis?: string } = {}) {
  const clock = createManualClock(Date.UTC(2026, 0, 1));
  const source = await open(from, 'target', options.fromRedis); // created and migrated here
  const target = await open(to, 'target', options.toRedis);
  try {
    const deployed = await deploy(source.store, clock);
    const copy = () =>
      copyStore({
        source: source.store,
        target: target.store,
        secret: SECRET,
        sessions: true,
        now: clock(),
        batchSize: 2,
      });
    const first = await copy();
    expect(first.conflicts).toEqual([]);
    expect(first.counts.users).toMatchObject({ created: 2 });
    expect(first.counts.factors).toMatchObject({ created: 1 });
    expect(first.counts.keys.created).toBeGreaterThanOrEqual(1);
    expect(first.counts.clients).toMatchObject({ created: 1 });
    // The revoked ones stay behind: one revoked here, and the session the TOTP set-up renewed.
    expect(first.counts.sessions).toMatchObject({ created: 3, skipped: 2 });
    // The rotated one and its successor, and the renewed second-factor session's.
    expect(first.counts.refreshTokens).toMatchObject({ created: 3 });
    expect(first.counts.revocations).toMatchObject({ created: 2 }); // the revoked session's, and the renewed one's
    const second = await copy();
    expect(second.conflicts).toEqual([]);
    for (const kind of COPY_KINDS) {
      expect(second.counts[kind], kind).toMatchObject({
        created: 0,
        updated: 0,
        present: created(first, kind),
      });
    }
    await checkTarget(target.store, clock, deployed);
  } finally {
    await target.close();
    await source.close();
  }
}

it('names a store by its URL without the password, and refuses what it cannot name', () => {
  const location = parseCopyLocation('postgres://latchkey:s3cret-pw@db.internal/latchkey', {
    base,
    redis: 'redis://:redis-pw@cache.internal:6379?prefix=blue',
  });
  expect(location.label).not.toMatch(/s3cret-pw|redis-pw/);
  expect(location.label).toContain('prefix blue');
  expect(location.config).toMatchObject({
    redisPrefix: 'blue',
    redisURL: 'redis://:redis-pw@cache.internal:6379',
  });
  expect(() => parseCopyLocation('redis://cache?prefix=a{b}', { base })).toThrow(/prefix/);
  const cluster = parseCopyLocation('redis+cluster://:cluster-pw@10.0.0.1:7000,10.0.0.2:7000?prefix=green', {
    base,
  });
  expect(cluster.label).not.toContain('cluster-pw');
  expect(cluster.config).toMatchObject({
    redisPrefix: 'green',
    redisURL: 'redis+cluster://:cluster-pw@10.0.0.1:7000,10.0.0.2:7000',
  });
  expect(parseCopyLocation('mysql://db/x', { base, redis: 'rediss+cluster://h1:7000' }).config.redisURL).toBe(
    'rediss+cluster://h1:7000',
  );
  expect(() => parseCopyLocation('redis+cluster://h1:7000?db=2', { base })).toThrow(/no other parameter/);
  expect(() => parseCopyLocation('redis+cluster://h1:7000/3', { base })).toThrow(/database 0/);
  expect(() => parseCopyLocation('/tmp/data', { base, redis: 'redis://cache' })).toThrow(
    /go with a postgres/,
  );
  expect(() => parseCopyLocation('mysql://db/x', { base, redis: 'cache:6379' })).toThrow(LatchkeyError);
  expect(() => parseCopyLocation('redis://[bad', { base })).toThrow(LatchkeyError);
  expect(parseCopyLocation('pglite:/tmp/data', { base }).config).toMatchObject({
    store: 'pglite',
    dataDir: '/tmp/data',
  });
});

describeWithServices(
  'latchkey copy between stores',
  [await probePostgres(), await probeRedis(), await probeMySQL()],
  () => {
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'latchkey-copy-'));
    });
    afterAll(async () => {
      for (const cleanup of cleanups) await cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    it('copies SQLite to Postgres', async () => {
      await copyPair(await embedded('sqlite'), await postgresURL());
    });

    it('copies PGlite to SQLite', async () => {
      await copyPair(await embedded('pglite'), await embedded('sqlite'));
    }, 60_000);

    it('copies Postgres to MySQL', async () => {
      await copyPair(await postgresURL(), await mysqlURL());
    });

    it('copies MySQL to Redis', async () => {
      await copyPair(await mysqlURL(), redisURL());
    });

    it('copies Redis to SQLite', async () => {
      await copyPair(redisURL(), await embedded('sqlite'));
    });

    it('copies SQLite to Postgres + Redis, and MySQL + Redis back to a SQLite directory', async () => {
      await copyPair(await embedded('sqlite'), await postgresURL(), { toRedis: redisURL() });
      await copyPair(await mysqlURL(), await embedded('sqlite'), { fromRedis: redisURL() });
    });

    it('brings the target up to what changed on the source since the last copy', async () => {
      const clock = createManualClock(Date.UTC(2026, 0, 1));
      const source = await open(await embedded('sqlite'), 'target');
      const target = await open(redisURL(), 'target');
      try {
        const deployed = await deploy(source.store, clock);
        const copy = () =>
          copyStore({
            source: source.store,
            target: target.store,
            secret: SECRET,
            sessions: true,
            now: clock(),
          });
        await copy();
        // On the source, after the copy: the refresh token rotates again, the user is disabled,
        // the client too, and the signing key is retired.
        clock.advance(1_000);
        const t = await createTestApp({ store: borrowed(source.store), clock });
        const rotated = await t.app.inject({
          method: 'POST',
          url: '/v1/refresh',
          payload: { refresh_token: deployed.current },
        });
        expect(rotated.statusCode).toBe(200);
        await t.close();
        const user = await source.store.getUserByEmail(EMAIL);
        await source.store.updateUser(user?.id ?? '', { status: 'disabled', updatedAt: clock() });
        await source.store.updateClient(deployed.clientId, { disabledAt: clock() });
        const [key] = await source.store.listKeys();
        await source.store.updateKey(key?.kid ?? '', { retiredAt: clock(), expiresAt: clock() + 86_400_000 });

        const report = await copy();
        expect(report.conflicts).toEqual([]);
        expect(report.counts.users).toMatchObject({ updated: 1, created: 0 });
        expect(report.counts.clients).toMatchObject({ updated: 1, created: 0 });
        expect(report.counts.keys).toMatchObject({ updated: 1, created: 0 });
        // The token that was current is now rotated on the target too, its successor created.
        expect(report.counts.refreshTokens).toMatchObject({ present: 2, updated: 1, created: 1 });
        const previous = await target.store.getRefreshToken(deployed.current.split('.')[0] ?? '');
        expect(previous?.rotatedAt).toBe(clock());
        expect(previous?.successorId).not.toBeNull();
        expect(await target.store.getUserByEmail(EMAIL)).toMatchObject({ status: 'disabled' });
        expect(await target.store.getClient(deployed.clientId)).toMatchObject({ disabledAt: clock() });
        expect((await target.store.listKeys())[0]).toMatchObject({ retiredAt: clock() });
      } finally {
        await target.close();
        await source.close();
      }
    });

    it('reports a conflict, and leaves the target as it was, for an email held by another user', async () => {
      const clock = createManualClock(Date.UTC(2026, 0, 1));
      const source = await open(await embedded('sqlite'), 'target');
      const target = await open(await embedded('sqlite'), 'target');
      try {
        await deploy(source.store, clock);
        const t = await createTestApp({ store: borrowed(target.store), clock });
        await signup(t.app, EMAIL, 'another password, also long enough');
        await t.close();
        const before = await target.store.getUserByEmail(EMAIL);
        const report = await copyStore({
          source: source.store,
          target: target.store,
          secret: SECRET,
          sessions: true,
          now: clock(),
        });
        expect(report.conflicts).toEqual([
          `users: ${EMAIL}: the target has this email under another user id`,
        ]);
        // The second-factor user's email is free on the target: that user is copied.
        expect(report.counts.users).toMatchObject({ conflicts: 1, created: 1 });
        // None for the conflicting account (the second-factor user's live one is copied).
        expect(report.counts.sessions).toMatchObject({ created: 1, skipped: 4 });
        expect(await target.store.getUserByEmail(EMAIL)).toEqual(before);
      } finally {
        await target.close();
        await source.close();
      }
    });

    it('refuses, writing nothing, when the signing keys do not open with the master secret', async () => {
      const clock = createManualClock(Date.UTC(2026, 0, 1));
      const source = await open(await embedded('sqlite'), 'target');
      const target = await open(await embedded('sqlite'), 'target');
      try {
        await deploy(source.store, clock);
        const refusal = copyStore({
          source: source.store,
          target: target.store,
          secret: 'another-master-secret-0123456789abcdefghij',
          sessions: true,
          now: clock(),
        });
        await expect(refusal).rejects.toThrow(LatchkeyError);
        await expect(refusal).rejects.toThrow(/cannot be decrypted with this master secret/);
        expect(await target.store.listUsers({ limit: 10 })).toEqual([]);
        expect(await target.store.listKeys()).toEqual([]);
      } finally {
        await target.close();
        await source.close();
      }
    });
  },
);
