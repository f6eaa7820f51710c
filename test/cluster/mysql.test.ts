import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openMySQLStore } from '../../src/stores/mysql/index.js';
import type { Store } from '../../src/store.js';
import {
  loginCookie,
  loginToken,
  request,
  signup,
  TEST_PASSWORD,
  waitUntil,
  type Answer,
} from '../helpers/http-client.js';
import { createTestMySQLDatabase, probeMySQL, type TestMySQLDatabase } from '../helpers/mysql.js';
import { probeOwnMariaDBBinaries, startOwnMariaDB, type OwnMariaDB } from '../helpers/own-servers.js';
import { allMigrationsApplied, ROOT, startServer, type ServerProcess } from '../helpers/process.js';
import {
  createTestRedisPrefix,
  describeWithServices,
  probeRedis,
  type TestRedisPrefix,
} from '../helpers/services.js';

// MySQL / MariaDB with real `latchkey serve` processes on loopback:
// - three nodes on one database of this file's own on the shared MariaDB agree at once (no
//   Redis: MySQL alone pushes nothing, every node reads the store);
// - a node on a MariaDB of this file's own (its own port and data directory, never the shared
//   server) that is killed mid-load answers 503 problem+json, stays up, serves again once the
//   server is back, and has lost nothing it acknowledged.

const ISSUER = 'http://latchkey.test';
const SECRET = randomBytes(32).toString('base64url');
const timings: string[] = [];
const started = performance.now();
let dataDir = '';

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const begun = performance.now();
  try {
    return await run();
  } finally {
    timings.push(`${label}: ${Math.round(performance.now() - begun)} ms`);
  }
}

/** Runs `latchkey <args>` from source and returns its exit code and output. */
async function runCLI(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { code, output };
}

function bearer(accessToken: string): Record<string, string> {
  return { authorization: `Bearer ${accessToken}` };
}

function expectAliveAndQuiet(server: ServerProcess): void {
  expect(server.child.exitCode).toBeNull();
  expect(server.child.signalCode).toBeNull();
  expect(server.output().toLowerCase()).not.toContain('unhandled');
  expect(server.output()).not.toContain('uncaught');
}

/** Reads an SSE stream until `done(text so far)` or the deadline; returns what was read. */
async function readFeed(
  url: string,
  headers: Record<string, string>,
  done: (text: string) => boolean,
): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 10_000);
  let text = '';
  try {
    const response = await fetch(url, { headers, signal: controller.signal });
    expect(response.status).toBe(200);
    const reader = response.body?.getReader() as ReadableStreamDefaultReader<Uint8Array> | undefined;
    const decoder = new TextDecoder();
    while (reader !== undefined && !done(text)) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return text;
}

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
  timings.push(`whole file: ${Math.round(performance.now() - started)} ms`);
  console.info(`[cluster mysql] ${timings.join('; ')}`);
});

