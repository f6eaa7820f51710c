/**
 * The revocation channel follows LATCHKEY_REDIS_PREFIX: two deployments sharing one Redis under
 * different prefixes publish on different channels, so neither hears (and acts on) the other's
 * revocations. The default prefix keeps the default channel, which resource services use.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { openLatchkey } from '../../src/app/open.js';
import { revocationChannel } from '../../src/app/channels.js';
import { defaultConfig } from '../../src/config/config.js';
import { createHTTPServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { DEFAULT_REVOCATION_CHANNEL } from '../../src/revocation/publishers.js';
import { loginCookie, signup, SECRET } from '../helpers/app.js';
import { createTestRedisPrefix, describeWithServices, probeRedis } from '../helpers/services.js';

const redis = createTestRedisPrefix();
const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-channel-'));
afterAll(async () => {
  await redis.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

it('is the default channel without Redis or with the default prefix, and the prefix’s own otherwise', () => {
  expect(revocationChannel({ redisURL: null, redisPrefix: 'tenant-a' })).toBe(DEFAULT_REVOCATION_CHANNEL);
  expect(revocationChannel({ redisURL: redis.url, redisPrefix: 'latchkey' })).toBe(
    DEFAULT_REVOCATION_CHANNEL,
  );
  expect(revocationChannel({ redisURL: redis.url, redisPrefix: 'tenant-a' })).toBe('tenant-a:revocations');
});

describeWithServices('the channel of a server on a shared Redis', [await probeRedis()], () => {
  it('publishes a logout on <prefix>:revocations, and nothing on the default channel', async () => {
    const subscriber = new Redis(redis.url);
    const heard: string[] = [];
    subscriber.on('message', (channel: string) => heard.push(channel));
    await subscriber.subscribe(`${redis.prefix}:revocations`, DEFAULT_REVOCATION_CHANNEL);
    const config = defaultConfig({
      issuer: 'https://auth.example.test',
      audience: 'https://auth.example.test',
      redisURL: redis.url,
      redisPrefix: redis.prefix,
      redisAllowVolatile: true, // the test Redis does not persist (see redis-durability.test.ts)
      secret: SECRET,
      dataDir,
    });
    const latchkey = await openLatchkey(config, { logger: createLogger({ level: 'silent' }) });
    const app = createHTTPServer(latchkey);
    try {
      await signup(app, 'carol@example.com');
      const { cookie, csrf } = await loginCookie(app, 'carol@example.com');
      const logout = await app.inject({
        method: 'POST',
        url: '/v1/logout',
        headers: { cookie, 'x-csrf-token': csrf },
      });
      expect(logout.statusCode).toBe(204);
      await expect.poll(() => heard, { timeout: 5_000 }).toContain(`${redis.prefix}:revocations`);
      expect(heard).not.toContain(DEFAULT_REVOCATION_CHANNEL);
    } finally {
      await app.close();
      await latchkey.close();
      subscriber.disconnect();
    }
  });
});

describeWithServices('a one-shot command (the CLI core) on a shared Redis', [await probeRedis()], () => {
  it('publishes what it revokes or changes before it closes, and keeps no cache', async () => {
    const subscriber = new Redis(redis.url);
    const heard: { kind: string; issued_before: number | null }[] = [];
    subscriber.on('message', (_channel: string, message: string) => {
      heard.push(JSON.parse(message) as { kind: string; issued_before: number | null });
    });
    await subscriber.subscribe(`${redis.prefix}:revocations`);
    const config = defaultConfig({
      issuer: 'https://auth.example.test',
      audience: 'https://auth.example.test',
      redisURL: redis.url,
      redisPrefix: redis.prefix,
      redisAllowVolatile: true, // the test Redis does not persist (see redis-durability.test.ts)
      secret: SECRET,
      dataDir,
      logLevel: 'warn',
    });
    const server = await openLatchkey(config, { logger: createLogger({ level: 'silent' }) });
    const app = createHTTPServer(server);
    const logs: string[] = [];
    const destination = { write: (line: string) => logs.push(line) } as unknown as NodeJS.WritableStream;
    const cli = await openLatchkey(config, {
      logger: createLogger({ level: 'warn', destination }),
      channels: 'publish',
    });
    let cliOpen = true;
    try {
      await signup(app, 'dave@example.com');
      await loginCookie(app, 'dave@example.com');
      const before = heard.length;
      await cli.auth.setUserRoles('dave@example.com', ['admin']);
      await cli.auth.setUserStatus('dave@example.com', 'disabled');
      await cli.close();
      cliOpen = false;
      // Closing waited for the publishes: the subscriber gets them without the command running on.
      // Closing waited for the publishes: the subscriber gets them without the command running on.
      await expect
        .poll(() => heard.slice(before).filter((r) => r.kind === 'user').length, { timeout: 5_000 })
        .toBe(2);
      const published = heard.slice(before);
      // The role change and the disable: each a user revocation (tokens issued before are refused)...
      expect(published[0]).toMatchObject({ kind: 'user' });
      expect(published.at(-1)).toMatchObject({ kind: 'user' });
      expect(published.every((r) => r.kind !== 'user' || (r.issued_before ?? 0) > 0)).toBe(true);
      // ...and the disable's sessions in between.
      expect(published.slice(1, -1).length).toBeGreaterThan(0);
      expect(published.slice(1, -1).every((r) => r.kind === 'session')).toBe(true);
      expect(cli.sessionCache).toBeNull();
      expect(logs.join('')).not.toContain('config.session_cache');
    } finally {
      await app.close();
      await server.close();
      if (cliOpen) await cli.close();
      subscriber.disconnect();
    }
  });
});
