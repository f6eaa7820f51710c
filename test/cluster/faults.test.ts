import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loginCookie, loginToken, request, signup, waitUntil, type Answer } from '../helpers/http-client.js';
import {
  probeOwnServerBinaries,
  startOwnPostgres,
  startOwnRedis,
  type OwnPostgres,
  type OwnRedis,
} from '../helpers/own-servers.js';
import { startServer, type ServerProcess } from '../helpers/process.js';
import { describeWithServices } from '../helpers/services.js';

// Faults on a Postgres cluster and a redis-server of this file's own (never the shared ones):
// while a backend is down, a request that needs it gets 503 problem+json (never 200 for a check
// that could not run, never another 5xx), the node stays up without an unhandled rejection, and
// it serves again on its own once the backend is back.
//
// Two nodes: `hybrid` (DATABASE_URL + REDIS_URL: users and keys in Postgres, sessions and
// counters in Redis) and `sql` (DATABASE_URL only). Each phase prints how long it took.

const SECRET = randomBytes(32).toString('base64url');
const timings: string[] = [];
let postgres: OwnPostgres | undefined;
let redis: OwnRedis | undefined;
let hybrid: ServerProcess | undefined;
let sql: ServerProcess | undefined;
let dataDir = '';

function node(server: ServerProcess | undefined): ServerProcess {
  if (server === undefined) throw new Error('the node did not start');
  return server;
}

function backend<T>(server: T | undefined): T {
  if (server === undefined) throw new Error('the backend did not start');
  return server;
}

/** A request during a fault: answered in time, and either 503 problem+json or the given statuses. */
function expectFaultAnswer(answer: Answer, what: string): void {
  expect(answer.status, `${what} answered ${answer.status} ${JSON.stringify(answer.body)}`).toBe(503);
  expect(answer.contentType).toContain('application/problem+json');
  expect(answer.body.code).toBe('store_unavailable');
}

function expectAliveAndQuiet(server: ServerProcess): void {
  expect(server.child.exitCode).toBeNull();
  expect(server.child.signalCode).toBeNull();
  expect(server.output().toLowerCase()).not.toContain('unhandled');
  expect(server.output()).not.toContain('uncaught');
}

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await run();
  } finally {
    timings.push(`${label}: ${Math.round(performance.now() - started)} ms`);
  }
}

