/**
 * Extras of the A/B harness (`bench/ab.ts`): a pool of freshly signed access tokens for a
 * `latchkey-verify` target (a new token each request), and a self-time summary of the CPU
 * profiles a target wrote under `--profile`.
 */

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSigningKey } from '../../src/keys/key-material.js';
import type { KeyAlgorithm } from '../../src/records.js';
import { signAccessToken } from '../../src/token/jwt.js';
import { BENCH_AUDIENCE, BENCH_ISSUER, benchClaims } from './bench-tokens.js';

/**
 * A new signing key for `alg`, the `latchkey-verify` environment that trusts it, and `count`
 * tokens signed with it (the claims `bench/run.ts` signs), as `Authorization` values.
 */
export async function tokenPool(
  alg: KeyAlgorithm,
  count: number,
): Promise<{ env: Record<string, string>; values: string[] }> {
  const key = await generateSigningKey(alg);
  const env: Record<string, string> = { BENCH_ISSUER, BENCH_AUDIENCE, BENCH_ALG: alg };
  if (alg === 'HS256') {
    env.BENCH_KID = key.kid;
    env.BENCH_HS256_KEY = key.privateKey.export().toString('base64url');
  } else {
    env.BENCH_KEYS = JSON.stringify([key.publicJwk]);
  }
  const values: string[] = [];
  for (let i = 0; i < count; i++) values.push(`Bearer ${signAccessToken(benchClaims(i), key)}`);
  return { env, values };
}

interface ProfileNode {
  id: number;
  hitCount?: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** Self time per function (top `count`) of the largest `.cpuprofile` in `dir` (the main thread). */
export async function summarizeProfile(dir: string, count = 40): Promise<string> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile'));
  if (files.length === 0) return `no profile in ${dir}`;
  const sizes = await Promise.all(files.map(async (name) => (await stat(join(dir, name))).size));
  const file = join(dir, files[sizes.indexOf(Math.max(...sizes))] ?? '');
  const profile = JSON.parse(await readFile(file, 'utf8')) as { nodes: ProfileNode[] };
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0 || node.callFrame.functionName === '(idle)') continue;
    total += hits;
    const url = node.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|src|bench|dist)\//, '$1/');
    const name = `${node.callFrame.functionName || '(anonymous)'} ${url}:${node.callFrame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
  }
  const format = ([name, hits]: [string, number]): string =>
    `${((hits / total) * 100).toFixed(1).padStart(5)}%  ${name}`;
  const lines = [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(format);
  // Inclusive time of the functions of src/ (each sample counted once per function on its stack).
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const inclusive = new Map<string, number>();
  const walk = (node: ProfileNode, stack: ReadonlySet<string>): number => {
    const url = node.callFrame.url.replace(/^file:\/\/.*?\/(node_modules|src|bench|dist)\//, '$1/');
    const name = `${node.callFrame.functionName || '(anonymous)'} ${url}:${node.callFrame.lineNumber + 1}`;
    const mine = (url.startsWith('src/') || url.startsWith('dist/')) && !stack.has(name);
    const inner = mine ? new Set([...stack, name]) : stack;
    let hits = node.callFrame.functionName === '(idle)' ? 0 : (node.hitCount ?? 0);
    for (const child of node.children ?? []) {
      const childNode = nodes.get(child);
      if (childNode !== undefined) hits += walk(childNode, inner);
    }
    if (mine) inclusive.set(name, (inclusive.get(name) ?? 0) + hits);
    return hits;
  };
  const root = profile.nodes[0];
  if (root !== undefined) walk(root, new Set());
  const inclusiveLines = [...inclusive.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(format);
  return [`${file} (${total} samples)`, ...lines, '-- inclusive (src/):', ...inclusiveLines].join('\n');
}
