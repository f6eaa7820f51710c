import { loadAuditConfig, type AuditConfig } from './audit.js';
import { parseDuration } from './duration.js';
import { boolean, ConfigError, count, duration, list, origin, read, type Env } from './env.js';
import { loadMailConfig, type MailConfig } from './mail.js';
import type { KeyAlgorithm } from '../records.js';
import { loadPagesConfig, type PagesConfig } from './pages.js';
import { loadMetricsConfig, type MetricsConfig } from './metrics.js';
import { loadWebAuthnConfig, type WebAuthnConfig } from './webauthn.js';
import { isRedisURL, parseRedisClusterURL, REDIS_URL_SCHEMES } from '../lib/redis-url.js';

/** What `LATCHKEY_STORE` may say. */
export type StoreSetting = 'auto' | 'memory' | 'sqlite' | 'pglite';

const STORE_SETTINGS: readonly StoreSetting[] = ['auto', 'memory', 'sqlite', 'pglite'];

/** The server's whole configuration, validated. Every duration is in milliseconds. */
export interface LatchkeyConfig {
  host: string;
  port: number;
  /** Public base URL of this server; also the `iss` of its tokens and its own origin for CSRF checks. */
  issuer: string;
  /** `aud` of access tokens for first-party use. */
  audience: string;
  dataDir: string;
  /** Master secret from LATCHKEY_SECRET; null means "generate or load one in the data directory". */
  secret: string | null;
  databaseURL: string | null;
  redisURL: string | null;
  /** Prefix of every Redis key this server writes (several deployments may share one Redis). */
  redisPrefix: string;
  /** With Redis alone: run even on a Redis that does not persist (LATCHKEY_REDIS_ALLOW_VOLATILE). */
  redisAllowVolatile: boolean;
  /**
   * `memory` for demos and tests; `sqlite` or `pglite` for that embedded store in the data
   * directory; `auto` chooses from the URLs (the embedded store when neither is set: SQLite, or
   * PGlite where an existing data directory holds one).
   */
  store: StoreSetting;
  migrateOnStart: boolean;
  sessionIdleTimeout: number;
  sessionAbsoluteTimeout: number;
  /** Minimum interval between two writes of a session's sliding expiry. */
  sessionTouchInterval: number;
  /**
   * Longest time a node serves a session and its user from its near cache (ms); 0 = off, every
   * authenticated request reads the store; null = automatic (on for a store only this process
   * writes, off for a shared one).
   */
  sessionCache: number | null;
  accessTokenTTL: number;
  refreshIdleTTL: number;
  refreshAbsoluteTTL: number;
  refreshGrace: number;
  /** Refreshes per minute from one client address (IPv6: its /64), all sessions together; 0 = no limit. */
  refreshLimitPerClient: number;
  /** Refreshes per 10 minutes of one session (token family); 0 = no limit. */
  refreshLimitPerSession: number;
  jwtAlgorithm: KeyAlgorithm;
  keyRotationInterval: number;
  clockTolerance: number;
  /** Origins (scheme://host[:port]) allowed to make credentialed cross-origin requests. */
  allowedOrigins: string[];
  /** Proxies whose X-Forwarded-For is believed: IPs or CIDRs. */
  trustedProxies: string[];
  logLevel: string;
  /** Send cookies without `Secure` and without the `__Host-` prefix: only for plain-HTTP development. */
  insecureCookies: boolean;
  sweepInterval: number;
  /** The sign-in and account pages (`./pages.ts`). */
  pages: PagesConfig;
  /** Prometheus metrics (`./metrics.ts`). */
  metrics: MetricsConfig;
  /** Passkeys: relying-party id and origins (`./webauthn.ts`). */
  webauthn: WebAuthnConfig;
  /** Mail, and the flows that send it (`./mail.ts`). */
  mail: MailConfig;
  /** The audit trail (`./audit.ts`). */
  audit: AuditConfig;
}

export { ConfigError } from './env.js';
export { CONFIG_VARIABLES, type ConfigVariable } from './variables.js';

const MAX_SESSION_CACHE = 60_000;

