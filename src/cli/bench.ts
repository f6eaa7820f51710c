import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * `latchkey bench`: runs the benchmark harness (`bench/run.ts`, the same as `npm run bench`).
 * The harness starts real servers and load generators and ships with the repository, not with
 * the compiled package, so this works from a checkout.
 */
export function runBenchmarks(args: string[]): Promise<number> {
  // Same depth from src/cli/ and dist/cli/.
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const entry = `${root}bench/run.ts`;
  if (!existsSync(entry)) {
    console.error(
      'latchkey bench: the benchmark harness (bench/run.ts) ships with the repository; run it from a checkout',
    );
    return Promise.resolve(1);
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
      cwd: root,
      stdio: 'inherit',
    });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}
