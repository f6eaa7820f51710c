/**
 * Latchkey: cookie sessions, JWT access tokens with rotating refresh tokens, and a hybrid of
 * the two, from one session record.
 *
 * This entry point is the core and the HTTP server; it loads no database driver. Stores live
 * at their own subpaths (`latchkey/stores/memory`, `latchkey/stores/pglite`, ...).
 *
 * @example
 * import { createLatchkey, createHTTPServer, loadConfig } from 'latchkey';
 * import { createMemoryStore } from 'latchkey/stores/memory';
 *
 * const latchkey = await createLatchkey({ config: loadConfig(), store: createMemoryStore(), secret });
 * await createHTTPServer(latchkey).listen({ port: 8080 });
 */
export { createLatchkey, type CreateLatchkeyOptions, type Latchkey } from './app/latchkey.js';
export type { AuthService, Principal } from './use-cases/index.js';
export type { PublicSession, PublicUser } from './http/documents.js';
export { createManualClock, systemClock, type Clock, type ManualClock } from './clock.js';
export {
  ConfigError,
  CONFIG_VARIABLES,
  defaultConfig,
  loadConfig,
  type LatchkeyConfig,
} from './config/config.js';
export { ERROR_CATALOGUE, isLatchkeyError, LatchkeyError, type ErrorCode } from './errors.js';
export { createHTTPServer } from './http/server.js';
export { createPasswordHasher, OWASP_ARGON2ID, type PasswordHasher } from './password/hash.js';
export {
  createAccessTokenVerifier,
  signAccessToken,
  type AccessTokenClaims,
  type AccessTokenVerifier,
  type AccessTokenVerifierOptions,
  type VerifiedAccessToken,
} from './token/jwt.js';
export type * from './records.js';
export type * from './store.js';
