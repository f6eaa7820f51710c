import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openRedisStore } from '../../src/stores/redis/index.js';
import type { Store } from '../../src/store.js';
import { loginCookie, loginToken, request, signup } from '../helpers/http-client.js';
import { ROOT, startServer, type ServerProcess } from '../helpers/process.js';
import {
  createTestDatabase,
  createTestRedisPrefix,
  describeWithServices,
  probePostgres,
  probeRedis,
  type TestDatabase,
  type TestRedisPrefix,
} from '../helpers/services.js';

// Three `latchkey serve` processes (A, B, C) on one Postgres database and one Redis prefix of
// this file's own, as behind a load balancer: whatever one node does, the others see at the
// next request. Loopback only; every load loop is bounded by a count of requests, not by time.

const ISSUER = 'http://latchkey.test';
const SECRET = randomBytes(32).toString('base64url');

let database: TestDatabase | undefined;
let redisPrefix: TestRedisPrefix | undefined;
let dataDir = '';
let inspector: Store | undefined;
const nodes: ServerProcess[] = [];
const started = performance.now();

function env(): Record<string, string> {
  if (database === undefined || redisPrefix === undefined) throw new Error('the backends are not ready');
  return {
    LATCHKEY_SECRET: SECRET,
    LATCHKEY_ISSUER: ISSUER,
    LATCHKEY_AUDIENCE: ISSUER,
    LATCHKEY_DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    REDIS_URL: redisPrefix.url,
    LATCHKEY_REDIS_PREFIX: redisPrefix.prefix,
    LATCHKEY_MIGRATE: 'false',
    LOG_LEVEL: 'warn',
  };
}

function node(index: number): ServerProcess {
  const server = nodes[index];
  if (server === undefined) throw new Error(`node ${index} did not start`);
  return server;
}

function store(): Store {
  if (inspector === undefined) throw new Error('the inspector store is not open');
  return inspector;
}

/** Runs `latchkey <args>` from source and returns its exit code and output. */
async function runCLI(
  args: string[],
  extraEnv: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...extraEnv },
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

