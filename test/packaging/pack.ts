/**
 * Helpers of the packaging test: pack a package of this repository as `npm pack` does for a
 * publish, install tarballs into a fresh directory as a user would, and run `npx` there.
 */

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../helpers/process.js';

const exec = promisify(execFile);

/**
 * The environment of a child npm: without the `npm_*` variables of the npm that may run this
 * test (`npm test`), which would otherwise configure the child (its prefix, its workspace).
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'INIT_CWD'),
  );
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', ...extra };
}

/** Runs a command to its end; rejects with its output when it fails. */
export async function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await exec(command, args, {
      cwd: options.cwd,
      env: cleanEnv(options.env),
      timeout: options.timeoutMs ?? 240_000,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const failed = error as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(' ')} failed: ${failed.message}\n${failed.stdout ?? ''}\n${failed.stderr ?? ''}`,
    );
  }
}

/** `npm pack` of the package in `dir` into the folder `into`; the tarball's path. */
export async function pack(dir: string, into: string, flags: readonly string[] = []): Promise<string> {
  await mkdir(into, { recursive: true });
  await run('npm', ['pack', '--pack-destination', into, '--silent', ...flags], { cwd: dir });
  const tarballs = (await readdir(into)).filter((name) => name.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new Error(`npm pack left ${tarballs.length} tarballs in ${into}`);
  return join(into, tarballs[0] as string);
}

/** The newest modification time of the files under `dir`, in ms. */
async function newestMtime(dir: string): Promise<number> {
  const names = await readdir(dir, { recursive: true });
  const times = await Promise.all(names.map(async (name) => (await stat(join(dir, name))).mtimeMs));
  return Math.max(0, ...times);
}

/**
 * Builds the server package (`npm run build`, its prepare script) unless `dist/` is newer than
 * every source: `npm ci` has just built it in CI, and rebuilding would rewrite `dist/` under the
 * feet of test files that serve from it (the browser SDK, the page scripts).
 */
export async function buildServerOnce(root: string): Promise<'built' | 'up to date'> {
  const built = await Promise.all(
    ['dist/cli/main.js', 'dist/sdk/latchkey-browser.js', 'dist/passkey-ui/login.js'].map((file) =>
      stat(join(root, file)).then(
        (info) => info.mtimeMs,
        () => 0,
      ),
    ),
  );
  const sources = Math.max(
    await newestMtime(join(root, 'src')),
    (await stat(join(root, 'package.json'))).mtimeMs,
  );
  if (Math.min(...built) > sources) return 'up to date';
  await run('npm', ['run', 'build', '--silent'], { cwd: root });
  return 'built';
}

/** A fresh directory with an empty ESM app, where `npm install specs...` is run. */
export async function installFresh(
  root: string,
  name: string,
  specs: readonly string[],
  flags: readonly string[] = [],
): Promise<string> {
  const dir = await mkdtemp(join(root, `${name}-`));
  const manifest = { name, version: '1.0.0', private: true, type: 'module' };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...flags, ...specs], {
    cwd: dir,
  });
  return dir;
}

/** The size of `dir/node_modules` in kB, as `du -sk` counts it. */
export async function installedKB(dir: string): Promise<number> {
  const { stdout } = await run('du', ['-sk', 'node_modules'], { cwd: dir });
  return Number.parseInt(stdout, 10);
}

/** The names of the packages installed in `dir/node_modules`, nested ones included. */
export async function installedPackages(dir: string): Promise<string[]> {
  const { stdout } = await run('npm', ['ls', '--all', '--parseable', '--long'], { cwd: dir });
  return stdout
    .split('\n')
    .slice(1)
    .filter((line) => line.includes(':'))
    .map((line) => (line.split(':')[1] ?? '').replace(/@[^@]*$/, ''))
    .filter((name) => name !== '');
}

export interface Serving {
  url: string;
  output: () => string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts `npx latchkey serve` in `dir`, in a process group of its own (npx, its shell, node). */
function startServe(dir: string, port: number, env: Record<string, string>): Serving {
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('npx', ['--no', 'latchkey', 'serve'], {
    cwd: dir,
    env: cleanEnv({ LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: String(port), LATCHKEY_ISSUER: url, ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<void> => {
    try {
      process.kill(-(child.pid as number), 'SIGTERM');
    } catch {
      // the group is gone already
    }
    await exited;
  };
  return { url, output: () => output, exited, stop };
}

/** `npx latchkey serve` in `dir`; resolves once /healthz answers. */
export async function npxServe(dir: string, env: Record<string, string>): Promise<Serving> {
  const serving = startServe(dir, await freePort(), env);
  let exitCode: number | null | undefined;
  void serving.exited.then((code) => (exitCode = code));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exitCode !== undefined)
      throw new Error(`latchkey serve exited with ${exitCode}:\n${serving.output()}`);
    const healthy = await fetch(`${serving.url}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return serving;
    if (Date.now() > deadline) {
      await serving.stop();
      throw new Error(`latchkey serve did not answer /healthz:\n${serving.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** `npx latchkey serve` that should stop at start: its exit code and output (stopped after 60 s). */
export async function npxServeExit(
  dir: string,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const serving = startServe(dir, await freePort(), env);
  const timer = setTimeout(() => void serving.stop(), 60_000);
  const code = await serving.exited;
  clearTimeout(timer);
  return { code, output: serving.output() };
}

/** A temporary root for a packaging run. */
export function packagingRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'lk-packaging-'));
}