describeWithServices('three nodes sharing one MariaDB', [await probeMySQL()], () => {
  let database: TestMySQLDatabase | undefined;
  let inspector: Store | undefined;
  const nodes: ServerProcess[] = [];

  const env = (): Record<string, string> => {
    if (database === undefined) throw new Error('the database is not ready');
    return {
      LATCHKEY_SECRET: SECRET,
      LATCHKEY_ISSUER: ISSUER,
      LATCHKEY_AUDIENCE: ISSUER,
      LATCHKEY_DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      LATCHKEY_MIGRATE: 'false',
      LOG_LEVEL: 'warn',
    };
  };
  const node = (index: number): ServerProcess => {
    const server = nodes[index];
    if (server === undefined) throw new Error(`node ${index} did not start`);
    return server;
  };
  const store = (): Store => {
    if (inspector === undefined) throw new Error('the inspector store is not open');
    return inspector;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-cluster-mysql-'));
    database = await createTestMySQLDatabase();
  });

  afterAll(async () => {
    const running = nodes.filter(
      (server) => server.child.exitCode === null && server.child.signalCode === null,
    );
    await Promise.allSettled(running.map((server) => server.stop('SIGKILL')));
    await inspector?.close().catch(() => undefined);
    await database?.drop();
  });

  it(
    'refuses to serve before `latchkey migrate`, which applies the schema once',
    { timeout: 90_000 },
    async () => {
      await expect(startServer(env(), { timeoutMs: 30_000 })).rejects.toThrow(
        /exited with 1:[\s\S]*pending migrations \(0001_init[^)]*\)[^\n]*run `latchkey migrate`/,
      );
      const first = await timed('latchkey migrate', () => runCLI(['migrate'], env()));
      expect(first.output).toContain(allMigrationsApplied('mysql', 'mysql'));
      expect(first.code).toBe(0);
      const second = await runCLI(['migrate'], env());
      expect(second.output).toContain('mysql: no pending migrations');
      expect(second.code).toBe(0);
      inspector = await openMySQLStore({ url: env().DATABASE_URL ?? '', migrate: false, poolSize: 2 });
    },
  );

  it(
    'starts three nodes at the same moment, one with a session cache it cannot use',
    { timeout: 90_000 },
    async () => {
      // Node C asks for the near cache: MySQL alone has no revocation channel, so it stays off and says so.
      const envs = [env(), env(), { ...env(), LATCHKEY_SESSION_CACHE: '5s' }];
      const results = await timed('start three nodes', () =>
        Promise.allSettled(envs.map((each) => startServer(each, { timeoutMs: 60_000 }))),
      );
      for (const result of results) if (result.status === 'fulfilled') nodes.push(result.value);
      for (const result of results) if (result.status === 'rejected') throw result.reason;
      expect(nodes).toHaveLength(3);
      const jwks = await Promise.all(
        nodes.map(async (server) => (await request(`${server.url}/.well-known/jwks.json`)).body),
      );
      expect(new Set(jwks.map((body) => JSON.stringify(body))).size).toBe(1);
      expect((jwks[0]?.keys as unknown[]).length).toBe(1);
      for (const server of nodes) expect((await request(`${server.url}/healthz`)).body.store).toBe('mysql');
      expect(node(2).output()).toContain('the session near cache is off: MySQL has no revocation channel');
    },
  );

  it('signs up on A, logs in on B, refreshes on C, logs out on A: B and C refuse at once', async () => {
    const [a, b, c] = [node(0), node(1), node(2)];
    await signup(a.url, 'ada@example.com');
    const first = await loginToken(b.url, 'ada@example.com');
    expect((await request(`${c.url}/v1/me`, { headers: bearer(first.accessToken) })).status).toBe(200);
    const rotated = await request(`${c.url}/v1/refresh`, { body: { refresh_token: first.refreshToken } });
    expect(rotated.status).toBe(200);
    const accessToken = String(rotated.body.access_token);
    const refreshToken = String(rotated.body.refresh_token);
    expect((await request(`${a.url}/v1/me`, { headers: bearer(accessToken) })).status).toBe(200);

    expect(
      (await request(`${a.url}/v1/logout`, { method: 'POST', headers: bearer(accessToken) })).status,
    ).toBe(204);
    for (const server of [b, c]) {
      expect((await request(`${server.url}/v1/me`, { headers: bearer(accessToken) })).status).toBe(401);
      const refresh = await request(`${server.url}/v1/refresh`, { body: { refresh_token: refreshToken } });
      expect(refresh.status).toBe(400);
      expect(refresh.body.code).toBe('invalid_grant');
    }
  });

  it('honours a cookie session made on A on B and C, and a logout on B everywhere', async () => {
    const [a, b, c] = [node(0), node(1), node(2)];
    const { cookie, csrf } = await loginCookie(a.url, 'ada@example.com');
    for (const server of [b, c])
      expect((await request(`${server.url}/v1/me`, { headers: { cookie } })).status).toBe(200);
    const logout = await request(`${b.url}/v1/logout`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(logout.status).toBe(204);
    for (const server of [a, c])
      expect((await request(`${server.url}/v1/me`, { headers: { cookie } })).status).toBe(401);
  });

  it('leaves one live successor when A and B rotate the same refresh token at the same moment', async () => {
    const [a, b, c] = [node(0), node(1), node(2)];
    for (let round = 0; round < 5; round += 1) {
      const { refreshToken } = await loginToken(c.url, 'ada@example.com');
      const oldId = refreshToken.split('.')[0] ?? '';
      const answers = await Promise.all(
        [a, b].map((server) =>
          request(`${server.url}/v1/refresh`, { body: { refresh_token: refreshToken } }),
        ),
      );
      for (const answer of answers) expect([200, 400]).toContain(answer.status);
      const successors = new Set(
        answers.filter((answer) => answer.status === 200).map((answer) => String(answer.body.refresh_token)),
      );
      expect(successors.size).toBe(1);
      const successorId = [...successors][0]?.split('.')[0] ?? '';
      const old = await store().getRefreshToken(oldId);
      expect(old?.successorId).toBe(successorId);
      expect((await store().getRefreshToken(successorId))?.rotatedAt).toBeNull();
    }
  });

  it(
    'delivers a logout made on A over the SSE feed of C (MySQL alone pushes nothing: C polls)',
    { timeout: 60_000 },
    async () => {
      const [a, c] = [node(0), node(2)];
      const created = await runCLI(
        ['clients', 'create', 'feed-reader', '--scopes', 'revocations:read'],
        env(),
      );
      expect(created.code).toBe(0);
      const id = /client_id:\s+(\S+)/.exec(created.output)?.[1] ?? '';
      const secret = /client_secret:\s+(\S+)/.exec(created.output)?.[1] ?? '';
      const headers = { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` };

      const { accessToken } = await loginToken(a.url, 'ada@example.com');
      const me = await request(`${a.url}/v1/me`, { headers: bearer(accessToken) });
      const sessionId = (me.body.session as { id: string }).id;
      const feed = readFeed(`${c.url}/v1/revocations`, headers, (text) => text.includes(sessionId));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(
        (await request(`${a.url}/v1/logout`, { method: 'POST', headers: bearer(accessToken) })).status,
      ).toBe(204);
      expect(await timed('revocation from A on the SSE feed of C', () => feed)).toContain(sessionId);
      const snapshot = await request(`${c.url}/v1/revocations/snapshot`, { headers });
      expect((snapshot.body.records as { subject: string }[]).map((record) => record.subject)).toContain(
        sessionId,
      );
      for (const server of nodes) expectAliveAndQuiet(server);
    },
  );
});

describeWithServices('a node on MySQL and Redis', [await probeMySQL(), await probeRedis()], () => {
  let database: TestMySQLDatabase | undefined;
  let redisPrefix: TestRedisPrefix | undefined;
  let server: ServerProcess | undefined;

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await Promise.allSettled([database?.drop(), redisPrefix?.cleanup()]);
  });

  it(
    'keeps users in MySQL and sessions in Redis, and publishes revocations on Redis',
    { timeout: 90_000 },
    async () => {
      dataDir ||= await mkdtemp(join(tmpdir(), 'latchkey-cluster-mysql-'));
      database = await createTestMySQLDatabase();
      redisPrefix = createTestRedisPrefix();
      const env = {
        LATCHKEY_SECRET: SECRET,
        LATCHKEY_ISSUER: ISSUER,
        LATCHKEY_DATA_DIR: join(dataDir, 'composite'),
        DATABASE_URL: database.url,
        REDIS_URL: redisPrefix.url,
        LATCHKEY_REDIS_PREFIX: redisPrefix.prefix,
        LATCHKEY_SESSION_CACHE: '5s',
        LOG_LEVEL: 'info',
      };
      const migrated = await runCLI(['migrate'], env);
      expect(migrated.output).toContain(allMigrationsApplied('mysql+redis', 'mysql'));
      server = await timed('start a mysql+redis node', () => startServer(env, { timeoutMs: 60_000 }));
      const base = server.url;
      expect((await request(`${base}/healthz`)).body.store).toBe('mysql+redis');
      await signup(base, 'split@example.com');
      const { cookie, csrf } = await loginCookie(base, 'split@example.com');
      expect((await request(`${base}/v1/me`, { headers: { cookie } })).status).toBe(200);
      expect(await redisPrefix.countKeys()).toBeGreaterThan(0);
      const inspector = await openMySQLStore({ url: database.url, migrate: false, poolSize: 1 });
      try {
        expect((await inspector.getUserByEmail('split@example.com'))?.email).toBe('split@example.com');
        expect(
          await inspector.listUserSessions(
            (await inspector.getUserByEmail('split@example.com'))?.id ?? '',
            Date.now(),
          ),
        ).toEqual([]);
      } finally {
        await inspector.close();
      }
      const logout = await request(`${base}/v1/logout`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': csrf },
      });
      expect(logout.status).toBe(204);
      expect((await request(`${base}/v1/me`, { headers: { cookie } })).status).toBe(401);
      // Redis is the channel: revocations are published there, and the near cache can be on.
      await waitUntil(
        () => Promise.resolve(server?.output().includes('publishing revocations') ?? false),
        10_000,
        'publisher',
      );
      expect(server.output()).toMatch(/"event":"revocations.publisher","transport":"redis"/);
      expect(server.output()).not.toContain('the cache stays off');
      expectAliveAndQuiet(server);
    },
  );
});

/** One answer during the outage test: what was asked, when, and what came back. */
interface Outcome {
  kind: 'signup' | 'login' | 'me';
  email: string;
  afterKill: boolean;
  answer: Answer | null;
  failure: string | null;
}

describeWithServices('a MariaDB of its own, killed mid-load', [await probeOwnMariaDBBinaries()], () => {
  let mariadb: OwnMariaDB | undefined;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    dataDir ||= await mkdtemp(join(tmpdir(), 'latchkey-cluster-mysql-'));
    mariadb = await timed('start own mariadb', () => startOwnMariaDB());
    server = await timed('start a node', () =>
      startServer(
        {
          LATCHKEY_SECRET: SECRET,
          LATCHKEY_ISSUER: ISSUER,
          LATCHKEY_DATA_DIR: join(dataDir, 'outage'),
          DATABASE_URL: mariadb?.url ?? '',
          // Each sign-up comes from an address of its own (X-Forwarded-For), below the per-address limit.
          LATCHKEY_TRUSTED_PROXIES: '127.0.0.1',
          LOG_LEVEL: 'warn',
        },
        { timeoutMs: 60_000 },
      ),
    );
  }, 120_000);

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await mariadb?.destroy();
  });

  it(
    'answers 503 while it is frozen (timeouts), and serves again when it thaws',
    { timeout: 60_000 },
    async () => {
      const base = server?.url ?? '';
      const database = mariadb;
      if (database === undefined) throw new Error('no mariadb');
      await signup(base, 'frozen@example.com');
      const { cookie } = await loginCookie(base, 'frozen@example.com');
      const tokens = await loginToken(base, 'frozen@example.com');
      database.pause();
      try {
        // Connections stay open and nothing answers: only the client-side timeouts end these.
        const answers = await timed('mariadb frozen: requests', () =>
          Promise.all([
            request(`${base}/v1/me`, { headers: { cookie } }),
            request(`${base}/v1/me`, { headers: bearer(tokens.accessToken) }),
            request(`${base}/healthz`),
          ]),
        );
        for (const answer of answers) {
          expect(answer.status, JSON.stringify(answer.body)).toBe(503);
          expect(answer.contentType).toContain('application/problem+json');
          expect(answer.body.code).toBe('store_unavailable');
        }
      } finally {
        database.resume();
      }
      await timed('mariadb thawed: recovery', () =>
        waitUntil(
          async () => (await request(`${base}/healthz`)).status === 200,
          20_000,
          'healthz after thaw',
        ),
      );
      // A connection cut off by a timeout is never reused: every answer is the right one.
      for (let round = 0; round < 5; round += 1) {
        const me = await request(`${base}/v1/me`, { headers: { cookie } });
        expect(me.status).toBe(200);
        expect((me.body.user as { email: string }).email).toBe('frozen@example.com');
      }
      expect((await request(`${base}/v1/me`, { headers: bearer(tokens.accessToken) })).status).toBe(200);
      if (server !== undefined) expectAliveAndQuiet(server);
    },
  );

  it(
    'answers 503 problem+json while it is down, recovers without a restart, and loses nothing',
    { timeout: 120_000 },
    async () => {
      const base = server?.url ?? '';
      const database = mariadb;
      if (database === undefined) throw new Error('no mariadb');
      await signup(base, 'outage@example.com');
      const outcomes: Outcome[] = [];
      const PER_PHASE = 120;
      let answered = 0;
      let answeredLate = 0;
      let killedAt: number | null = null;
      let counter = 0;
      const { cookie } = await loginCookie(base, 'outage@example.com');

      // Workers sign up, log in and read /v1/me until PER_PHASE requests sent after the kill answered.
      const worker = async (): Promise<void> => {
        while (killedAt === null || answeredLate < PER_PHASE) {
          const step = counter++;
          const kind = (['signup', 'login', 'me'] as const)[step % 3] ?? 'me';
          const email = kind === 'signup' ? `load-${step}@example.com` : 'outage@example.com';
          const afterKill = killedAt !== null;
          const outcome: Outcome = { kind, email, afterKill, answer: null, failure: null };
          const from = { 'x-forwarded-for': `10.0.${(step >> 8) & 255}.${step & 255}` };
          try {
            outcome.answer =
              kind === 'me'
                ? await request(`${base}/v1/me`, { headers: { cookie }, timeoutMs: 10_000 })
                : await request(`${base}/v1/${kind}`, {
                    body: { email, password: TEST_PASSWORD, ...(kind === 'login' ? { mode: 'cookie' } : {}) },
                    headers: from,
                    timeoutMs: 10_000,
                  });
          } catch (error) {
            outcome.failure = error instanceof Error ? error.message : String(error);
          }
          outcomes.push(outcome);
          answered += 1;
          if (afterKill) answeredLate += 1;
        }
      };
      const killer = (async (): Promise<void> => {
        while (answered < PER_PHASE) await new Promise((resolve) => setTimeout(resolve, 5));
        await timed('kill mariadb (SIGKILL)', () => database.kill());
        killedAt = answered;
      })();
      await timed('load across the kill', () => Promise.all([killer, ...[0, 1, 2, 3].map(worker)]));

      expect(outcomes.filter((outcome) => outcome.failure !== null)).toEqual([]);
      const okStatus = { signup: 201, login: 200, me: 200 };
      for (const outcome of outcomes) {
        const answer = outcome.answer;
        if (answer === null) continue;
        if (answer.status === okStatus[outcome.kind]) continue;
        expect(
          answer.status,
          `${outcome.kind} answered ${answer.status} ${JSON.stringify(answer.body)}`,
        ).toBe(503);
        expect(answer.contentType).toContain('application/problem+json');
        expect(answer.body.code).toBe('store_unavailable');
      }
      // Asked after the kill was complete: none could succeed (the JWKS is not in this load).
      const late = outcomes.filter((outcome) => outcome.afterKill);
      expect(late.length).toBeGreaterThanOrEqual(PER_PHASE);
      expect(late.every((outcome) => outcome.answer?.status === 503)).toBe(true);
      expect((await request(`${base}/healthz`)).status).toBe(503);
      if (server !== undefined) expectAliveAndQuiet(server);

      await timed('restart mariadb', () => database.start());
      await timed('recovery: healthz 200', () =>
        waitUntil(
          async () => (await request(`${base}/healthz`)).status === 200,
          30_000,
          'healthz after restart',
        ),
      );
      // Nothing acknowledged was lost: every account whose sign-up answered 201 logs in, and every
      // session whose login answered 200 (and the one made first) is still valid.
      const signedUp = outcomes.filter((o) => o.kind === 'signup' && o.answer?.status === 201);
      const sessions = outcomes.filter((o) => o.kind === 'login' && o.answer?.status === 200);
      expect(signedUp.length).toBeGreaterThan(0);
      expect(sessions.length).toBeGreaterThan(0);
      for (const outcome of signedUp) {
        const login = await request(`${base}/v1/login`, {
          body: { email: outcome.email, password: TEST_PASSWORD },
        });
        expect(login.status, outcome.email).toBe(200);
      }
      expect((await request(`${base}/v1/me`, { headers: { cookie } })).status).toBe(200);
      for (const outcome of sessions) {
        const sessionCookie = (outcome.answer?.setCookies ?? [])
          .find((value) => value.startsWith('__Host-latchkey_session='))
          ?.split(';')[0];
        expect((await request(`${base}/v1/me`, { headers: { cookie: sessionCookie ?? '' } })).status).toBe(
          200,
        );
      }
      timings.push(
        `outage: ${signedUp.length} sign-ups and ${sessions.length} logins acknowledged, all kept`,
      );
      if (server !== undefined) expectAliveAndQuiet(server);
    },
  );
});
