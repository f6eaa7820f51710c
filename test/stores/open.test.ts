import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { chooseStore, embeddedStorePaths, openStore, storeNotice } from '../../src/app/stores.js';
import { createLogger } from '../../src/log.js';

const PG = 'postgres://latchkey@db/latchkey';
const REDIS = 'redis://cache:6379';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A data directory of its own (the default, ./.latchkey, may hold anything on a developer's machine). */
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-open-'));
  dirs.push(dir);
  return dir;
}

/** What PGlite leaves in its folder, enough for the choice (`PG_VERSION`). */
function fakePGliteDatabase(dir: string): void {
  mkdirSync(join(dir, 'pglite'), { recursive: true });
  writeFileSync(join(dir, 'pglite', 'PG_VERSION'), '17\n');
}

describe('choosing the store from the environment', () => {
  it.each([
    [{}, 'sqlite'],
    [{ LATCHKEY_STORE: 'sqlite' }, 'sqlite'],
    [{ LATCHKEY_STORE: 'pglite' }, 'pglite'],
    [{ DATABASE_URL: PG }, 'postgres'],
    [{ REDIS_URL: REDIS }, 'redis'],
    [{ DATABASE_URL: PG, REDIS_URL: REDIS }, 'postgres+redis'],
    [{ DATABASE_URL: PG, REDIS_URL: REDIS, LATCHKEY_STORE: 'memory' }, 'memory'],
  ] as const)('%o gives %s', (env, expected) => {
    expect(chooseStore(loadConfig({ LATCHKEY_DATA_DIR: dataDir(), ...env }))).toBe(expected);
  });

  it('refuses an unknown store, and an embedded one named along with a URL', () => {
    expect(() => loadConfig({ LATCHKEY_STORE: 'mongo' })).toThrow(
      /^LATCHKEY_STORE: "mongo" is not one of auto, memory, sqlite, pglite$/,
    );
    expect(() => loadConfig({ LATCHKEY_STORE: 'sqlite', DATABASE_URL: PG })).toThrow(
      /^LATCHKEY_STORE: "sqlite" keeps everything in the data directory/,
    );
    expect(() => loadConfig({ LATCHKEY_STORE: 'pglite', REDIS_URL: REDIS })).toThrow(/^LATCHKEY_STORE: /);
  });

  it('keeps PGlite where the data directory holds a PGlite database and no SQLite file, and says how to move', () => {
    const dir = dataDir();
    fakePGliteDatabase(dir);
    const config = loadConfig({ LATCHKEY_DATA_DIR: dir });
    expect(chooseStore(config)).toBe('pglite');
    expect(storeNotice(config)).toMatch(
      /holds a PGlite database .*keeps using it.*Set LATCHKEY_STORE=pglite to silence this; moving to SQLite: see docs\/deploying\.md$/,
    );
    // Said explicitly: no warning.
    expect(storeNotice(loadConfig({ LATCHKEY_DATA_DIR: dir, LATCHKEY_STORE: 'pglite' }))).toBeNull();
    // A SQLite file next to it (moved already) wins; so does LATCHKEY_STORE=sqlite.
    writeFileSync(embeddedStorePaths(config).sqlite, '');
    expect(chooseStore(config)).toBe('sqlite');
    expect(storeNotice(config)).toBeNull();
    expect(chooseStore(loadConfig({ LATCHKEY_DATA_DIR: dataDir(), LATCHKEY_STORE: 'sqlite' }))).toBe(
      'sqlite',
    );
  });

  it('ignores an empty pglite folder (a first start that failed): SQLite', () => {
    const dir = dataDir();
    mkdirSync(join(dir, 'pglite'));
    expect(chooseStore(loadConfig({ LATCHKEY_DATA_DIR: dir }))).toBe('sqlite');
  });

  it('opens SQLite in the data directory by default, in one file', async () => {
    const dir = dataDir();
    const store = await openStore(loadConfig({ LATCHKEY_DATA_DIR: dir }));
    try {
      expect(store.kind).toBe('sqlite');
      expect(readFileSync(join(dir, 'latchkey.sqlite')).subarray(0, 15).toString()).toBe('SQLite format 3');
    } finally {
      await store.close();
    }
  });

  it('logs the warning when it keeps PGlite', async () => {
    const dir = dataDir();
    fakePGliteDatabase(dir);
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'warn', destination });
    // The fake folder is no database: opening fails after the warning.
    await openStore(loadConfig({ LATCHKEY_DATA_DIR: dir }), { logger }).then(
      (store) => store.close(),
      () => undefined,
    );
    expect(lines.join('')).toContain('"event":"store.pglite_kept"');
  });

  it('reads LATCHKEY_REDIS_PREFIX, and refuses braces (the store adds its own hash tags)', () => {
    expect(loadConfig({}).redisPrefix).toBe('latchkey');
    expect(loadConfig({ LATCHKEY_REDIS_PREFIX: 'auth-prod:eu' }).redisPrefix).toBe('auth-prod:eu');
    expect(() => loadConfig({ LATCHKEY_REDIS_PREFIX: '{latchkey}' })).toThrow(/^LATCHKEY_REDIS_PREFIX: /);
    expect(() => loadConfig({ LATCHKEY_REDIS_PREFIX: 'a b' })).toThrow(/^LATCHKEY_REDIS_PREFIX: /);
  });

  it('imports no driver at the top of app/stores.ts: each is loaded only when chosen', () => {
    const staticImports = (file: string) => {
      const source = readFileSync(new URL(`../../src/app/${file}`, import.meta.url), 'utf8');
      return [...source.matchAll(/^import (?!type ).*from '([^']+)';$/gm)].map((m) => m[1]);
    };
    expect(staticImports('stores.ts')).toEqual(['node:fs', 'node:path', '../errors.js', './drivers.js']);
    // The loader of the drivers (a missing one named in an error) imports none either.
    expect(staticImports('drivers.ts')).toEqual(['../errors.js']);
  });
});
