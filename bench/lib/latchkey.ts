/**
 * Driving a real Latchkey server: `bench/servers/latchkey-serve.ts` (what `latchkey serve` runs,
 * plus the `GET /bench/open` ceiling route) on a chosen port, and signing a user in, in each mode.
 */

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort, ROOT } from '../../test/helpers/process.js';
import { startBenchServer, type BenchServer } from './processes.js';

export const BENCH_EMAIL = 'bench@example.com';
export const BENCH_PASSWORD = 'correct horse battery staple';

/** The variables that choose the store (and its cache): cleared unless a scenario sets them. */
export const STORE_VARIABLES = [
  'LATCHKEY_STORE',
  'DATABASE_URL',
  'REDIS_URL',
  'LATCHKEY_REDIS_PREFIX',
  'LATCHKEY_SESSION_CACHE',
] as const;

/** The no-auth route `bench/servers/latchkey-serve.ts` adds: the same-server ceiling. */
export const LATCHKEY_OPEN_PATH = '/bench/open';

export interface LatchkeyServer {
  name: string;
  url: string;
  server: BenchServer;
  /** `Authorization` value of a machine client, for the revocation feed (when asked for). */
  feedAuthorization: string | null;
}

/**
 * Starts `bench/servers/latchkey-serve.ts` with `env` (the environment `latchkey serve` reads),
 * issuer `http://127.0.0.1:<port>`, and signs up the bench user (unless `signup: false`: a
 * second server on a store that already has it). The store variables of this
 * process's environment are cleared first, so a scenario gets the store its `env` names.
 */
export async function startLatchkey(
  name: string,
  env: Record<string, string>,
  options: { feedClient?: boolean; nodeArgs?: readonly string[]; signup?: boolean } = {},
): Promise<LatchkeyServer> {
  const port = String(await freePort());
  const url = `http://127.0.0.1:${port}`;
  const cleared = Object.fromEntries(STORE_VARIABLES.map((name) => [name, '']));
  const fullEnv: Record<string, string> = {
    ...cleared,
    // The bench measures speed, not durability: a Redis without persistence (CI's) is fine here.
    LATCHKEY_REDIS_ALLOW_VOLATILE: 'true',
    ...env,
    PORT: port,
    HOST: '127.0.0.1',
    LATCHKEY_ISSUER: url,
  };
  let feedAuthorization: string | null = null;
  if (options.feedClient === true) {
    // The revocation feed takes a machine client's Basic credentials: create one with the CLI
    // before the server opens the store (a persistent store: SQLite, PGlite, Postgres or Redis).
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
  const server = await startBenchServer(name, 'latchkey-serve', fullEnv, {
    timeoutMs: 120_000,
    ...(options.nodeArgs === undefined ? {} : { nodeArgs: options.nodeArgs }),
  });
  if (options.signup === false) return { name, url, server, feedAuthorization };
  const signup = await postJSON(`${url}/v1/signup`, { email: BENCH_EMAIL, password: BENCH_PASSWORD });
  await signup.arrayBuffer();
  if (signup.status !== 201) {
    await server.stop();
    throw new Error(`${name}: signup answered ${signup.status}`);
  }
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
