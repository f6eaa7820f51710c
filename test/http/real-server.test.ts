import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PASSWORD } from '../helpers/app.js';
import { freePort, startServer, type ServerProcess } from '../helpers/process.js';

const servers: ServerProcess[] = [];
let dataDir = '';
afterAll(async () => {
  for (const server of servers) await server.stop('SIGKILL');
  if (dataDir !== '') await rm(dataDir, { recursive: true, force: true });
});

function sessionCookie(response: Response): string {
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('__Host-latchkey_session='));
  return (cookie ?? '').split(';')[0] ?? '';
}

describe('latchkey serve over a real socket, on the embedded store (SQLite, the default)', () => {
  it('runs the cookie flow, restarts on the same data directory, and keeps users and sessions', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-serve-'));
    // The same port both times: the issuer (and so `iss`/`aud`) defaults to http://localhost:PORT.
    const env = { LATCHKEY_DATA_DIR: dataDir, PORT: String(await freePort()) };
    const first = await startServer(env, { timeoutMs: 90_000 });
    servers.push(first);
    expect(first.output()).toContain('LATCHKEY_SECRET is not set');
    const secretFile = await stat(join(dataDir, 'secret'));
    expect(secretFile.mode & 0o777).toBe(0o600);
    // Nothing configured: SQLite, one file in the data directory.
    expect(await (await fetch(`${first.url}/healthz`)).json()).toMatchObject({
      status: 'ok',
      store: 'sqlite',
    });
    expect((await stat(join(dataDir, 'latchkey.sqlite'))).isFile()).toBe(true);

    const signup = await fetch(`${first.url}/v1/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'socket@example.com', password: PASSWORD }),
    });
    expect(signup.status).toBe(201);
    const login = await fetch(`${first.url}/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'socket-test' },
      body: JSON.stringify({ email: 'socket@example.com', password: PASSWORD, mode: 'cookie' }),
    });
    expect(login.status).toBe(200);
    const { csrf_token: csrf } = (await login.json()) as { csrf_token: string };
    const cookie = sessionCookie(login);
    expect(cookie).toMatch(/^__Host-latchkey_session=/);
    const me = await fetch(`${first.url}/v1/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    const other = await fetch(`${first.url}/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'socket@example.com', password: PASSWORD, mode: 'token' }),
    });
    const { access_token: accessToken } = (await other.json()) as { access_token: string };

    expect(await first.stop('SIGTERM')).toBe(0);
    expect(first.output()).not.toContain(PASSWORD);
    expect(first.output()).not.toContain(cookie.split('=')[1] ?? 'x');

    const second = await startServer(env, { timeoutMs: 90_000 });
    servers.push(second);
    const again = await fetch(`${second.url}/v1/me`, { headers: { cookie } });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { user: { email: string } }).user.email).toBe('socket@example.com');
    // The signing key survived too (encrypted with the same stored secret).
    expect(
      (await fetch(`${second.url}/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status,
    ).toBe(200);
    const logout = await fetch(`${second.url}/v1/logout`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(logout.status).toBe(204);
    expect((await fetch(`${second.url}/v1/me`, { headers: { cookie } })).status).toBe(401);
    expect(await second.stop('SIGTERM')).toBe(0);
  }, 180_000);

  it('refuses to start with a clear message naming a bad variable', async () => {
    await expect(
      startServer(
        { LATCHKEY_SESSION_IDLE_TIMEOUT: 'forever', LATCHKEY_STORE: 'memory' },
        { timeoutMs: 20_000 },
      ),
    ).rejects.toThrow(/LATCHKEY_SESSION_IDLE_TIMEOUT: "forever" is not a duration/);
  });
});
