/**
 * What the in-process micro benchmarks (`bench/micro-*.ts`) share: a Latchkey server started as
 * `latchkey serve` starts it (`startServer`, the environment's store and settings, a new data
 * directory), not listening, with the bench user signed up and signed in by cookie; and the
 * request object `authenticateRequest` is given, made the way Fastify makes one.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import type { Latchkey } from '../../src/app/latchkey.js';
import { startServer } from '../../src/cli/serve.js';
import { loadConfig, type LatchkeyConfig } from '../../src/config/config.js';
import { parseCookies } from '../../src/cookies/cookies.js';
import { cookieNames, type CookieNames } from '../../src/http/auth-cookies.js';
import { BENCH_EMAIL, BENCH_PASSWORD } from './latchkey.js';

export interface MicroServer {
  server: Awaited<ReturnType<typeof startServer>>;
  latchkey: Latchkey;
  config: LatchkeyConfig;
  names: CookieNames;
  /** The `Cookie` header of the bench user's cookie session. */
  cookie: string;
}

/** Starts the server (see above) and signs the bench user in. */
export async function startMicroServer(): Promise<MicroServer> {
  const env = { LATCHKEY_DATA_DIR: mkdtempSync(join(tmpdir(), 'latchkey-micro-')), ...process.env };
  const config = loadConfig({ ...env, PORT: '0', HOST: '127.0.0.1', LATCHKEY_ISSUER: 'http://127.0.0.1:1' });
  const server = await startServer(config);
  await server.app.ready();
  const credentials = { email: BENCH_EMAIL, password: BENCH_PASSWORD };
  await server.app.inject({ method: 'POST', url: '/v1/signup', payload: credentials });
  const login = await server.app.inject({ method: 'POST', url: '/v1/login', payload: credentials });
  const cookie = login.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  return { server, latchkey: server.latchkey, config, names: cookieNames(config.insecureCookies), cookie };
}

/** A new request object with `cookie`, as Fastify gives one (the cookies parsed on first use). */
export function cookieRequest(cookie: string, latchkey: Latchkey): FastifyRequest {
  let parsed: Map<string, string> | null = null;
  return {
    headers: { cookie, host: '127.0.0.1' },
    get cookies() {
      return (parsed ??= parseCookies(cookie));
    },
    ip: '127.0.0.1',
    method: 'GET',
    log: latchkey.logger,
    authDuration: null,
  } as unknown as FastifyRequest;
}
