/**
 * The latency of a login with TOTP: the password step (`POST /v1/login`, argon2id with the
 * production parameters, answering `mfa_required`) and the second step (`POST /v1/mfa/verify`
 * with a code), one login at a time, against a server in this process over loopback HTTP.
 *
 *   npx tsx bench/totp-login.ts [--logins 40] [--warmup 3]
 *
 * The server's clock is a manual one that moves 30 s before each login, so every login gets a
 * code of a new step (a code is accepted once); codes come from `otpauth`. Memory store, so the
 * figures are the auth server's own work, not a database's. Prints p50 and p90 in ms.
 */

import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import * as OTPAuth from 'otpauth';
import { createLatchkey } from '../src/app/latchkey.js';
import { createManualClock } from '../src/clock.js';
import { defaultConfig } from '../src/config/config.js';
import { createHTTPServer } from '../src/http/server.js';
import { createLogger } from '../src/log.js';
import { createMemoryStore } from '../src/stores/memory/index.js';
import { median, percentile, formatMs, progress } from './lib/stats.js';

const { values } = parseArgs({
  options: { logins: { type: 'string', default: '40' }, warmup: { type: 'string', default: '3' } },
});
const logins = Number(values.logins);
const warmup = Number(values.warmup);
const EMAIL = 'bench@example.com';
const PASSWORD = 'correct horse battery staple';

const clock = createManualClock(Date.now());
const latchkey = await createLatchkey({
  config: defaultConfig({ issuer: 'http://127.0.0.1', audience: 'http://127.0.0.1', logLevel: 'warn' }),
  store: createMemoryStore(),
  secret: 'bench-master-secret-0123456789abcdefghijklmnop',
  clock,
  logger: createLogger({ level: 'warn' }),
  mailTransport: { name: 'none', send: () => Promise.resolve(), close: () => Promise.resolve() },
});
const app = createHTTPServer(latchkey);
await app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

async function post(path: string, body: unknown, token?: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

function expectStatus(answer: { status: number; body: unknown }, status: number, what: string): void {
  if (answer.status !== status) throw new Error(`${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
}

/** Signs the bench user up and turns TOTP on; returns the app's generator. */
async function setUp(): Promise<OTPAuth.TOTP> {
  expectStatus(await post('/v1/signup', { email: EMAIL, password: PASSWORD }), 201, 'signup');
  const login = await post('/v1/login', { email: EMAIL, password: PASSWORD, mode: 'token' });
  expectStatus(login, 200, 'login');
  const token = (login.body as { access_token: string }).access_token;
  const started = await post('/v1/mfa/totp', {}, token);
  const { factor, otpauth_uri } = started.body as { factor: { id: string }; otpauth_uri: string };
  const totp = OTPAuth.URI.parse(otpauth_uri) as OTPAuth.TOTP;
  const code = totp.generate({ timestamp: clock() });
  expectStatus(await post('/v1/mfa/totp/confirm', { factor_id: factor.id, code }, token), 200, 'confirm');
  return totp;
}

/** One login with TOTP; returns the time of each step, in ms. */
async function loginOnce(totp: OTPAuth.TOTP): Promise<{ password: number; verify: number }> {
  clock.advance(30_000);
  const started = performance.now();
  const first = await post('/v1/login', { email: EMAIL, password: PASSWORD, mode: 'token' });
  const between = performance.now();
  expectStatus(first, 401, 'password step');
  const { challenge } = first.body as { challenge: string };
  const code = totp.generate({ timestamp: clock() });
  const second = await post('/v1/mfa/verify', { challenge, code });
  const ended = performance.now();
  expectStatus(second, 200, 'verify');
  return { password: between - started, verify: ended - between };
}

try {
  const totp = await setUp();
  for (let i = 0; i < warmup; i++) await loginOnce(totp);
  const passwordSteps: number[] = [];
  const verifySteps: number[] = [];
  const totals: number[] = [];
  for (let i = 0; i < logins; i++) {
    if (i % 10 === 0) progress(`login ${i + 1}/${logins}`);
    const { password, verify } = await loginOnce(totp);
    passwordSteps.push(password);
    verifySteps.push(verify);
    totals.push(password + verify);
  }
  console.log(`\nTOTP login, ${logins} logins one at a time (memory store, production argon2id)\n`);
  console.log('step                     p50 ms    p90 ms');
  for (const [name, list] of [
    ['password (mfa_required)', passwordSteps],
    ['/v1/mfa/verify', verifySteps],
    ['login with TOTP', totals],
  ] as const) {
    console.log(
      `${name.padEnd(24)} ${formatMs(median(list)).padStart(7)}  ${formatMs(percentile(list, 90)).padStart(8)}`,
    );
  }
} finally {
  await app.close();
  await latchkey.close();
}
