/**
 * The composition root of the core: every service of a Latchkey instance is built here, over a
 * store the caller opened (`./stores.ts`), and nothing about HTTP. `./open.ts` adds the store and
 * the revocation channels a configuration selects; `src/cli/serve.ts` adds the HTTP server.
 */

import type { AuditLog } from '../audit/audit.js';
import { createClientService, type ClientService } from '../clients/clients.js';
import { systemClock, type Clock } from '../clock.js';
import type { LatchkeyConfig } from '../config/config.js';
import { createKeyring, type Keyring } from '../keys/keyring.js';
import { deriveKey } from '../lib/secrets.js';
import { createLogger, type Logger } from '../log.js';
import { createOutbox, type Outbox } from '../outbox/outbox.js';
import type { MailTransport } from '../outbox/transport.js';
import { createPasswordHasher, type PasswordHasher } from '../password/hash.js';
import { createRevocationRecorder, type RevocationRecorder } from '../revocation/revocations.js';
import type { SessionCache } from '../session/session-cache.js';
import { createSessionManager, type SessionManager, type SessionPolicy } from '../session/sessions.js';
import type { Store } from '../store.js';
import { createCredentialThrottle, type CredentialThrottle } from '../throttle/credential-throttle.js';
import { createLoginThrottle, type LoginThrottle } from '../throttle/login-throttle.js';
import { createMailThrottle } from '../throttle/mail-throttle.js';
import { createAccessTokenService, type AccessTokenServiceWithVerifier } from '../token/access-tokens.js';
import { createRefreshTokenManager, type RefreshTokenManager } from '../token/refresh-tokens.js';
import { createAuthService, type AuthService } from '../use-cases/index.js';
import type { RevocationFeed } from '../verify/feed.js';
import { createMailWorker, type MailWorker, type MailWorkerOptions } from './mail-worker.js';
import { createMaintenance } from './maintenance.js';
import { createOperations } from './operations.js';
import type { WebhookWorker, WebhookWorkerOptions } from './webhook-worker.js';
import type { WebhookTransport } from '../webhooks/transport.js';
import type { WebhookService } from '../webhooks/webhooks.js';
import { connectSessionCache, createConfiguredSessionCache } from './session-cache.js';

/** A running Latchkey core: everything the HTTP layer and the CLI need, and nothing about HTTP. */
export interface Latchkey {
  config: LatchkeyConfig;
  store: Store;
  clock: Clock;
  logger: Logger;
  /** The use cases: every route makes one call here. */
  auth: AuthService;
  sessions: SessionManager;
  refreshTokens: RefreshTokenManager;
  accessTokens: AccessTokenServiceWithVerifier;
  keyring: Keyring;
  revocations: RevocationRecorder;
  /** Machine clients: client credentials, introspection, feed authentication. */
  clients: ClientService;
  /** The near cache of session and user reads (`LATCHKEY_SESSION_CACHE`), or null when off. */
  sessionCache: SessionCache | null;
  csrfKey: Buffer;
  /** Queues mails (with their tokens) in the store. */
  outbox: Outbox;
  /** Sends queued mails; started by {@link startBackgroundTasks}. */
  mailWorker: MailWorker;
  /** The audit trail: keeps every security event the logger sees (`../audit/audit.ts`). */
  audit: AuditLog;
  /** Webhook endpoints, and the queueing of their deliveries (`../webhooks/webhooks.ts`). */
  webhooks: WebhookService;
  /** Sends queued webhook deliveries; started by {@link startBackgroundTasks}. */
  webhookWorker: WebhookWorker;
  /** Runs periodic work (sweeping, key rotation) until `close()`. */
  startBackgroundTasks(): void;
  /** Sweeps expired sessions, revocations and one-time tokens, and maintains keys, once. */
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
   * the store (Redis pub/sub or Postgres NOTIFY; see `./channels.ts`). Started here and closed
   * by `close()`. Without it, the cache runs only on a store no other process writes (memory,
   * PGlite) and stays off otherwise.
   */
  sessionCacheFeed?: RevocationFeed;
  /** Where mails go (default: from the configuration, SMTP or the outbox directory). */
  mailTransport?: MailTransport;
  /** Where webhooks go (default: `fetch`, `../webhooks-http/`). */
  webhookTransport?: WebhookTransport;
  /** Timing of the webhook worker (tests shorten it). */
  webhookWorker?: Partial<
    Pick<WebhookWorkerOptions, 'pollIntervalMs' | 'leaseMs' | 'retryDelayMs' | 'maxRetryDelayMs'>
  >;
  /** Timing of the mail worker (tests shorten it). */
  mailWorker?: Partial<
    Pick<MailWorkerOptions, 'pollIntervalMs' | 'leaseMs' | 'retryDelayMs' | 'maxRetryDelayMs'>
  >;
}

