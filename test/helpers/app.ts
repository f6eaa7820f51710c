import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createLatchkey, type Latchkey } from '../../src/app/latchkey.js';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import { defaultConfig, type LatchkeyConfig } from '../../src/config/config.js';
import { createHTTPServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { createPasswordHasher, type PasswordHasher } from '../../src/password/hash.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import type { Store } from '../../src/store.js';
import type { RevocationFeed } from '../../src/verify/feed.js';

export const SECRET = 'test-master-secret-0123456789abcdefghijklmnop';
export const ISSUER = 'https://auth.example.test';
export const PASSWORD = 'correct horse battery staple';

/** Cheap argon2id parameters for tests; the OWASP ones are exercised in password tests. */
export const FAST_HASHER_PARAMETERS = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

export interface TestApp {
  latchkey: Latchkey;
  app: FastifyInstance;
  clock: ManualClock;
  store: Store;
  logs: string[];
  close(): Promise<void>;
}

export async function createTestApp(
  options: {
    config?: Partial<LatchkeyConfig>;
    store?: Store;
    clock?: ManualClock;
    hasher?: PasswordHasher;
    secret?: string;
    sessionCacheFeed?: RevocationFeed;
  } = {},
): Promise<TestApp> {
  const clock = options.clock ?? createManualClock(Date.UTC(2026, 0, 1));
  const store = options.store ?? createMemoryStore();
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString('utf8'));
      callback();
    },
  });
  const config = defaultConfig({ issuer: ISSUER, audience: ISSUER, logLevel: 'info', ...options.config });
  const latchkey = await createLatchkey({
    config,
    store,
    secret: options.secret ?? SECRET,
    clock,
    logger: createLogger({ level: config.logLevel, destination }),
    hasher: options.hasher ?? createPasswordHasher(FAST_HASHER_PARAMETERS),
    ...(options.sessionCacheFeed === undefined ? {} : { sessionCacheFeed: options.sessionCacheFeed }),
  });
  const app = createHTTPServer(latchkey);
  await app.ready();
  return {
    latchkey,
    app,
    clock,
    store,
    logs,
    async close() {
      await app.close();
      await latchkey.close();
    },
  };
}

/** The `name=value` pairs of a response's Set-Cookie headers. */
export function setCookies(response: LightMyRequestResponse): Map<string, { value: string; header: string }> {
  const raw = response.headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const cookies = new Map<string, { value: string; header: string }>();
  for (const header of list) {
    const [pair = ''] = header.split(';');
    const eq = pair.indexOf('=');
    cookies.set(pair.slice(0, eq), { value: pair.slice(eq + 1), header });
  }
  return cookies;
}

export function json<T = Record<string, unknown>>(response: LightMyRequestResponse): T {
  return JSON.parse(response.body) as T;
}

export async function signup(app: FastifyInstance, email: string, password = PASSWORD): Promise<void> {
  const response = await app.inject({ method: 'POST', url: '/v1/signup', payload: { email, password } });
  if (response.statusCode !== 201) throw new Error(`signup failed: ${response.statusCode} ${response.body}`);
}

export interface CookieLogin {
  cookie: string;
  csrf: string;
  sessionId: string;
  device: string;
}

export async function loginCookie(
  app: FastifyInstance,
  email: string,
  password = PASSWORD,
  headers: Record<string, string> = {},
): Promise<CookieLogin> {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/login',
    payload: { email, password, mode: 'cookie' },
    headers,
  });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  const body = json<{ csrf_token: string; session: { id: string } }>(response);
  const cookies = setCookies(response);
  return {
    cookie: `__Host-latchkey_session=${cookies.get('__Host-latchkey_session')?.value ?? ''}`,
    csrf: body.csrf_token,
    sessionId: body.session.id,
    device: cookies.get('__Host-latchkey_device')?.value ?? '',
  };
}
