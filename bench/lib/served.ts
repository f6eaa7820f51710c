/**
 * The default server as users run it: `node dist/cli/main.js serve`, what `npm start` and the
 * `latchkey` command run (the build output, no tsx: the bench's other Latchkey servers load the
 * TypeScript sources through tsx, whose loader thread and transform caches add ~40 MiB of
 * resident memory that no user pays). Nothing configured but a data directory of its own
 * (SQLite, the default store), loaded like the others (its no-auth route, then a cookie session's
 * `GET /v1/me`), and its resident memory read after: the figure of the memory target.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startServer } from '../../test/helpers/process.js';
import { BENCH_EMAIL, BENCH_PASSWORD, loginCookie, postJSON, STORE_VARIABLES } from './latchkey.js';
import { runLoad } from './load.js';
import { processMemory, type ProcessMemory } from './memory.js';
import { trackChild } from './processes.js';

export interface ServedOptions {
  dataDir: string;
  connections: number;
  seconds: number;
  rounds: number;
}

/** Peak and current resident memory of `latchkey serve` from dist/ after its loads (see above). */
export async function servedMemory(options: ServedOptions): Promise<ProcessMemory | null> {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js')))
    throw new Error('dist/cli/main.js is missing: run npm run build first');
  const cleared = Object.fromEntries(STORE_VARIABLES.map((name) => [name, '']));
  const server = await startServer(
    { ...cleared, LATCHKEY_DATA_DIR: options.dataDir },
    { fromDist: true, timeoutMs: 120_000 },
  );
  trackChild(server.child);
  const { url } = server;
  try {
    const signup = await postJSON(`${url}/v1/signup`, { email: BENCH_EMAIL, password: BENCH_PASSWORD });
    await signup.arrayBuffer();
    const cookie = await loginCookie(url);
    for (let round = 0; round < options.rounds; round++) {
      const load = { connections: options.connections, seconds: options.seconds };
      await runLoad({ ...load, url: `${url}/.well-known/jwks.json` });
      await runLoad({ ...load, url: `${url}/v1/me`, headers: { cookie } });
    }
    return processMemory(server.child.pid);
  } finally {
    await server.stop();
  }
}
