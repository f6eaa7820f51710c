/**
 * The Redis store against a real Redis: the conformance suite on the shared server (under a
 * prefix unique to this run, deleted afterwards; never FLUSHALL), the key layout (hash tags, one
 * slot per script), fail-fast behaviour and reconnection. The same suite on a three-master Redis
 * Cluster: `./redis-cluster.test.ts`.
 *
 * The shared server is `LATCHKEY_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`). When it
 * cannot be reached the file is skipped with a warning, except in CI, where it fails.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LatchkeyError } from '../../src/errors.js';
import { createRedisClient, createRedisStore, openRedisStore } from '../../src/stores/redis/index.js';
import * as scripts from '../../src/stores/redis/scripts.js';
import type { RedisScript } from '../../src/stores/redis/scripts.js';
import type { Store } from '../../src/store.js';
import { storeTransferOf, type ExportPage } from '../../src/store-transfer.js';
import type { RefreshTokenRecord, SessionRecord } from '../../src/records.js';
import { freePort } from '../helpers/process.js';
import { describeStoreConformance, T0 } from './conformance.js';
import { isCI } from '../helpers/ci.js';

const REDIS_URL = process.env.LATCHKEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const REDIS_SERVER = process.env.LATCHKEY_TEST_REDIS_SERVER ?? '/usr/bin/redis-server';
const DAY = 24 * 60 * 60 * 1_000;

function uniquePrefix(label: string): string {
  return `latchkey-test-${label}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

async function isRedisReachable(url: string): Promise<boolean> {
  const client = createRedisClient(url, { lazyConnect: true });
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Deletes every key under `prefix` with SCAN + UNLINK. */
async function deleteKeys(client: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  for (const node of [client]) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
      cursor = next;
      // One key per command: keys of different slots cannot share one on a Cluster.
      await Promise.all(found.map((key) => node.unlink(key)));
      deleted += found.length;
    } while (cursor !== '0');
  }
  return deleted;
}

async function scanKeys(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  return keys;
}

// ---- Redis Cluster slots (CRC16/XMODEM of the hash tag, mod 16384) -----------------------------

const CRC16_TABLE = Array.from({ length: 256 }, (_, byte) => {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit += 1)
    crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  return crc;
});

function keySlot(key: string): number {
  let hashed = key;
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(hashed, 'utf8')) {
    crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ byte) & 0xff] ?? 0);
  }
  return crc % 16_384;
}

// ---- child redis-server processes ----------------------------------------------------------------

