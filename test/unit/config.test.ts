import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { parseDuration } from '../../src/config/duration.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.issuer).toBe('http://localhost:8080');
    expect(config.sessionIdleTimeout).toBe(30 * 60_000);
    expect(config.sessionAbsoluteTimeout).toBe(12 * 3_600_000);
    expect(config.accessTokenTTL).toBe(15 * 60_000);
    expect(config.refreshIdleTTL).toBe(7 * 86_400_000);
    expect(config.refreshAbsoluteTTL).toBe(30 * 86_400_000);
    expect(config.refreshGrace).toBe(10_000);
    expect(config.jwtAlgorithm).toBe('EdDSA');
    expect(config.dataDir).toBe('./.latchkey');
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['LATCHKEY_SECRET', 'too short'],
    ['LATCHKEY_SESSION_IDLE_TIMEOUT', '30 minutes'],
    ['LATCHKEY_JWT_ALG', 'none'],
    ['LATCHKEY_JWT_ALG', 'HS512'],
    ['LATCHKEY_ISSUER', 'not a url'],
    ['DATABASE_URL', 'mongodb://localhost/db'],
    ['REDIS_URL', 'http://localhost'],
    ['REDIS_URL', 'redis+cluster://'],
    ['REDIS_URL', 'redis+cluster://10.0.0.1:7000,,10.0.0.2:7000'],
    ['REDIS_URL', 'redis+cluster://10.0.0.1:70000'],
    ['REDIS_URL', 'redis+cluster://10.0.0.1:7000/3'],
    ['REDIS_URL', 'redis+cluster://10.0.0.1:7000?db=1'],
    ['LATCHKEY_ALLOWED_ORIGINS', 'null'],
    ['LATCHKEY_ALLOWED_ORIGINS', '*'],
    ['LATCHKEY_TRUSTED_PROXIES', 'everyone'],
    ['LATCHKEY_MIGRATE', 'perhaps'],
    ['LOG_LEVEL', 'loud'],
    ['LATCHKEY_ACCESS_TOKEN_TTL', '30d'],
    ['LATCHKEY_REFRESH_LIMIT_IP', '-1'],
    ['LATCHKEY_REFRESH_LIMIT_SESSION', 'many'],
  ])('names the bad variable %s=%s', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    try {
      loadConfig({ [name]: value });
    } catch (error) {
      expect((error as ConfigError).variable).toBe(name);
      expect((error as Error).message.startsWith(`${name}:`)).toBe(true);
    }
  });

  it('reads REDIS_URL: a standalone Redis or a Redis Cluster named by some of its nodes', () => {
    for (const url of [
      'redis://127.0.0.1:6379',
      'rediss://:secret@cache.example.com:6380/2',
      'redis+cluster://10.0.0.1:7000,10.0.0.2:7000,[::1]:7001',
      'rediss+cluster://user:p%40ss@cache-1.example.com:7000,cache-2.example.com/',
    ]) {
      expect(loadConfig({ REDIS_URL: url }).redisURL).toBe(url);
    }
  });

  it('never repeats a Redis Cluster URL, which may hold a password, in its refusal', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis+cluster://:hunter2@10.0.0.1:7000/5' })).toThrow(
      /^REDIS_URL: a Redis Cluster has only database 0$/,
    );
    expect(() => loadConfig({ REDIS_URL: 'redis+cluster://:hunter2@10.0.0.1:x' })).toThrow(
      /^REDIS_URL: a Redis Cluster URL lists nodes as host:port, separated by commas$/,
    );
  });

  it('reads LATCHKEY_SESSION_CACHE: auto by default, off, or a duration up to 1m', () => {
    expect(loadConfig({}).sessionCache).toBeNull();
    expect(loadConfig({ LATCHKEY_SESSION_CACHE: 'auto' }).sessionCache).toBeNull();
    expect(loadConfig({ LATCHKEY_SESSION_CACHE: 'off' }).sessionCache).toBe(0);
    expect(loadConfig({ LATCHKEY_SESSION_CACHE: '0' }).sessionCache).toBe(0);
    expect(loadConfig({ LATCHKEY_SESSION_CACHE: '5s' }).sessionCache).toBe(5_000);
    expect(loadConfig({ LATCHKEY_SESSION_CACHE: '1m' }).sessionCache).toBe(60_000);
    for (const value of ['61s', '1h', 'soon', '-5s']) {
      expect(() => loadConfig({ LATCHKEY_SESSION_CACHE: value }), value).toThrow(ConfigError);
    }
  });

  it('reads the refresh flood limits: 600 per client, 100 per session, 0 for none', () => {
    expect(loadConfig({})).toMatchObject({ refreshLimitPerClient: 600, refreshLimitPerSession: 100 });
    expect(
      loadConfig({ LATCHKEY_REFRESH_LIMIT_IP: '20000', LATCHKEY_REFRESH_LIMIT_SESSION: '0' }),
    ).toMatchObject({ refreshLimitPerClient: 20_000, refreshLimitPerSession: 0 });
  });

  it('refuses an idle timeout longer than the absolute one', () => {
    expect(() =>
      loadConfig({ LATCHKEY_SESSION_IDLE_TIMEOUT: '13h', LATCHKEY_SESSION_ABSOLUTE_TIMEOUT: '12h' }),
    ).toThrow(/LATCHKEY_SESSION_IDLE_TIMEOUT/);
  });

  it('parses durations', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('10')).toBe(10_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('-1s')).toBeNull();
    expect(parseDuration('0s')).toBeNull();
    expect(parseDuration('1y')).toBeNull();
  });
});
