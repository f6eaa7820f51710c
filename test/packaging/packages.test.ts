/**
 * The two packages as a user gets them: `npm pack` of the SDK (`packages/verify`) and of the
 * server (the root), each installed from its tarball into a fresh directory (the registry is
 * reached for third-party packages only). An Express resource service verifies a token of the
 * packed server with `@latchkey/verify` alone; `npx latchkey serve` starts from the packed
 * server, and refuses, naming the package, a store whose driver is not installed. publint and
 * Are the Types Wrong check both tarballs. Slow (a build, two packs, two installs): run it
 * alone with `npx vitest run test/packaging`.
 */

import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/process.js';
import { EXPRESS_SERVICE } from './express-service.js';
import {
  buildServerOnce,
  installedKB,
  installFresh,
  npxServe,
  npxServeExit,
  pack,
  packagingRoot,
  run,
  type Serving,
} from './pack.js';

const SECRET = 'packaging-test-secret-0123456789abcdef';
/** What a resource service must not get with the SDK: the server's drivers and framework. */
const SERVER_ONLY = ['pg', 'ioredis', '@electric-sql/pglite', 'mysql2', 'better-sqlite3', 'fastify', 'hono'];
const SERVER_ONLY_TOO = ['@node-rs/argon2', 'pino', 'nodemailer', 'latchkey'];

let root = '';
let sdkTarball = '';
let serverTarball = '';
let sdkDir = '';
let serverDir = '';