interface RedisServer {
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `redis-server` on `port` (no persistence) and resolves once it accepts connections. */
function startRedisServer(port: number, dir: string, extra: string[] = []): Promise<RedisServer> {
  const child = spawn(
    REDIS_SERVER,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  const server: RedisServer = {
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      void server.stop();
      reject(new Error(`redis-server did not start on port ${port}: ${output}`));
    }, 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(server);
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function eventually(check: () => Promise<void>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function session(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: 'session-1',
    userId: 'user-1',
    secretHash: 'c2VjcmV0LWhhc2g',
    mode: 'cookie',
    createdAt: T0,
    lastSeenAt: T0,
    idleExpiresAt: T0 + DAY,
    absoluteExpiresAt: T0 + 30 * DAY,
    userAgent: null,
    ip: null,
    revokedAt: null,
    persistent: false,
    amr: ['pwd'],
    authTime: T0,
    acr: '1',
    ...overrides,
  };
}

/** Calls every method of the store once, with ids that need escaping inside a hash tag. */
async function exerciseEveryMethod(store: Store): Promise<void> {
  const odd = 'we{ird}:%id';
  const now = T0 + DAY;
  await store.createUser({
    id: `user-${odd}`,
    email: `${odd}@example.com`,
    passwordHash: 'hash',
    status: 'active',
    roles: [],
    createdAt: T0,
    updatedAt: T0,
    emailVerifiedAt: null,
  });
  // A duplicate id: the email claim is undone.
  await store
    .createUser({
      id: `user-${odd}`,
      email: `other-${odd}@example.com`,
      passwordHash: 'hash',
      status: 'active',
      roles: [],
      createdAt: T0,
      updatedAt: T0,
      emailVerifiedAt: null,
    })
    .catch(() => undefined);
  await store.getUserById(`user-${odd}`);
  await store.getUserByEmail(`${odd}@example.com`);
  await store.updateUser(`user-${odd}`, { status: 'disabled', updatedAt: T0 + 1 });
  await store.listUsers({ limit: 10 });

  await store.createSession(session({ id: `s1-${odd}`, userId: `user-${odd}` }));
  await store.createSession(session({ id: `s2-${odd}`, userId: `user-${odd}` }));
  await store.getSession(`s1-${odd}`);
  await store.touchSession(`s1-${odd}`, { lastSeenAt: T0 + 1, idleExpiresAt: T0 + 2 * DAY });
  await store.createRefreshToken({
    id: `rt1-${odd}`,
    sessionId: `s1-${odd}`,
    secretHash: 'hash',
    createdAt: T0,
    expiresAt: T0 + DAY,
    rotatedAt: null,
    successorId: null,
  });
  await store.rotateRefreshToken(
    `rt1-${odd}`,
    {
      id: `rt2-${odd}`,
      sessionId: `s1-${odd}`,
      secretHash: 'hash2',
      createdAt: T0 + 1,
      expiresAt: T0 + DAY,
      rotatedAt: null,
      successorId: null,
    },
    T0 + 1,
  );
  await store.rotateRefreshToken(
    `rt2-${odd}`,
    {
      id: `rt3-${odd}`,
      sessionId: `s1-${odd}`,
      secretHash: 'hash3',
      createdAt: T0 + 2,
      expiresAt: T0 + DAY,
      rotatedAt: null,
      successorId: null,
    },
    T0 + 2,
  );
  await store.getRefreshToken(`rt2-${odd}`);
  await store.getRefreshToken(`rt1-${odd}`);
  await store.listUserSessions(`user-${odd}`, T0);
  await store.revokeSession(`s2-${odd}`, T0 + 2);
  await store.revokeUserSessions(`user-${odd}`, T0 + 3);
  await store.deleteExpiredSessions(now);

  await store.insertKey({
    kid: odd,
    alg: 'HS256',
    publicJwk: null,
    encryptedPrivateKey: 'x',
    createdAt: T0,
    activatesAt: T0,
    retiredAt: null,
    expiresAt: null,
  });
  await store.updateKey(odd, { retiredAt: T0 + 1 });
  await store.listKeys();
  await store.deleteKey(odd);

  await store.addRevocation({
    kind: 'session',
    subject: odd,
    issuedBefore: null,
    createdAt: T0,
    expiresAt: T0 + 1,
  });
  await store.listRevocations({ now: T0 });
  await store.deleteExpiredRevocations(now);

  await store.increment(odd, 60_000, T0);
  await store.increment(odd, 60_000, T0);
  await store.getCounter(odd, T0);
  await store.deleteCounter(odd);

  const oneTimeToken = { purpose: `reset-${odd}`, subject: `user-${odd}`, data: null, createdAt: T0 };
  await store.putOneTimeToken({ ...oneTimeToken, id: `ot1-${odd}`, expiresAt: T0 + 1 });
  await store.putOneTimeToken({ ...oneTimeToken, id: `ot2-${odd}`, expiresAt: now + DAY });
  await store.putOneTimeToken({ ...oneTimeToken, id: `ot3-${odd}`, expiresAt: now + DAY });
  await store.consumeOneTimeToken(`ot2-${odd}`, `reset-${odd}`, T0);
  await store.deleteExpiredOneTimeTokens(now);
  await store.deleteOneTimeTokens(`user-${odd}`, `reset-${odd}`);

  const factor = { userId: `user-${odd}`, kind: 'totp' as const, label: 'x', secret: 's', createdAt: T0 };
  await store.createFactor({
    ...factor,
    id: `f-${odd}`,
    lastUsedStep: null,
    confirmedAt: null,
    lastUsedAt: null,
  });
  await store.confirmFactor(`user-${odd}`, `f-${odd}`, T0 + 1);
  await store.useFactorStep(`user-${odd}`, `f-${odd}`, 5, T0 + 2);
  await store.listFactors(`user-${odd}`);
  await store.deleteFactor(`user-${odd}`, `f-${odd}`);

  await store.createPasskey({
    id: `pk-${odd}`,
    userId: `user-${odd}`,
    publicKey: 'pk',
    counter: 0,
    transports: ['internal'],
    backupEligible: false,
    backedUp: false,
    aaguid: '',
    name: 'x',
    createdAt: T0,
    lastUsedAt: null,
  });
  await store.usePasskey(`pk-${odd}`, { counter: 1, backedUp: false, at: T0 + 1 });
  await store.renamePasskey(`user-${odd}`, `pk-${odd}`, 'y');
  await store.getPasskey(`pk-${odd}`);
  await store.listPasskeys(`user-${odd}`);
  await store.deletePasskey(`user-${odd}`, `pk-${odd}`);

  await store.queueMail(
    {
      id: `m-${odd}`,
      kind: 'password_reset',
      to: `${odd}@example.com`,
      message: 'v1.sealed.message',
      status: 'queued',
      attempts: 0,
      createdAt: T0,
      nextAttemptAt: T0,
      claimedBy: null,
      settledAt: null,
      lastError: null,
      expiresAt: T0 + DAY,
    },
    {},
  );
  await store.claimMails({ now: T0, leaseMs: 60_000, limit: 10, claimant: 'worker' });
  await store.settleMail(`m-${odd}`, 'worker', { status: 'sent', at: T0 + 1 });
  await store.getMail(`m-${odd}`);
  await store.listMails({ limit: 10 });

  await store.addAuditRecord({
    id: `a-${odd}`,
    at: T0,
    event: 'login.success',
    userId: `user-${odd}`,
    clientId: null,
    sessionId: `s-${odd}`,
    ip: '127.0.0.1',
    userAgent: null,
    details: { mode: 'cookie' },
    expiresAt: T0 + 1,
  });
  await store.listAuditRecords({ limit: 10, userId: `user-${odd}` });
  await store.listAuditRecords({ limit: 10 });
  await store.deleteExpiredAuditRecords(now);

  await store.createWebhookEndpoint({
    id: `ep-${odd}`,
    url: 'https://hooks.example.com/latchkey',
    events: ['*'],
    secret: 'v1.sealed.secret',
    createdAt: T0,
  });
  await store.getWebhookEndpoint(`ep-${odd}`);
  await store.listWebhookEndpoints();
  await store.queueWebhookDeliveries([
    {
      id: `msg-${odd}`,
      endpointId: `ep-${odd}`,
      event: 'login.success',
      payload: '{}',
      status: 'queued',
      attempts: 0,
      createdAt: T0,
      nextAttemptAt: T0,
      claimedBy: null,
      settledAt: null,
      responseStatus: null,
      lastError: null,
      expiresAt: T0 + 1,
    },
  ]);
  await store.claimWebhookDeliveries({ now: T0, leaseMs: 60_000, limit: 10, claimant: 'worker' });
  await store.settleWebhookDelivery(`msg-${odd}`, 'worker', {
    status: 'delivered',
    at: T0 + 1,
    responseStatus: 204,
  });
  await store.getWebhookDelivery(`msg-${odd}`);
  await store.listWebhookDeliveries({ endpointId: `ep-${odd}`, limit: 10 });
  await store.deleteExpiredWebhookDeliveries(now);
  await store.deleteWebhookEndpoint(`ep-${odd}`);
  await store.deleteExpiredMails(T0 + 2 * DAY);
}

// ---- the suites ----------------------------------------------------------------------------------

const reachable = await isRedisReachable(REDIS_URL);
if (!reachable) {
  const message = `Redis is not reachable at ${REDIS_URL}`;
  if (isCI()) throw new Error(`${message}: the Redis store tests cannot run`);
  console.warn(`[redis.test] ${message}: skipping the Redis store tests`);
}
const describeWithRedis = reachable ? describe : describe.skip;

describeWithRedis('redis store', () => {
  let admin: Redis;
  const prefixes: string[] = [];

  beforeAll(() => {
    admin = createRedisClient(REDIS_URL) as Redis; // a redis:// URL: a standalone client
  });

  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeys(admin, prefix);
    await admin.quit();
  });

  const conformancePrefix = uniquePrefix('conformance');
  prefixes.push(conformancePrefix);
  describeStoreConformance('redis', {
    open: () => openRedisStore({ url: REDIS_URL, prefix: conformancePrefix }),
    reset: async () => {
      await deleteKeys(admin, conformancePrefix);
    },
    close: (store) => store.close(),
  });

  it('has kind "redis" and validates its options', () => {
    const client = createRedisClient(REDIS_URL, { lazyConnect: true });
    expect(createRedisStore({ client }).kind).toBe('redis');
    expect(() => createRedisStore({ client, prefix: 'a{b' })).toThrow(TypeError);
    expect(() => createRedisStore({})).toThrow(TypeError);
    expect(() => createRedisStore({ client, url: REDIS_URL })).toThrow(TypeError);
    client.disconnect();
  });

  it('rejects with store_unavailable once closed, and closes twice', async () => {
    const store = await openRedisStore({ url: REDIS_URL, prefix: uniquePrefix('closed') });
    await store.close();
    await expect(store.ping()).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(store.getSession('x')).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(store.getSessionWithUser?.('x')).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(store.close()).resolves.toBeUndefined();
  });

  it('puts a hash tag on every key, and the keys of every script in one slot', async () => {
    const prefix = uniquePrefix('layout');
    prefixes.push(prefix);
    const store = await openRedisStore({ url: REDIS_URL, prefix });
    const allScripts = Object.values(scripts).filter(
      (value): value is RedisScript => typeof value === 'object' && 'sha' in value,
    );
    // Loaded beforehand, every call is an EVALSHA (MONITOR escapes an EVAL's body).
    for (const script of allScripts) await admin.script('LOAD', script.lua);
    const monitor = await admin.monitor();
    const lines: { source: string; args: string[] }[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      lines.push({ source, args });
    });
    try {
      await exerciseEveryMethod(store);
      await store.ping(); // a marker: everything before it has been logged
      await eventually(async () => {
        expect(lines.some(({ args }) => args[0]?.toLowerCase() === 'ping')).toBe(true);
        await Promise.resolve();
      }, 2_000);
    } finally {
      monitor.disconnect();
    }

    // Every key the store used (any argument of any command that starts with the prefix; no
    // stored value does) has the form `<prefix>:{<tag>}...` with a non-empty tag.
    const used = new Set(lines.flatMap(({ args }) => args.filter((arg) => arg.startsWith(`${prefix}:`))));
    for (const key of await scanKeys(admin, prefix)) used.add(key);
    expect(used.size).toBeGreaterThan(15);
    for (const key of used) expect(key).toMatch(new RegExp(`^${prefix}:\\{[^{}]+\\}`));

    // Every script's declared keys share one slot, and the commands it ran (logged as source
    // "lua" next to it) touched only those keys.
    const mine = (key: string): boolean => key.startsWith(`${prefix}:`);
    const isScriptCall = (args: string[]): boolean => /^evalsha$/i.test(args[0] ?? '');
    const declaredKeys = (args: string[]): string[] => args.slice(3, 3 + Number(args[2]));
    const seenScripts = new Set<string>();
    let checkedBlocks = 0;
    lines.forEach(({ source, args }, i) => {
      if (source === 'lua' || !isScriptCall(args)) return;
      const declared = declaredKeys(args);
      if (!declared.some(mine)) return;
      seenScripts.add(args[1] ?? '');
      expect(declared.every(mine)).toBe(true);
      expect(new Set(declared.map(keySlot)).size).toBe(1);
      // Redis logs a script call, then the commands the script runs (source "lua").
      const block = [];
      for (const line of lines.slice(i + 1)) {
        if (line.source !== 'lua') break;
        block.push(line);
      }
      for (const command of block) {
        const name = (command.args[0] ?? '').toLowerCase();
        const touched = name === 'unlink' || name === 'del' ? command.args.slice(1) : [command.args[1] ?? ''];
        for (const key of touched) expect(declared).toContain(key);
      }
      if (block.length > 0) checkedBlocks += 1;
    });
    // By SHA: one script may be exported under two names (a compatibility alias).
    expect([...seenScripts].sort()).toEqual([...new Set(allScripts.map((script) => script.sha))].sort());
    expect(checkedBlocks).toBeGreaterThanOrEqual(allScripts.length);
    await store.close();
  });

  it('reads a session and its user with one command (the one script that leaves its slot)', async () => {
    const prefix = uniquePrefix('one-read');
    prefixes.push(prefix);
    const store = await openRedisStore({ url: REDIS_URL, prefix });
    const owner = {
      id: 'owner{1}',
      email: 'owner@example.com',
      passwordHash: 'x',
      status: 'active' as const,
      roles: [],
      createdAt: T0,
      updatedAt: T0,
      emailVerifiedAt: null,
    };
    await store.createUser(owner);
    const record: SessionRecord = {
      id: 'one-read',
      userId: owner.id,
      secretHash: 'h',
      mode: 'cookie',
      createdAt: T0,
      lastSeenAt: T0,
      idleExpiresAt: T0 + DAY,
      absoluteExpiresAt: T0 + 2 * DAY,
      userAgent: null,
      ip: null,
      revokedAt: null,
      persistent: false,
      amr: ['pwd'],
      authTime: T0,
      acr: '1',
    };
    await store.createSession(record);
    await store.ping(); // loads nothing, but makes sure the connection is up before MONITOR
    const monitor = await admin.monitor();
    const commands: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua') commands.push(args);
    });
    try {
      expect(await store.getSessionWithUser?.('one-read')).toEqual({ session: record, user: owner });
      await store.ping();
      await eventually(async () => {
        expect(commands.some((args) => args[0]?.toLowerCase() === 'ping')).toBe(true);
        await Promise.resolve();
      }, 2_000);
    } finally {
      monitor.disconnect();
    }
    const before = commands.findIndex((args) => args[0]?.toLowerCase() === 'ping');
    const read = commands.slice(0, before).filter((args) => args.some((arg) => arg.startsWith(`${prefix}:`)));
    // One EVALSHA, or an EVALSHA then its EVAL when the script was not loaded yet.
    expect(read.map((args) => args[0]?.toLowerCase()).filter((name) => name !== 'eval')).toEqual(['evalsha']);
    await store.close();
  });

  it('keeps a chain of refresh tokens in a bounded hash however often it rotates', async () => {
    const prefix = uniquePrefix('chain');
    prefixes.push(prefix);
    const store = await openRedisStore({ url: REDIS_URL, prefix });
    const family = `${prefix}:{s:fam}:rt`;
    // Ids of one width, so that the memory compared below does not grow with their digits.
    const name = (i: number): string => `fam-rt-${String(i).padStart(2, '0')}`;
    const token = (i: number): RefreshTokenRecord => ({
      id: name(i),
      sessionId: 'fam',
      secretHash: randomBytes(32).toString('base64url'),
      createdAt: T0 + i,
      expiresAt: T0 + DAY + i,
      rotatedAt: null,
      successorId: null,
    });
    const tokens = [token(0)];
    await store.createRefreshToken(tokens[0] as RefreshTokenRecord);
    const rotateTo = async (i: number): Promise<void> => {
      tokens.push(token(i));
      expect(await store.rotateRefreshToken(name(i - 1), tokens[i] as RefreshTokenRecord, T0 + i)).toBe(true);
    };
    for (let i = 1; i <= 2; i += 1) await rotateTo(i);
    const afterTwo = (await admin.memory('USAGE', family, 'SAMPLES', '0')) ?? 0;
    for (let i = 3; i <= 50; i += 1) await rotateTo(i);
    const afterFifty = (await admin.memory('USAGE', family, 'SAMPLES', '0')) ?? 0;
    // The current token and the one it replaced: t: and c: of both, r: of the replaced one.
    expect(await admin.hlen(family)).toBe(5);
    expect(afterFifty).toBeLessThanOrEqual(afterTwo);
    // Every old token is still recognised, with its successor: reuse is still detected.
    for (let i = 0; i < 50; i += 1) {
      expect(await store.getRefreshToken(name(i))).toEqual({
        ...tokens[i],
        rotatedAt: T0 + i + 1,
        successorId: name(i + 1),
      });
    }
    expect(await store.getRefreshToken(name(50))).toEqual(tokens[50]);
    console.info(`[redis chain] family hash after 2 rotations ${afterTwo} B, after 50 ${afterFifty} B`);
    await store.close();
  });

  it('reads a chain written with every token in its hash, and retires it at the next rotation', async () => {
    const prefix = uniquePrefix('legacy-chain');
    prefixes.push(prefix);
    const store = await openRedisStore({ url: REDIS_URL, prefix });
    const family = `${prefix}:{s:old}:rt`;
    // The layout before chains were bounded: every token of the chain in the hash.
    for (let i = 0; i < 10; i += 1) {
      await admin.set(`${prefix}:{rt:old-${i}}`, 'old', 'PX', DAY);
      await admin.hset(family, `t:old-${i}`, `hash-${i}`, `c:old-${i}`, `${T0 + i},${T0 + DAY}`);
      if (i < 9) await admin.hset(family, `r:old-${i}`, `${T0 + i + 1},old-${i + 1}`);
    }
    await admin.pexpire(family, DAY);
    const expected = (i: number): RefreshTokenRecord => ({
      id: `old-${i}`,
      sessionId: 'old',
      secretHash: `hash-${i}`,
      createdAt: T0 + i,
      expiresAt: T0 + DAY,
      rotatedAt: i < 9 ? T0 + i + 1 : null,
      successorId: i < 9 ? `old-${i + 1}` : null,
    });
    expect(await store.getRefreshToken('old-0')).toEqual(expected(0));
    const next = { ...expected(10), rotatedAt: null, successorId: null };
    expect(await store.rotateRefreshToken('old-9', next, T0 + 10)).toBe(true);
    expect(await admin.hlen(family)).toBe(5);
    for (let i = 0; i < 9; i += 1) expect(await store.getRefreshToken(`old-${i}`)).toEqual(expected(i));
    expect(await store.getRefreshToken('old-9')).toEqual({
      ...expected(9),
      rotatedAt: T0 + 10,
      successorId: 'old-10',
    });
    expect(await store.getRefreshToken('old-10')).toEqual(next);
    await store.close();
  });

  it('spreads the sweep over small buckets, and still sweeps and lists the single index of earlier versions', async () => {
    const prefix = uniquePrefix('buckets');
    prefixes.push(prefix);
    const store = await openRedisStore({ url: REDIS_URL, prefix });
    for (let i = 0; i < 40; i += 1)
      await store.createSession(session({ id: `b-${i}`, idleExpiresAt: T0 + DAY + i }));
    const bucketKeys = (await scanKeys(admin, prefix)).filter((key) => key.includes(':{sweep:'));
    expect(bucketKeys.length).toBeGreaterThan(30);
    for (const key of bucketKeys) expect(await admin.object('ENCODING', key)).toBe('listpack');
    // Two sessions as an earlier version wrote them: in the one sweep index, not in a bucket.
    const legacy = `${prefix}:{sweep}:sessions`;
    for (const id of ['old-1', 'old-2']) {
      await admin.set(
        `${prefix}:{s:${id}}:session`,
        `${T0},${T0 + DAY},|["user-1","h","cookie",${T0},${T0 + 2 * DAY},null,null,0]`,
      );
      await admin.zadd(legacy, T0 + DAY, id);
    }
    // Revoking one lowers its score in its bucket: it is in both indexes now, listed once.
    expect(await store.revokeSession('old-2', T0 + 1)).toBe(true);
    const transfer = storeTransferOf(store);
    const listed: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ExportPage<SessionRecord> | undefined = await transfer?.exportSessions({
        cursor,
        limit: 10,
      });
      listed.push(...(page?.records ?? []).map((record) => record.id));
      cursor = page?.cursor ?? null;
    } while (cursor !== null);
    expect(listed.sort()).toEqual(
      [...Array.from({ length: 40 }, (_, i) => `b-${i}`), 'old-1', 'old-2'].sort(),
    );
    // Both indexes are swept: every session is due at T0 + 2 days.
    expect(await store.deleteExpiredSessions(T0 + 2 * DAY)).toBe(42);
    expect(await admin.exists(legacy)).toBe(0);
    expect((await scanKeys(admin, prefix)).filter((key) => key.includes('sweep'))).toEqual([]);
    await store.close();
  });

  it('sets relative GC TTLs, never shorter than the logical life, whatever the clock', async () => {
    const prefix = uniquePrefix('ttl');
    prefixes.push(prefix);
    const store = await openRedisStore({ url: REDIS_URL, prefix });
    // T0 is far from Redis's clock: an absolute PEXPIREAT would expire these at once.
    await store.createSession(session());
    await store.increment('k', 60_000, T0);
    const sessionTTL = await admin.pttl(`${prefix}:{s:session-1}:session`);
    expect(sessionTTL).toBeGreaterThan(DAY);
    expect(sessionTTL).toBeLessThanOrEqual(2 * DAY);
    const counterTTL = await admin.pttl(`${prefix}:{c:k}`);
    expect(counterTTL).toBeGreaterThan(60_000);
    expect(counterTTL).toBeLessThanOrEqual(120_000);
    // Touching extends the TTL to the new idle life.
    await store.touchSession('session-1', { lastSeenAt: T0 + DAY, idleExpiresAt: T0 + 8 * DAY });
    expect(await admin.pttl(`${prefix}:{s:session-1}:session`)).toBeGreaterThan(7 * DAY);
    await store.close();
  });

  it('keeps revocation seqs increasing across a flush of its keys', async () => {
    const prefix = uniquePrefix('seq');
    prefixes.push(prefix);
    const store = await openRedisStore({ url: REDIS_URL, prefix });
    const revocation = { kind: 'session' as const, subject: 's', issuedBefore: null, expiresAt: T0 + DAY };
    const before = await store.addRevocation({ ...revocation, createdAt: T0 });
    await store.addRevocation({ ...revocation, createdAt: T0 });
    await deleteKeys(admin, prefix);
    const after = await store.addRevocation({ ...revocation, createdAt: T0 + 1 });
    expect(after.seq).toBeGreaterThan(before.seq + 1);
    expect(Number.isSafeInteger(after.seq)).toBe(true);
    await store.close();
  });

  it('refuses a refresh-token successor from another session', async () => {
    const prefix = uniquePrefix('successor');
    prefixes.push(prefix);
    const store = await openRedisStore({ url: REDIS_URL, prefix });
    const token = {
      id: 'rt-1',
      sessionId: 'session-1',
      secretHash: 'hash',
      createdAt: T0,
      expiresAt: T0 + DAY,
      rotatedAt: null,
      successorId: null,
    };
    await store.createRefreshToken(token);
    await expect(
      store.rotateRefreshToken('rt-1', { ...token, id: 'rt-2', sessionId: 'session-2' }, T0 + 1),
    ).rejects.toMatchObject({ code: 'internal_error' });
    expect(await store.getRefreshToken('rt-1')).toEqual(token);
    await store.close();
  });

  it('wraps driver errors without their arguments', async () => {
    const prefix = uniquePrefix('errors');
    prefixes.push(prefix);
    const store = await openRedisStore({ url: REDIS_URL, prefix });
    // Put a string where the session's refresh-token hash belongs: the script fails in Redis.
    await admin.set(`${prefix}:{s:session-1}:rt`, 'not a hash');
    const error: unknown = await store
      .createRefreshToken({
        id: 'rt-1',
        sessionId: 'session-1',
        secretHash: 'SECRET-HASH-VALUE',
        createdAt: T0,
        expiresAt: T0 + DAY,
        rotatedAt: null,
        successorId: null,
      })
      .then(
        () => undefined,
        (reason: unknown) => reason,
      );
    expect(error).toBeInstanceOf(LatchkeyError);
    expect((error as LatchkeyError).code).toBe('store_unavailable');
    expect(inspect(error, { depth: 10, showHidden: true })).not.toContain('SECRET-HASH-VALUE');
    await store.close();
  });

  it('fails fast with store_unavailable when Redis is unreachable', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const store = createRedisStore({ url: 'redis://127.0.0.1:1', prefix: uniquePrefix('down') });
      await expect(store.ping()).rejects.toMatchObject({ code: 'store_unavailable' });
      await expect(store.getSession('session-1')).rejects.toMatchObject({ code: 'store_unavailable' });
      await expect(store.getSessionWithUser?.('session-1')).rejects.toMatchObject({
        code: 'store_unavailable',
      });
      await expect(store.increment('k', 1_000, T0)).rejects.toMatchObject({ code: 'store_unavailable' });
      await store.close();
      await expect(openRedisStore({ url: 'redis://127.0.0.1:1' })).rejects.toMatchObject({
        code: 'store_unavailable',
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it(
    'times out on a hung server, and reconnects by itself after a restart',
    { timeout: 30_000 },
    async () => {
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'latchkey-redis-'));
      let server = await startRedisServer(port, dir);
      let store: Store | undefined;
      try {
        store = await openRedisStore({ url: `redis://127.0.0.1:${port}`, prefix: 'latchkey' });
        await store.createSession(session());
        expect((await store.getSession('session-1'))?.id).toBe('session-1');

        // A server that hangs (SIGSTOP): commands time out instead of waiting for ever.
        server.process.kill('SIGSTOP');
        await expect(store.getSession('session-1')).rejects.toMatchObject({ code: 'store_unavailable' });
        server.process.kill('SIGCONT');
        const resumed = store;
        await eventually(async () => {
          expect((await resumed.getSession('session-1'))?.id).toBe('session-1');
        }, 5_000);

        await server.stop();
        await expect(store.getSession('session-1')).rejects.toMatchObject({ code: 'store_unavailable' });
        await expect(store.getSessionWithUser?.('session-1')).rejects.toMatchObject({
          code: 'store_unavailable',
        });
        await expect(store.ping()).rejects.toMatchObject({ code: 'store_unavailable' });

        server = await startRedisServer(port, dir);
        await eventually(() => resumed.ping(), 10_000);
        // Nothing was persisted: the same store works again on the fresh server, which has none
        // of the scripts loaded (EVALSHA falls back to EVAL).
        expect(await store.getSession('session-1')).toBeNull();
        expect(await store.increment('k', 60_000, T0)).toEqual({ count: 1, expiresAt: T0 + 60_000 });
        await store.createSession(session({ id: 'session-2' }));
        expect((await store.getSession('session-2'))?.id).toBe('session-2');
        // The session read's script too (not loaded on the fresh server: EVALSHA, then EVAL).
        await store.createSession(session({ id: 'session-3' }));
        expect((await store.getSessionWithUser?.('session-3'))?.session.id).toBe('session-3');
      } finally {
        await store?.close();
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
