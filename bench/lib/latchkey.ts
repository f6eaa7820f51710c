/** Driving a real `latchkey serve`: start it on a chosen port and sign a user in, in each mode. */

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort, ROOT, startServer, type ServerProcess } from '../../test/helpers/process.js';
import { trackChild } from './processes.js';

export const BENCH_EMAIL = 'bench@example.com';
export const BENCH_PASSWORD = 'correct horse battery staple';

export interface LatchkeyServer {
  name: string;
  url: string;
  server: ServerProcess;
  /** `Authorization` value of a machine client, for the revocation feed (when asked for). */
  feedAuthorization: string | null;
}

/** Starts `latchkey serve` with `env`, issuer `http://127.0.0.1:<port>`, and signs up the bench user. */
export async function startLatchkey(
  name: string,
  env: Record<string, string>,
  options: { feedClient?: boolean } = {},
): Promise<LatchkeyServer> {
  const port = String(await freePort());
  const url = `http://127.0.0.1:${port}`;
  const fullEnv = { LOG_LEVEL: 'warn', PORT: port, LATCHKEY_ISSUER: url, ...env };
  let feedAuthorization: string | null = null;
  if (options.feedClient === true) {
    // The revocation feed takes a machine client's Basic credentials: create one with the CLI
    // before the server opens the store (a persistent store: PGlite, Postgres or Redis).
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'clients', 'create', 'bench-feed', '--scopes', ''],
      { cwd: ROOT, env: { ...process.env, ...fullEnv }, timeout: 120_000 },
    );
    const id = /client_id:\s+(\S+)/.exec(stdout)?.[1];
    const secret = /client_secret:\s+(\S+)/.exec(stdout)?.[1];
    if (id === undefined || secret === undefined)
      throw new Error(`${name}: clients create printed no credentials`);
    feedAuthorization = `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  }
  const server = await startServer(fullEnv, { timeoutMs: 120_000 });
  trackChild(server.child);
  const signup = await postJSON(`${url}/v1/signup`, { email: BENCH_EMAIL, password: BENCH_PASSWORD });
  if (signup.status !== 201) throw new Error(`${name}: signup answered ${signup.status}`);
  return { name, url, server, feedAuthorization };
}

export async function postJSON(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

function cookieValue(response: Response, name: string): string {
  const line = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  if (line === undefined) throw new Error(`no ${name} cookie in the login response`);
  return line.split(';')[0] ?? '';
}

async function login(url: string, mode: 'cookie' | 'token' | 'hybrid'): Promise<Response> {
  const response = await postJSON(`${url}/v1/login`, { email: BENCH_EMAIL, password: BENCH_PASSWORD, mode });
  if (response.status !== 200)
    throw new Error(`login (${mode}) answered ${response.status}: ${await response.text()}`);
  return response;
}

/** A cookie-mode login: the `Cookie` header value for the session. */
export async function loginCookie(url: string): Promise<string> {
  const response = await login(url, 'cookie');
  await response.arrayBuffer();
  return cookieValue(response, '__Host-latchkey_session');
}

/** A hybrid login: the `Cookie` header value carrying the access token. */
export async function loginHybrid(url: string): Promise<string> {
  const response = await login(url, 'hybrid');
  await response.arrayBuffer();
  return cookieValue(response, '__Host-latchkey_access');
}

/** A token-mode login. */
export async function loginToken(url: string): Promise<{ accessToken: string; refreshToken: string }> {
  const body = (await (await login(url, 'token')).json()) as { access_token: string; refresh_token: string };
  return { accessToken: body.access_token, refreshToken: body.refresh_token };
}