describeWithServices('store faults', [await probeOwnServerBinaries()], () => {
  const started = performance.now();

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-faults-'));
    await timed('start own postgres and redis', async () => {
      const [pgResult, redisResult] = await Promise.allSettled([startOwnPostgres(), startOwnRedis()]);
      if (pgResult.status === 'fulfilled') postgres = pgResult.value;
      if (redisResult.status === 'fulfilled') redis = redisResult.value;
      if (pgResult.status === 'rejected') throw pgResult.reason;
      if (redisResult.status === 'rejected') throw redisResult.reason;
    });
    const pgURL = backend(postgres).url;
    const common = {
      LATCHKEY_SECRET: SECRET,
      LATCHKEY_DATA_DIR: dataDir,
      LATCHKEY_ISSUER: 'http://latchkey.test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: pgURL,
      // The store's own faults: no near cache in front of it (with one, a frozen Redis goes
      // unnoticed until the feed's heartbeat times out, and cached sessions keep answering).
      LATCHKEY_SESSION_CACHE: '0',
    };
    await timed('start two nodes', async () => {
      // One after the other: the first applies the migrations, the second finds them applied.
      hybrid = await startServer({ ...common, REDIS_URL: backend(redis).url }, { timeoutMs: 60_000 });
      sql = await startServer(common, { timeoutMs: 60_000 });
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([hybrid?.stop('SIGKILL'), sql?.stop('SIGKILL')]);
    await Promise.allSettled([postgres?.destroy(), redis?.destroy()]);
    await rm(dataDir, { recursive: true, force: true });
    timings.push(`whole file: ${Math.round(performance.now() - started)} ms`);
    console.info(`[faults] ${timings.join('; ')}`);
  });

  it('answers 503 while Redis is frozen, and serves again when it thaws', { timeout: 60_000 }, async () => {
    const a = node(hybrid);
    await signup(a.url, 'frozen@example.com');
    const { cookie } = await loginCookie(a.url, 'frozen@example.com');
    const tokens = await loginToken(a.url, 'frozen@example.com');
    const bearer = { authorization: `Bearer ${tokens.accessToken}` };
    expect((await request(`${a.url}/v1/me`, { headers: { cookie } })).status).toBe(200);

    const server = backend(redis);
    server.pause();
    try {
      await timed('redis frozen: requests', async () => {
        // Connections stay open and nothing answers: only a timeout can end these requests.
        const answers = await Promise.all([
          request(`${a.url}/v1/me`, { headers: { cookie } }),
          request(`${a.url}/v1/me`, { headers: bearer }),
          request(`${a.url}/healthz`),
        ]);
        expectFaultAnswer(answers[0], 'GET /v1/me (cookie)');
        expectFaultAnswer(answers[1], 'GET /v1/me (bearer)');
        expectFaultAnswer(answers[2], 'GET /healthz');
      });
    } finally {
      server.resume();
    }
    await timed('redis thawed: recovery', () =>
      waitUntil(async () => (await request(`${a.url}/healthz`)).status === 200, 20_000, 'healthz after thaw'),
    );
    expect((await request(`${a.url}/v1/me`, { headers: { cookie } })).status).toBe(200);
    expect((await request(`${a.url}/v1/me`, { headers: bearer })).status).toBe(200);
    expectAliveAndQuiet(a);
  });

  it('answers 503 while Redis is down, and serves again once it is back', { timeout: 90_000 }, async () => {
    const a = node(hybrid);
    await signup(a.url, 'redis-down@example.com');
    const { cookie } = await loginCookie(a.url, 'redis-down@example.com');
    const tokens = await loginToken(a.url, 'redis-down@example.com');
    const bearer = { authorization: `Bearer ${tokens.accessToken}` };
    expect((await request(`${a.url}/v1/me`, { headers: bearer })).status).toBe(200);

    const server = backend(redis);
    await server.kill();
    await timed('redis down: requests', async () => {
      for (let round = 0; round < 3; round += 1) {
        expectFaultAnswer(await request(`${a.url}/v1/me`, { headers: { cookie } }), 'GET /v1/me (cookie)');
        // The access token's signature is fine, but its session could not be checked: no 200.
        expectFaultAnswer(await request(`${a.url}/v1/me`, { headers: bearer }), 'GET /v1/me (bearer)');
        expectFaultAnswer(
          await request(`${a.url}/v1/refresh`, { body: { refresh_token: tokens.refreshToken } }),
          'POST /v1/refresh',
        );
        expectFaultAnswer(
          await request(`${a.url}/v1/login`, {
            body: {
              email: 'redis-down@example.com',
              password: 'correct horse battery staple',
              mode: 'token',
            },
          }),
          'POST /v1/login',
        );
        expectFaultAnswer(await request(`${a.url}/healthz`), 'GET /healthz');
      }
      // Keys live in Postgres and in memory: the JWKS still answers.
      expect((await request(`${a.url}/.well-known/jwks.json`)).status).toBe(200);
    });
    expectAliveAndQuiet(a);

    await server.start();
    await timed('redis back: recovery', () =>
      waitUntil(
        async () => (await request(`${a.url}/healthz`)).status === 200,
        30_000,
        'healthz after restart',
      ),
    );
    // This redis-server keeps nothing across a restart (--save '' --appendonly no): the sessions
    // it held are gone, so their credentials fail closed (401), and new logins work at once.
    expect((await request(`${a.url}/v1/me`, { headers: { cookie } })).status).toBe(401);
    expect((await request(`${a.url}/v1/me`, { headers: bearer })).status).toBe(401);
    const again = await loginCookie(a.url, 'redis-down@example.com');
    expect((await request(`${a.url}/v1/me`, { headers: { cookie: again.cookie } })).status).toBe(200);
    expectAliveAndQuiet(a);
  });

  it(
    'answers 503 while Postgres is down, and serves again once it is back',
    { timeout: 90_000 },
    async () => {
      const a = node(hybrid);
      const b = node(sql);
      await signup(b.url, 'pg-down@example.com');
      const onHybrid = await loginCookie(a.url, 'pg-down@example.com');
      const onSQL = await loginCookie(b.url, 'pg-down@example.com');
      // Each node keeps its sessions in its own place (Redis, Postgres): a token is checked where it was made.
      const bearerOnHybrid = `Bearer ${(await loginToken(a.url, 'pg-down@example.com')).accessToken}`;
      const bearerOnSQL = `Bearer ${(await loginToken(b.url, 'pg-down@example.com')).accessToken}`;

      const server = backend(postgres);
      await timed('postgres stop -m immediate', () => server.stopImmediately());
      await timed('postgres down: requests', async () => {
        for (let round = 0; round < 3; round += 1) {
          for (const [base, cookie, authorization] of [
            [a.url, onHybrid.cookie, bearerOnHybrid],
            [b.url, onSQL.cookie, bearerOnSQL],
          ] as const) {
            // Every authenticated request loads the user from Postgres (a disabled user must be refused).
            expectFaultAnswer(await request(`${base}/v1/me`, { headers: { cookie } }), `GET ${base}/v1/me`);
            expectFaultAnswer(
              await request(`${base}/v1/me`, { headers: { authorization } }),
              `GET ${base}/v1/me (bearer)`,
            );
            expectFaultAnswer(
              await request(`${base}/v1/signup`, {
                body: { email: `new-${round}@example.com`, password: 'correct horse battery staple' },
              }),
              `POST ${base}/v1/signup`,
            );
            expectFaultAnswer(await request(`${base}/healthz`), `GET ${base}/healthz`);
          }
        }
      });
      expectAliveAndQuiet(a);
      expectAliveAndQuiet(b);

      await timed('postgres start', () => server.start());
      await timed('postgres back: recovery', () =>
        Promise.all([
          waitUntil(async () => (await request(`${a.url}/healthz`)).status === 200, 30_000, 'hybrid healthz'),
          waitUntil(async () => (await request(`${b.url}/healthz`)).status === 200, 30_000, 'sql healthz'),
        ]),
      );
      // Postgres is durable: every session made before the crash is still valid.
      expect((await request(`${a.url}/v1/me`, { headers: { cookie: onHybrid.cookie } })).status).toBe(200);
      expect((await request(`${b.url}/v1/me`, { headers: { cookie: onSQL.cookie } })).status).toBe(200);
      expect((await request(`${a.url}/v1/me`, { headers: { authorization: bearerOnHybrid } })).status).toBe(
        200,
      );
      expect((await request(`${b.url}/v1/me`, { headers: { authorization: bearerOnSQL } })).status).toBe(200);
      expectAliveAndQuiet(a);
      expectAliveAndQuiet(b);
    },
  );
});
