import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reachablePackages, resolveLocal, SRC, staticImports } from '../helpers/imports.js';
import { ROOT } from '../helpers/process.js';

const BANNED = ['fastify', 'express', 'hono', '@hono/node-server', 'pg', 'ioredis', '@electric-sql/pglite'];

describe('layering: the resource-service SDK', () => {
  it('src/verify/index.ts reaches no framework and no driver', () => {
    const packages = reachablePackages(join(SRC, 'verify', 'index.ts'));
    for (const banned of BANNED) {
      expect(packages.get(banned), `src/verify/index.ts reaches ${banned}`).toBeUndefined();
    }
    // Nothing at all outside node: — the SDK has no runtime dependency.
    expect([...packages.keys()]).toEqual([]);
  });

  it('src/verify/index.ts does not reach the server (app, auth, stores, routes)', () => {
    const seen: string[] = [];
    const queue = [join(SRC, 'verify', 'index.ts')];
    while (queue.length > 0) {
      const file = queue.shift() ?? '';
      if (seen.includes(file)) continue;
      seen.push(file);
      for (const specifier of staticImports(file)) {
        const local = resolveLocal(file, specifier);
        if (local !== null) queue.push(local);
      }
    }
    const reached = seen.map((file) => relative(SRC, file));
    for (const file of reached) {
      expect(file).not.toMatch(/^(app|auth\/|stores\/|http\/server|http\/routes\/|session\/|password\/)/);
    }
  });

  it('each adapter loads its framework only as a type', () => {
    const dir = join(SRC, 'verify', 'adapters');
    const adapters = readdirSync(dir).filter((name) => name.endsWith('.ts'));
    expect(adapters.sort()).toEqual(['express.ts', 'fastify.ts', 'hono.ts', 'node-http.ts']);
    for (const name of adapters) {
      const packages = reachablePackages(join(dir, name));
      expect([...packages.keys()], name).toEqual([]);
    }
  });

  it('@latchkey/verify: each entry point it compiles loads no package but its own optional peer', () => {
    const sdk = join(ROOT, 'packages', 'verify');
    const tsconfig = JSON.parse(readFileSync(join(sdk, 'tsconfig.json'), 'utf8')) as { files: string[] };
    const manifest = JSON.parse(readFileSync(join(sdk, 'package.json'), 'utf8')) as {
      dependencies?: object;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    expect(manifest.dependencies).toBeUndefined();
    for (const peer of Object.keys(manifest.peerDependencies))
      expect(manifest.peerDependenciesMeta[peer]?.optional, peer).toBe(true);
    // The feeds load their driver with import(): the only package each entry may reach.
    const allowed: Record<string, string[]> = { 'redis-feed.ts': ['ioredis'], 'postgres-feed.ts': ['pg'] };
    const entries = tsconfig.files.map((file) => relative(join(SRC, 'verify'), join(sdk, file)));
    expect(entries.sort()).toEqual([
      'adapters/express.ts',
      'adapters/fastify.ts',
      'adapters/hono.ts',
      'adapters/node-http.ts',
      'index.ts',
      'postgres-feed.ts',
      'redis-feed.ts',
    ]);
    for (const entry of entries) {
      const packages = [...reachablePackages(join(SRC, 'verify', entry), { dynamic: true }).keys()];
      expect(packages, entry).toEqual(allowed[entry] ?? []);
      for (const name of packages) expect(Object.keys(manifest.peerDependencies), entry).toContain(name);
    }
  });
});
