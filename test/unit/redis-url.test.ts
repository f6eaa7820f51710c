import { describe, expect, it } from 'vitest';
import { isRedisURL, parseRedisClusterURL } from '../../src/lib/redis-url.js';

describe('REDIS_URL: standalone or Cluster', () => {
  it('tells the schemes apart', () => {
    for (const url of ['redis://h', 'rediss://h', 'redis+cluster://h', 'REDISS+CLUSTER://h'])
      expect(isRedisURL(url), url).toBe(true);
    for (const url of ['http://h', 'redis:h', 'redis+sentinel://h', 'cluster://h', ''])
      expect(isRedisURL(url), url).toBe(false);
    expect(parseRedisClusterURL('redis://127.0.0.1:6379')).toBeNull();
    expect(parseRedisClusterURL('rediss://a,b')).toBeNull();
  });

  it('reads the nodes, the default port, IPv6 in brackets, credentials and TLS', () => {
    expect(parseRedisClusterURL('redis+cluster://10.0.0.1:7000,cache.internal,[::1]:7002')).toEqual({
      tls: false,
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'cache.internal', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      username: undefined,
      password: undefined,
    });
    expect(parseRedisClusterURL('rediss+cluster://app:p%40ss%3Aword@h1:7000/0')).toEqual({
      tls: true,
      nodes: [{ host: 'h1', port: 7000 }],
      username: 'app',
      password: 'p@ss:word',
    });
    // A password alone (`requirepass`), and an `@` inside the password taken up to the last one.
    expect(parseRedisClusterURL('redis+cluster://:s@cret@h1:7000/')).toMatchObject({
      username: undefined,
      password: 's@cret',
      nodes: [{ host: 'h1', port: 7000 }],
    });
  });

  it('refuses a Cluster URL written wrong, without repeating it', () => {
    for (const url of [
      'redis+cluster://',
      'redis+cluster://h1:7000,',
      'redis+cluster://h1:0',
      'redis+cluster://h1:65536',
      'redis+cluster://h 1:7000',
      'redis+cluster://h1:7000/1',
      'redis+cluster://h1:7000?tls=true',
      'redis+cluster://h1:7000#x',
      'redis+cluster://[zz]:7000',
      'redis+cluster://:%E0%A4%A@h1',
    ]) {
      let message = '';
      try {
        parseRedisClusterURL(url);
      } catch (error) {
        expect(error, url).toBeInstanceOf(TypeError);
        message = (error as Error).message;
      }
      expect(message, url).not.toBe('');
      expect(message, url).not.toContain('h1');
    }
  });
});