describeWithServices(
  'three nodes sharing Postgres and Redis',
  [await probePostgres(), await probeRedis()],
  () => {
    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'latchkey-cluster-'));
      database = await createTestDatabase();
      redisPrefix = createTestRedisPrefix();
      inspector = await openRedisStore({ url: redisPrefix.url, prefix: redisPrefix.prefix });
    });

    afterAll(async () => {
      // stop() waits for an 'exit' that has already happened for a node killed by a signal: skip those.
      const running = nodes.filter(
        (server) => server.child.exitCode === null && server.child.signalCode === null,
      );
      await Promise.allSettled(running.map((server) => server.stop('SIGKILL')));
      await inspector?.close().catch(() => undefined);
      await Promise.allSettled([database?.drop(), redisPrefix?.cleanup()]);
      await rm(dataDir, { recursive: true, force: true });
      console.info(`[many-nodes] whole file: ${Math.round(performance.now() - started)} ms`);
    });

    it(
      'refuses to serve before `latchkey migrate`, which applies the schema once',
      { timeout: 90_000 },
      async () => {
        await expect(startServer(env(), { timeoutMs: 30_000 })).rejects.toThrow(
          /exited with 1:[\s\S]*pending migrations \(0001_init[^)]*\)[^\n]*run `latchkey migrate`/,
        );
        const first = await runCLI(['migrate'], env());
        expect(first.output).toMatch(/postgres\+redis: applied \d+ migration\(s\): 0001_init, 0002_clients/);
        expect(first.code).toBe(0);
        const second = await runCLI(['migrate'], env());
        expect(second.output).toContain('postgres+redis: no pending migrations');
        expect(second.code).toBe(0);
      },
    );

    it('starts three nodes at the same moment', { timeout: 90_000 }, async () => {
      const results = await Promise.allSettled(
        [0, 1, 2].map(() => startServer(env(), { timeoutMs: 60_000 })),
      );
      for (const result of results) if (result.status === 'fulfilled') nodes.push(result.value);
      for (const result of results) if (result.status === 'rejected') throw result.reason;
      // One signing key, created by exactly one of them, published by all three.
      const jwks = await Promise.all(
        nodes.map(async (server) => (await request(`${server.url}/.well-known/jwks.json`)).body),
      );
      expect(new Set(jwks.map((body) => JSON.stringify(body))).size).toBe(1);
      expect((jwks[0]?.keys as unknown[]).length).toBe(1);
    });

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

      const logout = await request(`${a.url}/v1/logout`, { method: 'POST', headers: bearer(accessToken) });
      expect(logout.status).toBe(204);
      for (const server of [b, c]) {
        const me = await request(`${server.url}/v1/me`, { headers: bearer(accessToken) });
        expect(me.status).toBe(401);
        expect((await request(`${server.url}/v1/me`, { headers: bearer(first.accessToken) })).status).toBe(
          401,
        );
        const refresh = await request(`${server.url}/v1/refresh`, { body: { refresh_token: refreshToken } });
        expect(refresh.status).toBe(400);
        expect(refresh.body.code).toBe('invalid_grant');
      }
    });

    it('honours a cookie session made on A on B and C, and a logout on B everywhere', async () => {
      const [a, b, c] = [node(0), node(1), node(2)];
      const { cookie, csrf } = await loginCookie(a.url, 'ada@example.com');
      for (const server of [b, c]) {
        const me = await request(`${server.url}/v1/me`, { headers: { cookie } });
        expect(me.status).toBe(200);
        expect((me.body.user as { email: string }).email).toBe('ada@example.com');
      }
      const sessions = await request(`${c.url}/v1/sessions`, { headers: { cookie } });
      expect((sessions.body.sessions as { current: boolean }[]).filter((s) => s.current)).toHaveLength(1);
      // The CSRF token made on A is valid on B: every node derives the same key from LATCHKEY_SECRET.
      const logout = await request(`${b.url}/v1/logout`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': csrf },
      });
      expect(logout.status).toBe(204);
      for (const server of [a, c]) {
        expect((await request(`${server.url}/v1/me`, { headers: { cookie } })).status).toBe(401);
      }
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
        // Within the grace window both may succeed, but with the same successor; never two.
        for (const answer of answers) expect([200, 400]).toContain(answer.status);
        const successors = new Set(
          answers
            .filter((answer) => answer.status === 200)
            .map((answer) => String(answer.body.refresh_token)),
        );
        expect(successors.size).toBe(1);
        const [successor] = [...successors];
        const successorId = successor?.split('.')[0] ?? '';

        const old = await store().getRefreshToken(oldId);
        expect(old?.rotatedAt).not.toBeNull();
        expect(old?.successorId).toBe(successorId);
        const next = await store().getRefreshToken(successorId);
        expect(next?.sessionId).toBe(old?.sessionId);
        expect(next?.rotatedAt).toBeNull();
        // The family is alive: the one successor rotates again on the third node.
        expect((await request(`${c.url}/v1/refresh`, { body: { refresh_token: successor } })).status).toBe(
          200,
        );
      }
    });

    it('keeps serving on B and C when A is killed with SIGKILL under load', { timeout: 60_000 }, async () => {
      const [a, b, c] = [node(0), node(1), node(2)];
      const credentials: Record<string, string>[] = [];
      for (const [index, server] of [a, b, c, a].entries()) {
        if (index % 2 === 0)
          credentials.push({ cookie: (await loginCookie(server.url, 'ada@example.com')).cookie });
        else credentials.push(bearer((await loginToken(server.url, 'ada@example.com')).accessToken));
      }
      const statuses = new Map<number, number>();
      const failures: string[] = [];
      const survivors = [b, c];
      // Four workers load B and C until 100 requests were answered after A died (the test's
      // timeout ends a hang); A is killed once 100 were answered before.
      const PER_PHASE = 100;
      let answered = 0;
      let killedAt: number | null = null;
      const loop = async (worker: number): Promise<void> => {
        for (let i = 0; killedAt === null || answered < killedAt + PER_PHASE; i += 1) {
          const server = survivors[(worker + i) % survivors.length] ?? b;
          const headers = credentials[(worker + i) % credentials.length] ?? {};
          try {
            const answer = await request(`${server.url}/v1/me`, { headers, timeoutMs: 5_000 });
            statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          } catch (error) {
            failures.push(error instanceof Error ? error.message : String(error));
          }
          answered += 1;
        }
      };
      const killer = (async (): Promise<void> => {
        // Bounded by the test's timeout: the workers answer or fail every request within 5 s.
        while (answered < PER_PHASE) await new Promise((resolve) => setTimeout(resolve, 10));
        await a.stop('SIGKILL');
        killedAt = answered;
      })();
      await Promise.all([killer, ...[0, 1, 2, 3].map(loop)]);

      expect(a.child.signalCode).toBe('SIGKILL');
      expect(failures).toEqual([]);
      expect([...statuses.keys()]).toEqual([200]);
      expect(killedAt).toBeGreaterThanOrEqual(PER_PHASE);
      expect(answered - (killedAt ?? answered)).toBeGreaterThanOrEqual(PER_PHASE);
      // Every session, including the two made on A, is still valid on both survivors.
      for (const headers of credentials) {
        for (const server of survivors) {
          expect((await request(`${server.url}/v1/me`, { headers })).status).toBe(200);
        }
      }
      for (const server of survivors) {
        expect(server.child.exitCode).toBeNull();
        expect(server.output().toLowerCase()).not.toContain('unhandled');
      }
    });

    it('serves with REDIS_URL alone, keeping users and keys in Redis too', { timeout: 60_000 }, async () => {
      const own = createTestRedisPrefix();
      const { DATABASE_URL: _unused, ...withoutDatabase } = env();
      let server: ServerProcess | undefined;
      try {
        server = await startServer(
          // The test Redis does not persist: without the flag the server refuses (redis-durability.test.ts).
          { ...withoutDatabase, LATCHKEY_REDIS_PREFIX: own.prefix, LATCHKEY_REDIS_ALLOW_VOLATILE: 'true' },
          { timeoutMs: 60_000 },
        );
        expect((await request(`${server.url}/healthz`)).body.store).toBe('redis');
        await signup(server.url, 'only-redis@example.com');
        const { cookie } = await loginCookie(server.url, 'only-redis@example.com');
        expect((await request(`${server.url}/v1/me`, { headers: { cookie } })).status).toBe(200);
        expect(await own.countKeys()).toBeGreaterThan(0);
      } finally {
        await server?.stop('SIGKILL');
        await own.cleanup();
      }
    });
  },
);
