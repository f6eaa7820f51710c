import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createLatchkey, type Latchkey } from '../../src/app/latchkey.js';
import { systemClock } from '../../src/clock.js';
import { defaultConfig } from '../../src/config/config.js';
import { createHTTPServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { createPasswordHasher } from '../../src/password/hash.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import { FAST_HASHER_PARAMETERS, SECRET } from './app.js';
import { freePort, ROOT } from './process.js';

export const SDK_BUNDLE_PATH = join(ROOT, 'dist', 'sdk', 'latchkey-browser.js');

/** Builds the served bundle (`npm run build:sdk`) when it is missing or older than `src/browser/`. */
export function ensureSDKBundle(): void {
  const sources = join(ROOT, 'src', 'browser');
  const newest = Math.max(...readdirSync(sources).map((name) => statSync(join(sources, name)).mtimeMs));
  if (existsSync(SDK_BUNDLE_PATH) && statSync(SDK_BUNDLE_PATH).mtimeMs >= newest) return;
  execFileSync('npm', ['run', '--silent', 'build:sdk'], { cwd: ROOT, stdio: 'pipe' });
}

export const LAB_BUNDLE_PATH = join(ROOT, 'dist', 'lab', 'lab.js');

/** Builds the script of `/lab` (`npm run build:lab`) when it is missing or older than its sources. */
export function ensureLabBundle(): void {
  const folders = [join(ROOT, 'src', 'lab'), join(ROOT, 'src', 'browser')];
  const newest = Math.max(
    ...folders.flatMap((folder) => readdirSync(folder).map((name) => statSync(join(folder, name)).mtimeMs)),
  );
  if (existsSync(LAB_BUNDLE_PATH) && statSync(LAB_BUNDLE_PATH).mtimeMs >= newest) return;
  execFileSync('npm', ['run', '--silent', 'build:lab'], { cwd: ROOT, stdio: 'pipe' });
}

/** A page of the test's own, same-origin with the API, that loads the SDK the server serves. */
export const TEST_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SDK test page</title><link rel="icon" href="data:,"></head>
<body><p>SDK test page</p>
<script type="module">
import * as latchkey from '/sdk/latchkey-browser.js';
window.latchkey = latchkey;
</script></body></html>`;

export interface SDKServer {
  url: string;
  app: FastifyInstance;
  latchkey: Latchkey;
  /** Successful refresh-token rotations, with the time of each (store compare-and-set wins). */
  rotations: number[];
  logs: string[];
  /** Log lines of refresh-token reuse (each one revoked a session). */
  reuseEvents(): string[];
  close(): Promise<void>;
}

/**
 * A real Latchkey server listening on 127.0.0.1 (memory store, real clock, short access
 * tokens, no clock tolerance) that also serves `TEST_PAGE` at `/test/page`, and `pages`.
 */
export async function startSDKServer(options: {
  accessTokenTTL: number;
  /** More pages to serve, by path. */
  pages?: Record<string, string>;
}): Promise<SDKServer> {
  ensureSDKBundle();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const store = createMemoryStore();
  const rotations: number[] = [];
  const rotate = store.rotateRefreshToken.bind(store);
  store.rotateRefreshToken = async (oldId, successor, at) => {
    const won = await rotate(oldId, successor, at);
    if (won) rotations.push(Date.now());
    return won;
  };
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString('utf8'));
      callback();
    },
  });
  const config = defaultConfig({
    issuer: url,
    audience: url,
    insecureCookies: true,
    accessTokenTTL: options.accessTokenTTL,
    clockTolerance: 0,
    logLevel: 'info',
  });
  const latchkey = await createLatchkey({
    config,
    store,
    secret: SECRET,
    clock: systemClock,
    logger: createLogger({ level: config.logLevel, destination }),
    hasher: createPasswordHasher(FAST_HASHER_PARAMETERS),
  });
  const app = createHTTPServer(latchkey);
  for (const [path, html] of Object.entries({ '/test/page': TEST_PAGE, ...options.pages })) {
    app.get(path, (_request, reply) => reply.type('text/html; charset=utf-8').send(html));
  }
  await app.listen({ port, host: '127.0.0.1' });
  return {
    url,
    app,
    latchkey,
    rotations,
    logs,
    reuseEvents: () => logs.filter((line) => line.includes('security.refresh_token_reuse')),
    async close() {
      await app.close();
      await latchkey.close();
    },
  };
}
