import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginCookie, loginToken, request, signup } from '../helpers/http-client.js';
import { ROOT, startServer, type ServerProcess } from '../helpers/process.js';

// `latchkey copy` as an operator runs it: the built CLI (`node dist/cli/main.js`), between two
// data directories of servers started with nothing configured (each keeps its master secret in
// its data directory). The copy is refused while a server has the source open; once it is
// stopped, the copy moves everything, a second copy finds everything present, and a server on
// the target accepts the cookie, the refresh token and the password of the source.

const ISSUER = 'http://latchkey.test';
const EMAIL = 'carol@example.com';

let root = '';
let source = '';
let target = '';
const servers: ServerProcess[] = [];

/** The environment of a server or command on `dataDir`, without LATCHKEY_SECRET. */
function env(dataDir: string): Record<string, string> {
  const inherited = { ...process.env } as Record<string, string>;
  delete inherited.LATCHKEY_SECRET;
  delete inherited.DATABASE_URL;
  delete inherited.REDIS_URL;
  delete inherited.LATCHKEY_STORE;
  return { ...inherited, LATCHKEY_DATA_DIR: dataDir, LATCHKEY_ISSUER: ISSUER, LATCHKEY_AUDIENCE: ISSUER };
}

function copy(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return cli({}, 'copy', ...args);
}

function cli(
  extra: Record<string, string>,
  ...args: string[]
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['dist/cli/main.js', ...args], {
    cwd: ROOT,
    env: { ...env(root), LOG_LEVEL: 'warn', ...extra },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The numbers of one row of the final table (`records created updated present conflicts skipped`). */
function row(stdout: string, label: string): number[] {
  const line = stdout.split('\n').find((candidate) => candidate.startsWith(`${label}  `));
  if (line === undefined) throw new Error(`no row "${label}" in:\n${stdout}`);
  return line.slice(label.length).trim().split(/\s+/).map(Number);
}

async function serve(dataDir: string): Promise<ServerProcess> {
  const server = await startServer({ ...env(dataDir), LOG_LEVEL: 'warn' });
  servers.push(server);
  return server;
}

beforeAll(() => {
  const build = spawnSync('npm', ['run', 'build', '--silent'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
}, 200_000);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'latchkey-copy-cli-'));
  source = join(root, 'source');
  target = join(root, 'target');
});

afterAll(async () => {
  for (const server of servers) await server.stop('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

describe('latchkey copy (the built CLI)', () => {
  it('refuses while a server has the source, then moves a running deployment to another data directory', async () => {
    const first = await serve(source);
    await signup(first.url, EMAIL);
    const cookie = await loginCookie(first.url, EMAIL);
    const tokens = await loginToken(first.url, EMAIL);

    const refused = copy('--from', source, '--to', target, '--sessions');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/is in use by process \d+ \(latchkey serve/);
    expect(existsSync(join(target, 'latchkey.sqlite'))).toBe(false);
    expect(await first.stop()).toBe(0);

    const copied = copy('--from', source, '--to', target, '--sessions');
    expect(copied.stderr).toContain('copying users: 1 (1 created)');
    expect(copied.status).toBe(0);
    expect(row(copied.stdout, 'users')).toEqual([1, 0, 0, 0, 0]);
    expect(row(copied.stdout, 'sessions')).toEqual([2, 0, 0, 0, 0]);
    expect(row(copied.stdout, 'refresh tokens')).toEqual([1, 0, 0, 0, 0]);
    expect(row(copied.stdout, 'signing keys')[0]).toBeGreaterThanOrEqual(1);
    // Nothing was configured: the target gets the source's secret, so its server can open the keys.
    expect(await readFile(join(target, 'secret'), 'utf8')).toBe(
      await readFile(join(source, 'secret'), 'utf8'),
    );

    const again = copy('--from', source, '--to', target, '--sessions');
    expect(again.status).toBe(0);
    expect(row(again.stdout, 'users')).toEqual([0, 0, 1, 0, 0]);
    expect(row(again.stdout, 'sessions')).toEqual([0, 0, 2, 0, 0]);
    expect(row(again.stdout, 'refresh tokens')).toEqual([0, 0, 1, 0, 0]);

    const moved = await serve(target);
    const me = await request(`${moved.url}/v1/me`, { headers: { cookie: cookie.cookie } });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user: { email: EMAIL } });
    const refreshed = await request(`${moved.url}/v1/refresh`, {
      body: { refresh_token: tokens.refreshToken },
    });
    expect(refreshed.status).toBe(200);
    await loginCookie(moved.url, EMAIL);

    // And the other way round, while the target's server runs: refused.
    const busy = copy('--from', target, '--to', join(root, 'third'));
    expect(busy.status).toBe(1);
    expect(busy.stderr).toContain('is in use by process');
    expect(await moved.stop()).toBe(0);
  }, 120_000);

  it('says what is wrong with a bad invocation, and touches nothing', () => {
    const missing = copy('--from', join(root, 'nowhere'), '--to', join(root, 'elsewhere'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no Latchkey store in');
    expect(existsSync(join(root, 'elsewhere'))).toBe(false);
    expect(copy('--to', target).status).toBe(1);
    const same = copy('--from', source, '--to', `sqlite:${source}`);
    expect(same.status).toBe(1);
    expect(same.stderr).toContain('the same store');
    const unknown = copy('--from', 'ftp://example.com/db', '--to', target);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('unknown kind of store URL');
    // A store made with LATCHKEY_SECRET keeps no secret file: the copy needs the variable.
    const withSecret = join(root, 'with-secret');
    const secret = {
      LATCHKEY_SECRET: 'a-master-secret-that-is-long-enough-0123456789',
      LATCHKEY_DATA_DIR: withSecret,
    };
    expect(cli(secret, 'keys', 'rotate').status).toBe(0);
    const noSecret = copy('--from', withSecret, '--to', join(root, 'fourth'));
    expect(noSecret.status).toBe(1);
    expect(noSecret.stderr).toContain('LATCHKEY_SECRET is not set');
    expect(existsSync(join(root, 'fourth'))).toBe(false);
    const wrong = cli(
      { LATCHKEY_SECRET: 'another-master-secret-long-enough-0123456789' },
      'copy',
      '--from',
      withSecret,
      '--to',
      join(root, 'fifth'),
    );
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('cannot be decrypted with this master secret');
    expect(cli(secret, 'copy', '--from', withSecret, '--to', join(root, 'fifth')).status).toBe(0);
  });
});