/** Runs a step of the set-up and notes its wall-clock seconds in `steps`. */
async function step<T>(steps: string[], name: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  steps.push(`${name} ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

beforeAll(async () => {
  root = await packagingRoot();
  const steps: string[] = [];
  // The SDK's prepack compiles it (packages/verify/dist, used by nothing else); the server's
  // dist/ is built once, then packed as it is.
  sdkTarball = await step(steps, 'pack sdk', () =>
    pack(join(ROOT, 'packages/verify'), join(root, 'sdk-tarball')),
  );
  const build = await step(steps, 'build server', () => buildServerOnce(ROOT));
  serverTarball = await step(steps, 'pack server', () =>
    pack(ROOT, join(root, 'server-tarball'), ['--ignore-scripts']),
  );
  sdkDir = await step(steps, 'install sdk', () =>
    installFresh(root, 'orders-service', [sdkTarball, 'express@^5']),
  );
  // --ignore-scripts: better-sqlite3 (the optional default store) would be compiled from
  // source here, minutes of CPU; without its binary it stands for a failed optional build.
  serverDir = await step(steps, 'install server', () =>
    installFresh(root, 'auth-server', [serverTarball], ['--ignore-scripts']),
  );
  const [sdkKB, serverKB] = [await installedKB(sdkDir), await installedKB(serverDir)];
  console.info(
    `packaging: ${steps.join(', ')} (server dist ${build}); installed node_modules: ` +
      `@latchkey/verify + express ${sdkKB} kB, latchkey ${serverKB} kB`,
  );
}, 600_000);

afterAll(async () => {
  if (root !== '') await rm(root, { recursive: true, force: true });
});

/** `npm ls --all --json` of an install: the top-level packages and their trees. */
async function tree(dir: string): Promise<Record<string, { version: string; dependencies?: object }>> {
  const { stdout } = await run('npm', ['ls', '--all', '--json'], { cwd: dir });
  return (JSON.parse(stdout) as { dependencies: Record<string, { version: string; dependencies?: object }> })
    .dependencies;
}

describe('@latchkey/verify installed alone from its tarball', () => {
  it('has no dependency of its own: the app holds it and Express, and nothing of the server', async () => {
    const manifest = JSON.parse(
      await readFile(join(sdkDir, 'node_modules/@latchkey/verify/package.json'), 'utf8'),
    ) as Record<string, unknown>;
    expect(manifest.dependencies).toBeUndefined();
    expect(manifest.optionalDependencies).toBeUndefined();
    const top = await tree(sdkDir);
    expect(Object.keys(top).sort()).toEqual(['@latchkey/verify', 'express']);
    // What npm lists under it are its peers: Express (the app's) and the optional ones, absent.
    const peers = Object.entries(top['@latchkey/verify']?.dependencies ?? {});
    expect(peers.map(([name]) => name).sort()).toEqual(Object.keys(manifest.peerDependencies ?? {}).sort());
    for (const [name, entry] of peers)
      expect(entry, name).toEqual(name === 'express' ? { version: top.express?.version } : {});
    const { stdout } = await run('npm', ['ls', '--all', '--parseable'], { cwd: sdkDir });
    for (const name of [...SERVER_ONLY, ...SERVER_ONLY_TOO])
      expect(stdout.split('\n'), name).not.toContain(join(sdkDir, 'node_modules', name));
  });
});

describe('latchkey installed from its tarball', () => {
  let server: Serving | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it('npx latchkey serve starts, and an Express service verifies its token with @latchkey/verify', async () => {
    server = await npxServe(serverDir, { LATCHKEY_STORE: 'memory', LATCHKEY_SECRET: SECRET });
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    const credentials = { email: 'ada@example.com', password: 'correct horse battery staple' };
    const post = (path: string, body: object) =>
      fetch(`${server?.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post('/v1/signup', credentials)).status).toBe(201);
    const login = (await (await post('/v1/login', { ...credentials, mode: 'token' })).json()) as {
      access_token: string;
      user: { id: string };
      session: { id: string };
    };

    await writeFile(join(sdkDir, 'service.js'), EXPRESS_SERVICE);
    const { stdout } = await run('node', ['service.js'], {
      cwd: sdkDir,
      env: {
        ISSUER: server.url,
        TOKEN: login.access_token,
        SERVER_ENTRY: pathToFileURL(join(serverDir, 'node_modules/latchkey/dist/index.js')).href,
      },
    });
    const seen = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Record<
      string,
      Record<string, unknown>
    >;
    expect(seen.bearer).toMatchObject({ status: 200, body: { sub: login.user.id, sid: login.session.id } });
    expect(seen.none).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
    expect(seen.none?.type).toMatch(/^application\/problem\+json/);
    expect(seen.forged).toMatchObject({ status: 401, body: { code: 'invalid_token' } });
    // Two copies of the class, one per package; an error of either is an instance of both.
    expect(seen.thrown).toEqual({
      code: 'invalid_token',
      sdkClass: true,
      serverClass: true,
      serverClassIsAnother: true,
    });
  }, 180_000);

  it('keeps its own latchkey/verify and latchkey/express for existing users', async () => {
    const script =
      "const v = await import('latchkey/verify'); const e = await import('latchkey/express');" +
      'console.log(typeof v.createVerifier, typeof e.latchkeyExpress)';
    const { stdout } = await run('node', ['--input-type=module', '-e', script], { cwd: serverDir });
    expect(stdout.trim()).toBe('function function');
  });

  it.each([
    ['a postgres:// DATABASE_URL', 'pg', { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' }],
    ['a mysql:// DATABASE_URL', 'mysql2', { DATABASE_URL: 'mysql://root@127.0.0.1:3306/test' }],
    ['REDIS_URL', 'ioredis', { REDIS_URL: 'redis://127.0.0.1:6379' }],
    ['LATCHKEY_STORE=pglite', '@electric-sql/pglite', { LATCHKEY_STORE: 'pglite' }],
    ['the default store, SQLite, its binary not built', 'better-sqlite3', {}],
  ])(
    'serve with %s and no %s stops, naming the package',
    async (_what, name, env) => {
      const { code, output } = await npxServeExit(serverDir, {
        ...env,
        LATCHKEY_SECRET: SECRET,
        LATCHKEY_DATA_DIR: join(root, `data-${name.replace(/\W/g, '')}`),
      });
      expect(code, output).toBe(1);
      expect(output).toContain(`latchkey: config_invalid:`);
      expect(output).toContain(`needs the npm package ${name}`);
      expect(output).toContain(`npm install ${name}`);
    },
    90_000,
  );
});

describe('publint and Are the Types Wrong', () => {
  const bin = (name: string) => join(ROOT, 'node_modules/.bin', name);

  it.each([
    ['@latchkey/verify', () => sdkTarball],
    ['latchkey', () => serverTarball],
  ])(
    'pass on the %s tarball',
    async (_name, tarball) => {
      const lint = await run(bin('publint'), ['run', tarball(), '--strict'], { cwd: root });
      expect(lint.stdout).toContain('All good!');
      // ESM only: CommonJS `require` and node10 resolution are out of scope (esm-only profile).
      await run(bin('attw'), [tarball(), '--profile', 'esm-only', '--no-definitely-typed', '--no-color'], {
        cwd: root,
      });
    },
    120_000,
  );
});
