import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { chooseStore } from '../../src/app/stores.js';

const PG = 'postgres://latchkey@db/latchkey';
const REDIS = 'redis://cache:6379';

describe('choosing the store from the environment', () => {
  it.each([
    [{}, 'pglite'],
    [{ DATABASE_URL: PG }, 'postgres'],
    [{ REDIS_URL: REDIS }, 'redis'],
    [{ DATABASE_URL: PG, REDIS_URL: REDIS }, 'postgres+redis'],
    [{ DATABASE_URL: PG, REDIS_URL: REDIS, LATCHKEY_STORE: 'memory' }, 'memory'],
  ] as const)('%o gives %s', (env, expected) => {
    expect(chooseStore(loadConfig(env))).toBe(expected);
  });

  it('reads LATCHKEY_REDIS_PREFIX, and refuses braces (the store adds its own hash tags)', () => {
    expect(loadConfig({}).redisPrefix).toBe('latchkey');
    expect(loadConfig({ LATCHKEY_REDIS_PREFIX: 'auth-prod:eu' }).redisPrefix).toBe('auth-prod:eu');
    expect(() => loadConfig({ LATCHKEY_REDIS_PREFIX: '{latchkey}' })).toThrow(/^LATCHKEY_REDIS_PREFIX: /);
    expect(() => loadConfig({ LATCHKEY_REDIS_PREFIX: 'a b' })).toThrow(/^LATCHKEY_REDIS_PREFIX: /);
  });

  it('imports no driver at the top of app/stores.ts: each is loaded only when chosen', () => {
    const source = readFileSync(new URL('../../src/app/stores.ts', import.meta.url), 'utf8');
    const staticImports = [...source.matchAll(/^import (?!type ).*from '([^']+)';$/gm)].map((m) => m[1]);
    expect(staticImports).toEqual(['node:path']);
  });
});
