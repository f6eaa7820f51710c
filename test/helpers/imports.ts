import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The import walk the layering tests share: what a source file imports (value, type-only and
 * dynamic `import()`), which packages it reaches, and the graph of `src/`'s top-level folders.
 */
export const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** How a specifier is imported. */
export type ImportKind = 'value' | 'type' | 'dynamic';

export interface ImportEdge {
  specifier: string;
  kind: ImportKind;
}

/** The source without comments, so that a JSDoc example is not taken for an import. */
function code(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|\s)\/\/.*$/gm, '$1');
}

/** Every import of a file: static value imports, `import type` / `export type`, and `import('...')`. */
export function imports(file: string): ImportEdge[] {
  const source = code(file);
  const edges: ImportEdge[] = [];
  // The clause between the keyword and `from` holds only names, braces, commas and `*`.
  for (const match of source.matchAll(/^\s*(?:import|export)\s+(type\s+)?[\w$*{},\s]*?from\s+'([^']+)'/gm)) {
    if (match[2] !== undefined)
      edges.push({ specifier: match[2], kind: match[1] === undefined ? 'value' : 'type' });
  }
  for (const match of source.matchAll(/^\s*import\s+'([^']+)'/gm)) {
    if (match[1] !== undefined) edges.push({ specifier: match[1], kind: 'value' });
  }
  for (const match of source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) {
    if (match[1] !== undefined) edges.push({ specifier: match[1], kind: 'dynamic' });
  }
  return edges;
}

/** Static value imports of a file (`import type` is erased, so it is not followed; `{ type X }` is). */
export function staticImports(file: string): string[] {
  return imports(file)
    .filter((edge) => edge.kind === 'value')
    .map((edge) => edge.specifier);
}

export function resolveLocal(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const path = resolve(dirname(from), specifier.replace(/\.js$/, '.ts'));
  if (existsSync(path)) return path;
  // A page's template is TSX; `./login.js` may be `./login.tsx`.
  const tsx = `${path}x`;
  return existsSync(tsx) ? tsx : null;
}

/** The package name of a bare specifier (`@scope/name` or `name`), or null for `node:` and relative ones. */
export function packageName(specifier: string): string | null {
  if (specifier.startsWith('node:') || specifier.startsWith('.')) return null;
  const name = specifier.startsWith('@')
    ? specifier.split('/').slice(0, 2).join('/')
    : specifier.split('/')[0];
  return name ?? null;
}

/**
 * Every package reached from `entry`, with the chain that reached it: through static value
 * imports (what loading the module loads), and also through `import()` with `dynamic: true`
 * (what running it may load).
 */
export function reachablePackages(entry: string, options: { dynamic?: boolean } = {}): Map<string, string> {
  const kinds: ImportKind[] = options.dynamic === true ? ['value', 'dynamic'] : ['value'];
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const queue: [string, string][] = [[entry, relative(SRC, entry)]];
  // Bounded by the number of source files: each is visited once.
  while (queue.length > 0) {
    const [file, chain] = queue.shift() ?? ['', ''];
    if (seen.has(file)) continue;
    seen.add(file);
    for (const { specifier, kind } of imports(file)) {
      if (!kinds.includes(kind)) continue;
      const local = resolveLocal(file, specifier);
      if (local !== null) queue.push([local, `${chain} → ${relative(SRC, local)}`]);
      const name = packageName(specifier);
      if (name !== null && !packages.has(name)) packages.set(name, chain);
    }
  }
  return packages;
}

/** Every `.ts` and `.tsx` source file below `dir`. */
export function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listSources(path));
    else if ((name.endsWith('.ts') || name.endsWith('.tsx')) && !/\.test\.tsx?$/.test(name)) out.push(path);
  }
  return out;
}

/** The top-level unit of `src/` a file belongs to: its first folder, or the file itself. */
export function topLevelUnit(file: string): string {
  const [first = ''] = relative(SRC, file).split('/');
  return first;
}

/**
 * The import graph between top-level units of `src/`, counting every kind of import: an edge
 * `a → b` with one file that makes it, for the message.
 */
export function topLevelGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of listSources(SRC)) {
    const from = topLevelUnit(file);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const { specifier } of imports(file)) {
      const local = resolveLocal(file, specifier);
      if (local === null) continue;
      const to = topLevelUnit(local);
      if (to !== from && !edges.has(to)) edges.set(to, `${relative(SRC, file)} → ${relative(SRC, local)}`);
    }
  }
  return graph;
}

/** The cycles of a graph (each as the list of its units, first repeated last), one per strongly connected group. */
export function findCycles(graph: Map<string, Map<string, string>>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  for (const start of graph.keys()) {
    if (done.has(start)) continue;
    const path: string[] = [];
    const onPath = new Set<string>();
    const visit = (node: string): void => {
      if (onPath.has(node)) {
        cycles.push([...path.slice(path.indexOf(node)), node]);
        return;
      }
      if (done.has(node)) return;
      path.push(node);
      onPath.add(node);
      for (const next of graph.get(node)?.keys() ?? []) visit(next);
      path.pop();
      onPath.delete(node);
      done.add(node);
    };
    visit(start);
  }
  return cycles;
}
