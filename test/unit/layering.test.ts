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
const FRAMEWORKS = ['fastify', '@fastify/swagger', 'express', 'hono', '@hono/node-server'];

/** The core: use cases and the concepts they are made of. No framework, no driver, no edge. */
const CORE = [
  'use-cases',
  'session',
  'token',
  'keys',
  'revocation',
  'password',
  'factors',
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

/**
 * Packages of the pages (templates, the User-Agent parser, the QR encoder): only in `http/pages/`, so that the
 * core, the JSON routes and the SDK never load them.
 */
const PAGE_PACKAGES = ['preact', 'preact-render-to-string', 'bowser', 'qrcode-generator'];
const PAGE_ROOM = 'http/pages/';

/** The metrics library: only in `metrics/` (the edge that counts), never in the core or the SDK. */
const METRICS_PACKAGES = ['prom-client'];
const METRICS_ROOM = 'metrics/';

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
        for (const banned of [...DRIVERS, ...FRAMEWORKS, ...PAGE_PACKAGES, ...METRICS_PACKAGES]) {
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

  it('the WebAuthn library is imported only by factors/webauthn.ts (a pure library the core may use)', () => {
    const importers = listSources(SRC)
      .filter((file) =>
        imports(file).some(({ specifier }) => packageName(specifier) === '@simplewebauthn/server'),
      )
      .map((file) => relative(SRC, file));
    expect(importers).toEqual(['factors/webauthn.ts']);
    // Pure: it reaches no framework, no driver and no page package.
    const packages = reachablePackages(join(SRC, 'factors/webauthn.ts'), { dynamic: true });
    for (const banned of [...DRIVERS, ...FRAMEWORKS, ...PAGE_PACKAGES])
      expect(packages.get(banned)).toBeUndefined();
  });

  it('the template library and the User-Agent parser are imported only in http/pages/', () => {
    const pageFiles = listSources(SRC).filter((file) => relative(SRC, file).startsWith(PAGE_ROOM));
    expect(pageFiles.some((file) => file.endsWith('.tsx'))).toBe(true);
    for (const file of listSources(SRC)) {
      const path = relative(SRC, file);
      for (const { specifier } of imports(file)) {
        const name = packageName(specifier);
        if (name === null || !PAGE_PACKAGES.includes(name)) continue;
        expect(path.startsWith(PAGE_ROOM), `${path} imports ${specifier}`).toBe(true);
      }
    }
    // The pages reach them; the SDK and the core do not, even through import().
    expect(reachablePackages(join(SRC, 'http', 'pages', 'index.ts')).has('preact-render-to-string')).toBe(
      true,
    );
    for (const entry of [join(SRC, 'verify', 'index.ts'), join(SRC, 'use-cases', 'index.ts')]) {
      const packages = reachablePackages(entry, { dynamic: true });
      for (const name of PAGE_PACKAGES)
        expect(packages.get(name), `${entry} reaches ${name}`).toBeUndefined();
    }
  });

  it('prom-client is imported only in metrics/, and the SDK never reaches it', () => {
    const metricFiles = listSources(SRC).filter((file) => relative(SRC, file).startsWith(METRICS_ROOM));
    expect(
      metricFiles.some((file) => imports(file).some(({ specifier }) => specifier === 'prom-client')),
    ).toBe(true);
    for (const file of listSources(SRC)) {
      const path = relative(SRC, file);
      for (const { specifier } of imports(file)) {
        const name = packageName(specifier);
        if (name === null || !METRICS_PACKAGES.includes(name)) continue;
        expect(path.startsWith(METRICS_ROOM), `${path} imports ${specifier}`).toBe(true);
      }
    }
    for (const entry of [join(SRC, 'verify', 'index.ts'), join(SRC, 'use-cases', 'index.ts')]) {
      const packages = reachablePackages(entry, { dynamic: true });
      for (const name of METRICS_PACKAGES)
        expect(packages.get(name), `${entry} reaches ${name}`).toBeUndefined();
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

describe('layering: the browser SDK (src/browser/) stands alone', () => {
  const BROWSER = join(SRC, 'browser');

  it('imports no Node module, no package and nothing outside src/browser/', () => {
    const files = listSources(BROWSER);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      for (const { specifier } of imports(file)) {
        const path = relative(SRC, file);
        expect(specifier, `${path} imports ${specifier}`).toMatch(/^\.\/[\w-]+\.js$/);
        expect(resolveLocal(file, specifier), `${path} imports ${specifier}`).not.toBeNull();
      }
    }
  });

  it('is imported by nothing on the server side (the server serves its built bundle)', () => {
    // The /lab script (src/lab/) runs in the page too, and is bundled with the SDK.
    const LAB = join(SRC, 'lab');
    for (const file of listSources(SRC)) {
      if (file.startsWith(BROWSER) || file.startsWith(LAB)) continue;
      for (const { specifier } of imports(file)) {
        const local = resolveLocal(file, specifier);
        expect(local?.startsWith(BROWSER) ?? false, `${relative(SRC, file)} imports ${specifier}`).toBe(
          false,
        );
      }
    }
  });
});

describe('layering: the /lab script (src/lab/) runs in the page', () => {
  const LAB = join(SRC, 'lab');

  it('imports nothing but its own files and latchkey/browser (through its index)', () => {
    const files = listSources(LAB);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      for (const { specifier } of imports(file)) {
        const path = relative(SRC, file);
        expect(specifier, `${path} imports ${specifier}`).toMatch(/^(\.\/[\w-]+|\.\.\/browser\/index)\.js$/);
        expect(resolveLocal(file, specifier), `${path} imports ${specifier}`).not.toBeNull();
      }
    }
  });

  it('is imported by nothing (the server serves its built file)', () => {
    for (const file of listSources(SRC)) {
      if (file.startsWith(LAB)) continue;
      for (const { specifier } of imports(file)) {
        const local = resolveLocal(file, specifier);
        expect(local?.startsWith(LAB) ?? false, `${relative(SRC, file)} imports ${specifier}`).toBe(false);
      }
    }
  });
});

describe("layering: the passkey pages' scripts (src/passkey-ui/) run in the page", () => {
  const UI = join(SRC, 'passkey-ui');

  it('import nothing but their own files (no package, no Node module, no server code)', () => {
    const files = listSources(UI);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      for (const { specifier } of imports(file)) {
        const path = relative(SRC, file);
        expect(specifier, `${path} imports ${specifier}`).toMatch(/^\.\/[\w-]+\.js$/);
        expect(resolveLocal(file, specifier), `${path} imports ${specifier}`).not.toBeNull();
      }
    }
  });

  it('are imported by nothing (the server serves their built files)', () => {
    for (const file of listSources(SRC)) {
      if (file.startsWith(UI)) continue;
      for (const { specifier } of imports(file)) {
        const local = resolveLocal(file, specifier);
        expect(local?.startsWith(UI) ?? false, `${relative(SRC, file)} imports ${specifier}`).toBe(false);
      }
    }
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
