/**
 * Redis holding everything (REDIS_URL alone) must persist, or it would forget revocations at a
 * restart and revoked access tokens would verify again. Checked on a redis-server of the test's
 * own (another port; the shared one is never reconfigured), switched between no persistence,
 * RDB snapshots and AOF with CONFIG SET.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRedisDurability, openStore } from '../../src/app/stores.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log.js';
import { startOwnRedis, type OwnRedis } from '../helpers/own-servers.js';

let redis: OwnRedis;
let admin: Redis;
let dir: string;
beforeAll(async () => {
  // Anything the server writes goes to a temporary directory, never the working tree.
  dir = await mkdtemp(join(tmpdir(), 'latchkey-redis-aof-'));
  redis = await startOwnRedis({ dir });
  admin = new Redis(redis.url);
}, 30_000);
afterAll(async () => {
  admin.disconnect();
  await redis.destroy();
  await rm(dir, { recursive: true, force: true });
});

/** Opens the store from `env` and answers the outcome and the warning events logged. */
async function open(env: Record<string, string>): Promise<{ error: unknown; events: string[] }> {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: 'warn', destination });
  let error: unknown = null;
  try {
    const store = await openStore(loadConfig({ REDIS_URL: redis.url, ...env }), { logger });
    await store.close();
  } catch (caught) {
    error = caught;
  }
  const events = lines.map((line) => (JSON.parse(line) as { event?: string }).event ?? '');
  return { error, events };
}

describe('REDIS_URL alone', () => {
  it('refuses a Redis that does not persist, saying what to do', async () => {
    await admin.config('SET', 'appendonly', 'no');
    await admin.config('SET', 'save', '');
    const { error } = await open({});
    expect(error).toMatchObject({ code: 'config_invalid' });
    const message = (error as Error).message;
    for (const hint of [
      'does not persist',
      'appendonly yes',
      'DATABASE_URL',
      'LATCHKEY_REDIS_ALLOW_VOLATILE',
    ])
      expect(message).toContain(hint);
    expect(message).not.toContain(redis.url);
  });

  it('runs on it with LATCHKEY_REDIS_ALLOW_VOLATILE=true, with a warning', async () => {
    const { error, events } = await open({ LATCHKEY_REDIS_ALLOW_VOLATILE: 'true' });
    expect(error).toBeNull();
    expect(events).toEqual(['store.redis_volatile']);
  });

  it('runs on RDB snapshots with a warning, and on AOF without one', async () => {
    await admin.config('SET', 'save', '3600 1');
    const snapshots = await open({});
    expect(snapshots.error).toBeNull();
    expect(snapshots.events).toEqual(['store.redis_volatile']);

    await admin.config('SET', 'appendonly', 'yes');
    const aof = await open({});
    expect(aof.error).toBeNull();
    expect(aof.events).toEqual([]);
  });

  it('warns, and runs, where the server refuses CONFIG (managed Redis)', () => {
    const warnings: unknown[] = [];
    const logger = { warn: (fields: unknown) => warnings.push(fields) } as never;
    expect(() => checkRedisDurability({ redisAllowVolatile: false }, null, logger)).not.toThrow();
    expect(warnings).toEqual([{ event: 'store.redis_volatile', persistence: null }]);
  });
});