function sessionCache(env: Env): number | null {
  const text = read(env, 'LATCHKEY_SESSION_CACHE');
  if (text === undefined || /^auto$/i.test(text)) return null;
  if (/^(0|off)$/i.test(text)) return 0;
  const ms = parseDuration(text);
  if (ms === null)
    throw new ConfigError(
      'LATCHKEY_SESSION_CACHE',
      `"${text}" is not a duration (examples: 2s, 5s, 500ms), auto or 0`,
    );
  if (ms > MAX_SESSION_CACHE) throw new ConfigError('LATCHKEY_SESSION_CACHE', 'must be at most 1m');
  return ms;
}

const ALGORITHMS: readonly KeyAlgorithm[] = ['EdDSA', 'ES256', 'RS256', 'HS256'];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * `LATCHKEY_STORE`. An embedded store keeps everything in the data directory: with a
 * `DATABASE_URL` or `REDIS_URL` set as well, which one is meant is unclear, so it is refused.
 */
function storeSetting(env: Env, databaseURL: string | null, redisURL: string | null): StoreSetting {
  const text = read(env, 'LATCHKEY_STORE') ?? 'auto';
  const setting = STORE_SETTINGS.find((candidate) => candidate === text);
  if (setting === undefined) {
    throw new ConfigError('LATCHKEY_STORE', `"${text}" is not one of ${STORE_SETTINGS.join(', ')}`);
  }
  if ((setting === 'sqlite' || setting === 'pglite') && (databaseURL !== null || redisURL !== null)) {
    throw new ConfigError(
      'LATCHKEY_STORE',
      `"${setting}" keeps everything in the data directory: unset DATABASE_URL and REDIS_URL, or use auto`,
    );
  }
  return setting;
}

/** `REDIS_URL`: a standalone Redis or a Redis Cluster (`redis+cluster://host:port,host:port`). */
function checkRedisURL(url: string): void {
  if (!isRedisURL(url)) throw new ConfigError('REDIS_URL', `must start with ${REDIS_URL_SCHEMES}`);
  try {
    parseRedisClusterURL(url);
  } catch (error) {
    throw new ConfigError('REDIS_URL', error instanceof Error ? error.message : 'is not a Redis Cluster URL');
  }
}

