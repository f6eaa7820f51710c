import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The walk the layering tests share: which packages a source file reaches through static imports. */
export const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Static value imports of a file (`import type` is erased, so it is not followed; `{ type X }` is). */
export function staticImports(file: string): string[] {
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

export function resolveLocal(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const path = resolve(dirname(from), specifier.replace(/\.js$/, '.ts'));
  return existsSync(path) ? path : null;
}

/** Every package reached from `entry` through static imports, with the chain that reached it. */
export function reachablePackages(entry: string): Map<string, string> {
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
