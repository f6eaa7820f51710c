/**
 * The auth server of the example: `latchkey serve`, but in process, so that it can seed the
 * machine clients of the example into its memory store before it listens (the admin step that
 * `latchkey clients create` does against a persistent store).
 */

import { createLatchkey, type Latchkey } from '../../src/app/latchkey.js';
import { createClientService } from '../../src/clients/clients.js';
import { defaultConfig } from '../../src/config/config.js';
import { createHTTPServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import type { PasswordHasher } from '../../src/password/hash.js';
import { createMemoryStore } from '../../src/stores/memory/index.js';
import type { ClientCredentials } from './shared.js';

/** A machine client to create at start. */
export interface ClientSeed {
  name: string;
  scopes: readonly string[];
  audiences: readonly string[];
}

export interface AuthServerOptions {
  /** `LATCHKEY_ISSUER`: the public URL (the gateway's). */
  issuer: string;
  /** `LATCHKEY_AUDIENCE`: the first-party audience of user tokens. */
  audience: string;
  /** `LATCHKEY_SECRET` (at least 32 characters). */
  secret: string;
  port?: number;
  /** pino level; default `warn`. */
  logLevel?: string;
  /** Password hashing (default: Argon2id with OWASP parameters). */
  hasher?: PasswordHasher;
  /** Machine clients to create, by key. */
  clients: Readonly<Record<string, ClientSeed>>;
}

export interface RunningAuthServer {
  /** The auth server's own URL (services reach it directly for the JWKS and the feed). */
  url: string;
  latchkey: Latchkey;
  /** The credentials of each seeded client, by the key it was given in `clients`. */
  credentials: Readonly<Record<string, ClientCredentials>>;
  close(): Promise<void>;
}

/** Starts the auth server on 127.0.0.1 with a memory store and the given clients. */
export async function startAuthServer(options: AuthServerOptions): Promise<RunningAuthServer> {
  const logLevel = options.logLevel ?? 'warn';
  const config = defaultConfig({
    issuer: options.issuer,
    audience: options.audience,
    store: 'memory',
    logLevel,
    host: '127.0.0.1',
    port: options.port ?? 0,
    allowedOrigins: [],
  });
  const latchkey = await createLatchkey({
    config,
    store: createMemoryStore(),
    secret: options.secret,
    logger: createLogger({ level: logLevel }),
    ...(options.hasher === undefined ? {} : { hasher: options.hasher }),
  });
  const credentials: Record<string, ClientCredentials> = {};
  try {
    const clients = createClientService(latchkey);
    for (const [key, seed] of Object.entries(options.clients)) {
      const { client, secret } = await clients.create({
        name: seed.name,
        scopes: [...seed.scopes],
        audiences: [...seed.audiences],
      });
      credentials[key] = { clientId: client.id, clientSecret: secret };
    }
  } catch (error) {
    await latchkey.close();
    throw error;
  }
  const app = createHTTPServer(latchkey);
  try {
    await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  } catch (error) {
    await latchkey.close();
    throw error;
  }
  latchkey.startBackgroundTasks();
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    latchkey,
    credentials,
    async close() {
      // The revocation feed keeps SSE streams open: drop them so that close() does not wait.
      const closing = app.close();
      app.server.closeAllConnections();
      await closing;
      await latchkey.close();
    },
  };
}
