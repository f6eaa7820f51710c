import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reachablePackages, SRC, staticImports } from '../helpers/imports.js';
const DRIVERS = ['pg', 'ioredis', '@electric-sql/pglite'];
const FRAMEWORKS = ['fastify', 'express', 'hono'];

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