/** Reads and validates the configuration; throws a ConfigError that names the bad variable. */
export function loadConfig(env: Env = process.env): LatchkeyConfig {
  const portText = read(env, 'PORT') ?? '8080';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 0 || port > 65535) {
    throw new ConfigError('PORT', `"${portText}" is not a port number (0-65535)`);
  }
  const issuerText = read(env, 'LATCHKEY_ISSUER') ?? `http://localhost:${port}`;
  origin('LATCHKEY_ISSUER', issuerText);
  const issuer = issuerText.replace(/\/+$/, '');

  const secret = read(env, 'LATCHKEY_SECRET') ?? null;
  if (secret !== null && secret.length < 32) {
    throw new ConfigError(
      'LATCHKEY_SECRET',
      'must be at least 32 characters (use `openssl rand -base64 32`)',
    );
  }
  const databaseURL = read(env, 'DATABASE_URL') ?? null;
  if (databaseURL !== null && !/^(postgres(ql)?|mysql|mariadb):\/\//.test(databaseURL)) {
    throw new ConfigError(
      'DATABASE_URL',
      'must start with postgres://, postgresql://, mysql:// or mariadb://',
    );
  }
  const redisURL = read(env, 'REDIS_URL') ?? null;
  if (redisURL !== null) checkRedisURL(redisURL);
  const redisPrefix = read(env, 'LATCHKEY_REDIS_PREFIX') ?? 'latchkey';
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(redisPrefix)) {
    // No `{` or `}`: the Redis store adds the Cluster hash tags itself.
    throw new ConfigError('LATCHKEY_REDIS_PREFIX', `"${redisPrefix}" must be 1 to 64 of A-Z a-z 0-9 _ . : -`);
  }
  const storeText = storeSetting(env, databaseURL, redisURL);
  const alg = read(env, 'LATCHKEY_JWT_ALG') ?? 'EdDSA';
  if (!ALGORITHMS.includes(alg as KeyAlgorithm)) {
    throw new ConfigError('LATCHKEY_JWT_ALG', `"${alg}" is not one of ${ALGORITHMS.join(', ')}`);
  }
  const logLevel = read(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `"${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
  const allowedOrigins = list(env, 'LATCHKEY_ALLOWED_ORIGINS').map((item) => {
    if (item === 'null' || item === '*')
      throw new ConfigError('LATCHKEY_ALLOWED_ORIGINS', `"${item}" is never allowed`);
    return origin('LATCHKEY_ALLOWED_ORIGINS', item);
  });
  const trustedProxies = list(env, 'LATCHKEY_TRUSTED_PROXIES');
  for (const proxy of trustedProxies) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(proxy)) {
      throw new ConfigError('LATCHKEY_TRUSTED_PROXIES', `"${proxy}" is not an IP address or CIDR`);
    }
  }

  const config: LatchkeyConfig = {
    host: read(env, 'HOST') ?? '127.0.0.1',
    port,
    issuer,
    audience: read(env, 'LATCHKEY_AUDIENCE') ?? issuer,
    dataDir: read(env, 'LATCHKEY_DATA_DIR') ?? './.latchkey',
    secret,
    databaseURL,
    redisURL,
    redisPrefix,
    redisAllowVolatile: boolean(env, 'LATCHKEY_REDIS_ALLOW_VOLATILE', false),
    store: storeText,
    migrateOnStart: boolean(env, 'LATCHKEY_MIGRATE', true),
    sessionIdleTimeout: duration(env, 'LATCHKEY_SESSION_IDLE_TIMEOUT', '30m'),
    sessionAbsoluteTimeout: duration(env, 'LATCHKEY_SESSION_ABSOLUTE_TIMEOUT', '12h'),
    sessionTouchInterval: 60_000,
    sessionCache: sessionCache(env),
    accessTokenTTL: duration(env, 'LATCHKEY_ACCESS_TOKEN_TTL', '15m'),
    refreshIdleTTL: duration(env, 'LATCHKEY_REFRESH_IDLE_TTL', '7d'),
    refreshAbsoluteTTL: duration(env, 'LATCHKEY_REFRESH_ABSOLUTE_TTL', '30d'),
    refreshGrace: duration(env, 'LATCHKEY_REFRESH_GRACE', '10s'),
    refreshLimitPerClient: count(env, 'LATCHKEY_REFRESH_LIMIT_IP', 600),
    refreshLimitPerSession: count(env, 'LATCHKEY_REFRESH_LIMIT_SESSION', 100),
    jwtAlgorithm: alg as KeyAlgorithm,
    keyRotationInterval: duration(env, 'LATCHKEY_KEY_ROTATION', '30d'),
    clockTolerance: duration(env, 'LATCHKEY_CLOCK_TOLERANCE', '30s'),
    allowedOrigins,
    trustedProxies,
    logLevel,
    insecureCookies: boolean(env, 'LATCHKEY_INSECURE_COOKIES', false),
    sweepInterval: 5 * 60_000,
    pages: loadPagesConfig(env),
    metrics: loadMetricsConfig(env),
    webauthn: loadWebAuthnConfig(env, issuer),
    mail: loadMailConfig(env, issuer),
    audit: loadAuditConfig(env),
  };
  if (config.sessionIdleTimeout > config.sessionAbsoluteTimeout) {
    throw new ConfigError(
      'LATCHKEY_SESSION_IDLE_TIMEOUT',
      'must not exceed LATCHKEY_SESSION_ABSOLUTE_TIMEOUT',
    );
  }
  if (config.refreshIdleTTL > config.refreshAbsoluteTTL) {
    throw new ConfigError('LATCHKEY_REFRESH_IDLE_TTL', 'must not exceed LATCHKEY_REFRESH_ABSOLUTE_TTL');
  }
  if (config.accessTokenTTL > 24 * 3_600_000) {
    throw new ConfigError(
      'LATCHKEY_ACCESS_TOKEN_TTL',
      'must be at most 24h: access tokens are meant to be short',
    );
  }
  return config;
}

/** A configuration for tests and embedding: defaults, with overrides. */
export function defaultConfig(overrides: Partial<LatchkeyConfig> = {}): LatchkeyConfig {
  const config = { ...loadConfig({}), ...overrides };
  // Passkeys follow the issuer unless set: an overridden issuer brings its own RP id and origin.
  return { ...config, webauthn: overrides.webauthn ?? loadWebAuthnConfig({}, config.issuer) };
}
