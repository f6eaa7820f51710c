/**
 * Email verification under `required`, private sign-up, a restart with a queued mail, the forgot
 * timing, and the reset flow on every store of the matrix.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { createSMTPTransport } from '../../src/mail/smtp.js';
import { createPasswordHasher } from '../../src/password/hash.js';
import { FAST_HASHER_PARAMETERS } from '../helpers/app.js';
import { openSQLiteStore } from '../../src/stores/sqlite/index.js';
import { describeEachStore, probeStores } from '../helpers/stores.js';
import { startSMTPServer, tokenFrom, type TestSMTPServer } from '../helpers/smtp.js';
import { createAppOn, ISSUER, PASSWORD, type TestApp } from './mail-app.js';

let smtp: TestSMTPServer;
let t: TestApp;

function transport(): ReturnType<typeof createSMTPTransport> {
  return createSMTPTransport({ url: `smtp://127.0.0.1:${smtp.port}`, from: 'Acme <no-reply@example.test>' });
}

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: path,
    payload: body as object,
    headers: { origin: ISSUER, ...headers },
  });
}

beforeEach(async () => {
  smtp = await startSMTPServer();
});
afterEach(async () => {
  await smtp.close();
});

describe('email verification: required', () => {
  beforeEach(async () => {
    t = await createAppOn({
      transport: transport(),
      mail: { emailVerification: 'required', productName: 'Acme <b>' },
    });
  });
  afterEach(() => t.close());

  it('signs up without telling whether the address exists, refuses login until verified, then says email_verified', async () => {
    const first = await post('/v1/signup', { email: 'ada@example.com', password: PASSWORD });
    const again = await post('/v1/signup', { email: 'ada@example.com', password: 'another passphrase 99' });
    expect(first.statusCode).toBe(202);
    expect(again.statusCode).toBe(202);
    expect(again.body).toBe(first.body);
    const refused = await post('/v1/login', { email: 'ada@example.com', password: PASSWORD });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'email_unverified', resend: '/v1/email/verify/request' });
    // The second sign-up left the password alone.
    expect(
      (await post('/v1/login', { email: 'ada@example.com', password: 'another passphrase 99' })).statusCode,
    ).toBe(401);
    await t.latchkey.mailWorker.runOnce();
    const texts = smtp.texts();
    expect(texts.some((m) => /Someone tried to sign up/.test(m))).toBe(true);
    // The product name is escaped in HTML.
    expect(texts.join('\n')).toContain('Acme &lt;b&gt;');
    const token = tokenFrom(smtp, /Verify your email/);
    const verified = await post('/v1/email/verify', { token });
    expect(verified.statusCode).toBe(200);
    expect(verified.json()).toMatchObject({ user: { email_verified: true } });
    const login = await post('/v1/login', { email: 'ada@example.com', password: PASSWORD, mode: 'token' });
    expect(login.statusCode).toBe(200);
    const access = login.json<{ access_token: string }>().access_token;
    expect(decodeJwt(access).email_verified).toBe(true);
    const me = await t.app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${access}` } });
    expect(me.json()).toMatchObject({ user: { email_verified: true } });
  });

  it('does the same hashing work for a new and a taken address', async () => {
    await t.close();
    let hashes = 0;
    const inner = createPasswordHasher(FAST_HASHER_PARAMETERS);
    const hasher = { ...inner, hash: (password: string) => ((hashes += 1), inner.hash(password)) };
    t = await createAppOn({ transport: transport(), mail: { emailVerification: 'required' }, hasher });
    await post('/v1/signup', { email: 'new@example.com', password: PASSWORD });
    expect(hashes).toBe(1);
    await post('/v1/signup', { email: 'new@example.com', password: PASSWORD });
    expect(hashes).toBe(2);
  });
});

describe('forgot: known and unknown addresses take a similar time', () => {
  afterEach(() => t.close());
  it('compares medians loosely', async () => {
    t = await createAppOn({ transport: transport() });
    await post('/v1/signup', { email: 'ada@example.com', password: PASSWORD });
    const time = async (email: string, ip: string): Promise<number> => {
      const started = performance.now();
      await t.app.inject({
        method: 'POST',
        url: '/v1/password/forgot',
        payload: { email },
        headers: { origin: ISSUER },
        remoteAddress: ip,
      });
      return performance.now() - started;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 9; i += 1) {
      t.clock.advance(16 * 60_000);
      known.push(await time('ada@example.com', `198.51.100.${i}`));
      unknown.push(await time(`nobody${i}@example.com`, `203.0.113.${i}`));
    }
    const median = (values: number[]): number =>
      values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    expect(Math.abs(median(known) - median(unknown))).toBeLessThan(50);
  });
});

describe('a queued mail survives a restart', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latchkey-mail-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is sent by the next process', async () => {
    const path = join(dir, 'latchkey.sqlite');
    t = await createAppOn({ transport: transport(), store: await openSQLiteStore({ path }) });
    await post('/v1/signup', { email: 'ada@example.com', password: PASSWORD });
    await post('/v1/password/forgot', { email: 'ada@example.com' });
    await t.close();
    expect(smtp.messages).toEqual([]);
    t = await createAppOn({ transport: transport(), store: await openSQLiteStore({ path }) });
    try {
      expect(await t.latchkey.mailWorker.runOnce()).toBe(2);
      const token = tokenFrom(smtp, /Reset your/);
      expect(
        (await post('/v1/password/reset', { token, password: 'a brand new passphrase 42' })).statusCode,
      ).toBe(204);
    } finally {
      await t.close();
    }
  });
});

const stores = await probeStores();

describeEachStore('reset by mail', stores, (kind) => {
  afterEach(() => t.close());
  it('queues, sends and resets once', async () => {
    t = await createAppOn({ transport: transport(), store: await kind.open() });
    await post('/v1/signup', { email: 'ada@example.com', password: PASSWORD });
    await post('/v1/password/forgot', { email: 'ada@example.com' });
    expect(await t.latchkey.mailWorker.runOnce()).toBe(2);
    const token = tokenFrom(smtp, /Reset your/);
    expect(
      (await post('/v1/password/reset', { token, password: 'a brand new passphrase 42' })).statusCode,
    ).toBe(204);
    expect(
      (await post('/v1/password/reset', { token, password: 'a brand new passphrase 43' })).statusCode,
    ).toBe(400);
    expect(await t.store.listMails({ limit: 10, status: 'sent' })).toHaveLength(2);
  });
});
