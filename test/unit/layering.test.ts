import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const DRIVERS = ['pg', 'ioredis', '@electric-sql/pglite'];
const FRAMEWORKS = ['fastify', 'express', 'hono'];

/** Static imports of a file (dynamic `import()` is how drivers are loaded on demand, so it is not followed). */
function staticImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specifiers: string[] = [];
  for (const match of source.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'";()]*?from\s+'([^']+)'/gm)) {
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

describe('layering: the core knows no framework and no driver', () => {
  const core = ['session', 'token', 'keys', 'revocation', 'password', 'csrf', 'cookies', 'throttle', 'auth'];
  for (const folder of core) {
    it(`src/${folder} reaches no framework or driver`, () => {
      const dir = join(SRC, folder);
      const files = existsSync(dir) ? listTs(dir) : [];
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) {
        const packages = reachablePackages(file);
        for (const banned of [...DRIVERS, ...FRAMEWORKS]) {
          expect(packages.get(banned), `${relative(SRC, file)} reaches ${banned}`).toBeUndefined();
        }
        for (const specifier of staticImports(file)) {
          expect(specifier, `${relative(SRC, file)} imports the HTTP layer`).not.toMatch(/\/http\//);
          expect(specifier, `${relative(SRC, file)} imports a store implementation`).not.toMatch(
            /\/stores\/(memory|sql|pglite|postgres|redis)/,
          );
        }
      }
    });
  }

  it('the main entry point loads no database driver', () => {
    const packages = reachablePackages(join(SRC, 'index.ts'));
    for (const driver of DRIVERS) expect(packages.get(driver), driver).toBeUndefined();
    expect(packages.has('fastify')).toBe(true);
  });
});

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listTs(path));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}
