import { createAuthService, type AuthService } from './auth/auth-service.js';
import { systemClock, type Clock } from './clock.js';
import type { LatchkeyConfig } from './config/config.js';
import { createKeyring, type Keyring } from './keys/keyring.js';
import { deriveKey } from './lib/secrets.js';
import { createLogger, type Logger } from './log.js';
import { createPasswordHasher, type PasswordHasher } from './password/hash.js';
import { createRevocationRecorder, type RevocationRecorder } from './revocation/revocations.js';
import { createSessionCache, type SessionCache } from './session/session-cache.js';
import { createSessionManager, type SessionManager } from './session/sessions.js';
import type { Store } from './stores/types.js';
import { createLoginThrottle } from './throttle/login-throttle.js';
import { createAccessTokenService, type AccessTokenServiceWithVerifier } from './token/access-tokens.js';
import { createRefreshTokenManager, type RefreshTokenManager } from './token/refresh-tokens.js';
import type { RevocationFeed } from './verify/feed.js';

/** A running Latchkey core: everything the HTTP layer and the CLI need, and nothing about HTTP. */
export interface Latchkey {
  config: LatchkeyConfig;
  store: Store;
  clock: Clock;
  logger: Logger;
  auth: AuthService;
  sessions: SessionManager;
  refreshTokens: RefreshTokenManager;
  accessTokens: AccessTokenServiceWithVerifier;
  keyring: Keyring;
  revocations: RevocationRecorder;
  /** The near cache of session and user reads (`LATCHKEY_SESSION_CACHE`), or null when off. */
  sessionCache: SessionCache | null;
  csrfKey: Buffer;
  /** Runs periodic work (sweeping, key rotation) until `close()`. */
  startBackgroundTasks(): void;
  /** Sweeps expired sessions and revocations and maintains keys once. */
  maintain(): Promise<void>;
  close(): Promise<void>;
}

export interface CreateLatchkeyOptions {
  config: LatchkeyConfig;
  store: Store;
  /** The master secret (at least 32 characters). */
  secret: string;
  clock?: Clock;
  logger?: Logger;
  hasher?: PasswordHasher;
  /**
   * The revocation channel that keeps the near session cache right when other processes write
   * the store (Redis pub/sub or Postgres NOTIFY; see `src/stores/open.ts`). Started here and
   * closed by `close()`. Without it, the cache runs only on a store no other process writes
   * (memory, PGlite) and stays off otherwise.
   */
  sessionCacheFeed?: RevocationFeed;
}

/** Stores that only this process writes while it runs. */
const PROCESS_LOCAL_STORES = new Set(['memory', 'pglite']);
/** The near cache's max age when `LATCHKEY_SESSION_CACHE` is `auto` on a process-local store. */
export const AUTO_SESSION_CACHE_MS = 5_000;

/** Wires the core together on top of a store. Creates the first signing key if there is none. */
export async function createLatchkey(options: CreateLatchkeyOptions): Promise<Latchkey> {
  const { config, store } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const master = Buffer.from(options.secret, 'utf8');
  const csrfKey = deriveKey(master, 'csrf');

  const feed = options.sessionCacheFeed;
  let sessionCache: SessionCache | null = null;
  const processLocal = PROCESS_LOCAL_STORES.has(store.kind);
  // `auto` (null): on where every write goes through this process, so every revocation reaches
  // the cache before its response; off on a shared store unless asked for.
  const maxAge = config.sessionCache ?? (processLocal ? AUTO_SESSION_CACHE_MS : 0);
  if (maxAge > 0) {
    sessionCache = createSessionCache({
      maxAge,
      clock,
      live: feed === undefined && processLocal,
    });
    if (feed === undefined && !sessionCache.live) {
      logger.warn(
        { event: 'config.session_cache', store: store.kind },
        'LATCHKEY_SESSION_CACHE is set but this store is shared and no revocation channel is open: the cache stays off',
      );
    }
  }
  const sessions = createSessionManager({
    store,
    clock,
    cache: sessionCache ?? undefined,
    policies: {
      cookie: {
        idleTimeout: config.sessionIdleTimeout,
        absoluteTimeout: config.sessionAbsoluteTimeout,
        touchInterval: config.sessionTouchInterval,
      },
      token: {
        idleTimeout: config.refreshIdleTTL,
        absoluteTimeout: config.refreshAbsoluteTTL,
        touchInterval: config.sessionTouchInterval,
      },
      hybrid: {
        idleTimeout: config.refreshIdleTTL,
        absoluteTimeout: config.refreshAbsoluteTTL,
        touchInterval: config.sessionTouchInterval,
      },
    },
  });
  const keyring = createKeyring({
    store,
    encryptionKey: deriveKey(master, 'signing-keys'),
    algorithm: config.jwtAlgorithm,
    clock,
    rotationIntervalMs: config.keyRotationInterval,
    accessTokenTtlMs: config.accessTokenTTL,
  });
  await keyring.init();
  const accessTokens = createAccessTokenService({ config, keyring, clock });
  const refreshTokens = createRefreshTokenManager({
    store,
    clock,
    key: deriveKey(master, 'refresh-successor'),
    idleTTL: config.refreshIdleTTL,
    grace: config.refreshGrace,
  });
  const revocations = createRevocationRecorder({
    store,
    clock,
    retention: config.accessTokenTTL + config.clockTolerance,
  });
  if (sessionCache !== null) {
    const cache = sessionCache;
    // Revocations made here empty the cache before the request that made them answers.
    revocations.onRevocation((record) => cache.apply(record));
    feed?.start(
      (record) => cache.apply(record),
      (state) => {
        cache.setLive(state.status === 'live');
        if (state.status === 'disconnected') {
          logger.warn(
            { event: 'session_cache.channel_down', reason: state.reason },
            'revocation channel down: the session cache is bypassed until it is back',
          );
        }
      },
    );
  }
  const throttle = createLoginThrottle({
    counters: store,
    clock,
    deviceKey: deriveKey(master, 'device-cookie'),
  });
  const auth = createAuthService({
    store,
    clock,
    logger,
    hasher: options.hasher ?? createPasswordHasher(),
    sessions,
    throttle,
    refreshTokens,
    accessTokens,
    revocations,
    cache: sessionCache ?? undefined,
  });

  const timers: NodeJS.Timeout[] = [];
  async function maintain(): Promise<void> {
    const now = clock();
    const swept = await store.deleteExpiredSessions(now);
    const revocationsSwept = await store.deleteExpiredRevocations(now);
    await keyring.maintain();
    if (swept > 0 || revocationsSwept > 0) {
      logger.info(
        { event: 'sweep', sessions: swept, revocations: revocationsSwept },
        'swept expired records',
      );
    }
  }
  return {
    config,
    store,
    clock,
    logger,
    auth,
    sessions,
    refreshTokens,
    accessTokens,
    keyring,
    revocations,
    sessionCache,
    csrfKey,
    maintain,
    startBackgroundTasks() {
      const run = (): void => {
        maintain().catch((error: unknown) => {
          logger.warn({ err: error, event: 'maintenance.failed' }, 'maintenance failed; will retry');
        });
      };
      const timer = setInterval(run, Math.min(config.sweepInterval, 60_000));
      timer.unref();
      timers.push(timer);
    },
    async close() {
      for (const timer of timers) clearInterval(timer);
      if (sessionCache !== null) await feed?.close();
      await store.close();
    },
  };
}