function sessionPolicies(config: LatchkeyConfig): Record<'cookie' | 'token' | 'hybrid', SessionPolicy> {
  const cookie = {
    idleTimeout: config.sessionIdleTimeout,
    absoluteTimeout: config.sessionAbsoluteTimeout,
    touchInterval: config.sessionTouchInterval,
  };
  const refreshed = {
    idleTimeout: config.refreshIdleTTL,
    absoluteTimeout: config.refreshAbsoluteTTL,
    touchInterval: config.sessionTouchInterval,
  };
  return { cookie, token: refreshed, hybrid: refreshed };
}

/** The login throttle and the throttle of forged credentials and refresh floods. */
function createThrottles(options: {
  config: LatchkeyConfig;
  store: Store;
  clock: Clock;
  logger: Logger;
  master: Buffer;
}): { throttle: LoginThrottle; credentialThrottle: CredentialThrottle } {
  const { config, store, clock, logger, master } = options;
  const throttle = createLoginThrottle({
    counters: store,
    clock,
    deviceKey: deriveKey(master, 'device-cookie'),
    logger,
  });
  const credentialThrottle = createCredentialThrottle({
    counters: store,
    clock,
    logger,
    limits: { clientRefreshes: config.refreshLimitPerClient, familyRefreshes: config.refreshLimitPerSession },
  });
  return { throttle, credentialThrottle };
}

/**
 * Wires the core together on top of a store. Creates the first signing key if there is none.
 *
 * @example
 * const latchkey = await createLatchkey({ config: loadConfig(), store: createMemoryStore(), secret });
 */
export async function createLatchkey(options: CreateLatchkeyOptions): Promise<Latchkey> {
  const { config, store } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const master = Buffer.from(options.secret, 'utf8');
  const csrfKey = deriveKey(master, 'csrf');
  const feed = options.sessionCacheFeed;
  const operations = await createOperations({ config, store, clock, logger, master }, options);
  const { audit, webhooks, webhookWorker } = operations;
  const sessionCache = createConfiguredSessionCache({ config, storeKind: store.kind, clock, logger, feed });
  const cache = sessionCache ?? undefined;
  const sessions = createSessionManager({ store, clock, cache, policies: sessionPolicies(config) });
  const keyring = createKeyring({
    store,
    encryptionKey: deriveKey(master, 'signing-keys'),
    algorithm: config.jwtAlgorithm,
    clock,
    rotationIntervalMs: config.keyRotationInterval,
    accessTokenTtlMs: config.accessTokenTTL,
    logger,
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
  if (sessionCache !== null) connectSessionCache(sessionCache, { revocations, feed, logger });
  const { throttle, credentialThrottle } = createThrottles({ config, store, clock, logger, master });
  // Loaded only when needed, so that embedding Latchkey with its own transport never loads nodemailer.
  const mailTransport =
    options.mailTransport ?? (await import('../mail/index.js')).createConfiguredTransport(config);
  const mailWorker = createMailWorker({
    store,
    // The outbox is built next; the worker opens mails only once it runs.
    outbox: { open: (mail) => outbox.open(mail) },
    transport: mailTransport,
    clock,
    logger,
    ...options.mailWorker,
  });
  const outbox = createOutbox({
    store,
    clock,
    logger,
    key: deriveKey(master, 'mail'),
    productName: config.mail.productName,
    onQueued: () => mailWorker.kick(),
  });
  const auth = createAuthService({
    store,
    clock,
    logger,
    hasher: options.hasher ?? createPasswordHasher(),
    sessions,
    throttle,
    credentialThrottle,
    refreshTokens,
    accessTokens,
    revocations,
    csrfKey,
    factorKeys: { seal: deriveKey(master, 'totp-secrets'), recovery: deriveKey(master, 'recovery-codes') },
    totpIssuer: config.pages.brand,
    webauthn: { id: config.webauthn.rpId, name: config.pages.brand, origins: config.webauthn.origins },
    cache,
    mail: {
      outbox,
      throttle: createMailThrottle({ counters: store, clock }),
      settings: config.mail,
      baseURL: config.issuer,
      codeKey: deriveKey(master, 'signin-code'),
    },
  });
  const clients = createClientService({ store, clock, config, keyring, logger });
  const maintenance = createMaintenance({ store, keyring, clock, logger });

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
    clients,
    sessionCache,
    csrfKey,
    outbox,
    mailWorker,
    audit,
    webhooks,
    webhookWorker,
    maintain: () => maintenance.run(),
    startBackgroundTasks: () => {
      maintenance.start(config.sweepInterval);
      mailWorker.start();
      webhookWorker.start();
    },
    async close() {
      maintenance.stop();
      await mailWorker.stop();
      await operations.close();
      await mailTransport.close();
      if (sessionCache !== null) await feed?.close();
      await store.close();
    },
  };
}
