import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  findCycles,
  imports,
  listSources,
  packageName,
  reachablePackages,
  resolveLocal,
  SRC,
  topLevelGraph,
} from '../helpers/imports.js';

const DRIVERS = ['pg', 'ioredis', '@electric-sql/pglite', 'better-sqlite3', 'mysql2', 'nodemailer'];
const FRAMEWORKS = ['fastify', 'express', 'hono', '@hono/node-server'];

/** The core: use cases and the concepts they are made of. No framework, no driver, no edge. */
const CORE = [
  'use-cases',
  'session',
  'token',
  'keys',
  'revocation',
  'password',
  'csrf',
  'cookies',
  'throttle',
  'clients',
  'outbox',
  'config',
  'lib',
  'records.ts',
  'store.ts',
  'errors.ts',
  'problem.ts',
  'clock.ts',
];

/** Where each driver may be imported: its own folder (and the SDK's feed, its own subpath export). */
const DRIVER_ROOMS: Record<string, string[]> = {
  pg: ['stores/postgres/', 'verify/postgres-feed.ts'],
  ioredis: ['stores/redis/', 'verify/redis-feed.ts'],
  '@electric-sql/pglite': ['stores/pglite/'],
  'better-sqlite3': ['stores/sqlite/'],
  mysql2: ['stores/mysql/'],
  nodemailer: ['mail/'],
};

function filesOf(unit: string): string[] {
  const path = join(SRC, unit);
  if (!existsSync(path)) return [];
  return unit.endsWith('.ts') ? [path] : listSources(path);
}

describe('layering: the core knows no framework and no driver', () => {
  for (const unit of CORE) {
    it(`src/${unit} reaches no framework or driver, not even through import()`, () => {
      const files = filesOf(unit);
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) {
        const packages = reachablePackages(file, { dynamic: true });
        for (const banned of [...DRIVERS, ...FRAMEWORKS]) {
          expect(packages.get(banned), `${relative(SRC, file)} reaches ${banned}`).toBeUndefined();
        }
        for (const { specifier } of imports(file)) {
          const local = resolveLocal(file, specifier);
          const target = local === null ? specifier : relative(SRC, local);
          expect(target, `${relative(SRC, file)} imports the edge`).not.toMatch(
            /^(http|app|cli|verify|stores|mail)\//,
          );
        }
      }
    });
  }

  it('each driver is imported only in its own folder', () => {
    for (const file of listSources(SRC)) {
      const path = relative(SRC, file);
      for (const { specifier } of imports(file)) {
        const name = packageName(specifier);
        const rooms = name === null ? undefined : DRIVER_ROOMS[name];
        if (rooms === undefined) continue;
        expect(
          rooms.some((room) => path.startsWith(room)),
          `${path} imports ${specifier}`,
        ).toBe(true);
      }
    }
  });

  it('the main entry point loads no database driver', () => {
    const packages = reachablePackages(join(SRC, 'index.ts'));
    for (const driver of DRIVERS) expect(packages.get(driver), driver).toBeUndefined();
    expect(packages.has('fastify')).toBe(true);
  });

  it('latchkey/verify loads no driver, even through import()', () => {
    const packages = reachablePackages(join(SRC, 'verify', 'index.ts'), { dynamic: true });
    for (const driver of DRIVERS) expect(packages.get(driver), driver).toBeUndefined();
  });

  it('has no import cycle between top-level folders (type-only and dynamic imports count)', () => {
    const graph = topLevelGraph();
    const cycles = findCycles(graph).map((cycle) =>
      cycle
        .slice(1)
        .map((to, i) => graph.get(cycle[i] ?? '')?.get(to) ?? `${cycle[i]} → ${to}`)
        .join('; '),
    );
    expect(cycles).toEqual([]);
  });
});

describe('the import walk itself', () => {
  it('sees dynamic imports, type-only imports and cycles', () => {
    const edges = imports(join(SRC, 'app', 'stores.ts'));
    expect(edges).toContainEqual({ specifier: '../stores/memory/index.js', kind: 'dynamic' });
    expect(edges).toContainEqual({ specifier: '../store.js', kind: 'type' });
    const graph = new Map([
      ['a', new Map([['b', 'a.ts → b.ts']])],
      ['b', new Map([['c', 'b.ts → c.ts']])],
      ['c', new Map([['a', 'c.ts → a.ts']])],
      ['d', new Map([['a', 'd.ts → a.ts']])],
    ]);
    expect(findCycles(graph)).toEqual([['a', 'b', 'c', 'a']]);
    expect(findCycles(new Map([['a', new Map([['b', '']])]]))).toEqual([]);
  });
});
