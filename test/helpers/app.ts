import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createLatchkey, type CreateLatchkeyOptions, type Latchkey } from '../../src/app/latchkey.js';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import { defaultConfig, type LatchkeyConfig } from '../../src/config/config.js';
import { createHTTPServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { createPasswordHasher, type PasswordHasher } from '../../src/password/hash.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import type { RevocationRecord } from '../../src/records.js';
import type { Store } from '../../src/store.js';
import type { RevocationFeed } from '../../src/verify/feed.js';
import type { MailTransport } from '../../src/outbox/transport.js';

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
    mailTransport?: MailTransport;
    /** Runs on the server before `ready()`: a hook of the test's own (`test/helpers/openapi.ts`). */
    beforeReady?: (app: FastifyInstance) => void;
    webhookWorker?: CreateLatchkeyOptions['webhookWorker'];
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
    ...(options.mailTransport === undefined ? {} : { mailTransport: options.mailTransport }),
    ...(options.webhookWorker === undefined ? {} : { webhookWorker: options.webhookWorker }),
  });
  const app = createHTTPServer(latchkey);
  options.beforeReady?.(app);
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

export interface TokenLogin {
  access_token: string;
  refresh_token: string;
  session: { id: string };
  user: { id: string };
}

/** Logs in in token mode and returns the token response; throws unless it is a 200. */
export async function loginToken(
  app: FastifyInstance,
  email: string,
  password = PASSWORD,
  options: { remoteAddress?: string } = {},
): Promise<TokenLogin> {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/login',
    payload: { email, password, mode: 'token' },
    ...options,
  });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  return json<TokenLogin>(response);
}

/**
 * Every revocation record the store holds, expired ones included (`listRevocations` hides the
 * records expired at `now`; at 0 none is).
 */
export function heldRevocations(store: Store): Promise<RevocationRecord[]> {
  return store.listRevocations({ now: 0 });
}

/**
 * The attributes of one Set-Cookie header, by lower-case name, each with every value it was
 * given (`['']` for a flag such as `Secure`), so that a test sees a repeated or unexpected one.
 *
 * @example
 * cookieAttributes('a=b; Path=/; Secure'); // { path: ['/'], secure: [''] }
 */
export function cookieAttributes(header: string): Record<string, string[]> {
  const attributes: Record<string, string[]> = {};
  for (const part of header.split(';').slice(1)) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    (attributes[name] ??= []).push(value);
  }
  return attributes;
}
