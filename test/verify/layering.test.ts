import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The same static-import walk as test/unit/layering.test.ts, for the resource-service SDK.
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const BANNED = ['fastify', 'express', 'hono', '@hono/node-server', 'pg', 'ioredis', '@electric-sql/pglite'];

/** Static value imports of a file (`import type` is erased, so it is not followed; `{ type X }` is). */
function staticImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specifiers: string[] = [];
  // The clause between the keyword and `from` holds only names, braces, commas and `*`, so the
  // match cannot run on from a declaration into a JSDoc example.
  for (const match of source.matchAll(/^\s*(?:import|export)\s+(?!type\b)[\w$*{},\s]*?from\s+'([^']+)'/gm)) {
    if (match[1] !== undefined) specifiers.push(match[1]);
  }
  for (const match of source.matchAll(/^\s*import\s+'([^']+)'/gm)) {
    if (match[1] !== undefined) specifiers.push(match[1]);
  }
  return specifiers;
}

function resolveLocal(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const path = resolve(dirname(from), specifier.replace(/\.js$/, '.ts'));
  return existsSync(path) ? path : null;
}

/** Every package reached from `entry` through static imports, with the chain that reached it. */
function reachablePackages(entry: string): Map<string, string> {
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const queue: [string, string][] = [[entry, relative(SRC, entry)]];
  // Bounded by the number of source files: each is visited once.
  while (queue.length > 0) {
    const [file, chain] = queue.shift() ?? ['', ''];
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of staticImports(file)) {
      const local = resolveLocal(file, specifier);
      if (local !== null) queue.push([local, `${chain} → ${relative(SRC, local)}`]);
      else if (!specifier.startsWith('node:') && !specifier.startsWith('.')) {
        const name = specifier.startsWith('@')
          ? specifier.split('/').slice(0, 2).join('/')
          : specifier.split('/')[0];
        if (name !== undefined && !packages.has(name)) packages.set(name, chain);
      }
    }
  }
  return packages;
}

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
});
