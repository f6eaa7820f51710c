import { AUDIT_VARIABLES } from './audit.js';
import { METRICS_VARIABLES } from './metrics.js';
import { PAGES_VARIABLES } from './pages.js';
import { WEBAUTHN_VARIABLES } from './webauthn.js';
import { MAIL_VARIABLES } from './mail.js';

export interface ConfigVariable {
  name: string;
  default: string;
  description: string;
}

/** The core server's variables, in the order the README's table lists them. */
export const SERVER_VARIABLES: readonly ConfigVariable[] = [
  { name: 'PORT', default: '8080', description: 'TCP port to listen on.' },
  {
    name: 'HOST',
    default: '127.0.0.1',
    description: 'Address to bind; `0.0.0.0` to listen on every interface.',
  },
  {
    name: 'LATCHKEY_ISSUER',
    default: 'http://localhost:PORT',
    description: 'Public base URL; the `iss` of tokens and the origin that may send unsafe requests.',
  },
  { name: 'LATCHKEY_AUDIENCE', default: 'the issuer', description: 'Default `aud` of access tokens.' },
  {
    name: 'LATCHKEY_SECRET',
    default: 'generated into the data directory',
    description:
      'Master secret (at least 32 characters) that encrypts signing keys and keys CSRF tokens. Set it in production.',
  },
  { name: 'LATCHKEY_DATA_DIR', default: './.latchkey', description: 'Data directory of the embedded store.' },
  {
    name: 'DATABASE_URL',
    default: '(unset)',
    description:
      '`postgres://...`: use PostgreSQL instead of the embedded store; `mysql://...` or `mariadb://...`: MySQL 8 or MariaDB 10.11+.',
  },
  {
    name: 'REDIS_URL',
    default: '(unset)',
    description:
      '`redis://...` (or `rediss://`): sessions, tokens and counters in Redis; without `DATABASE_URL`, users and keys too. A Redis Cluster: `redis+cluster://host:port,host:port` (or `rediss+cluster://`).',
  },
  {
    name: 'LATCHKEY_REDIS_PREFIX',
    default: 'latchkey',
    description:
      'Prefix of every Redis key, and of the revocation pub/sub channel (`<prefix>:revocations` unless `latchkey`); give each deployment that shares one Redis its own.',
  },
  {
    name: 'LATCHKEY_REDIS_ALLOW_VOLATILE',
    default: 'false',
    description:
      'With `REDIS_URL` alone, Latchkey refuses a Redis that does not persist (it would forget revocations at a restart); `true` runs anyway (tests, development).',
  },
  {
    name: 'LATCHKEY_STORE',
    default: 'auto',
    description:
      '`sqlite` or `pglite`: that embedded store in the data directory; `memory` keeps everything in memory (demos only). `auto`: from `DATABASE_URL` and `REDIS_URL`, else SQLite (PGlite where the data directory already holds a PGlite database).',
  },
  {
    name: 'LATCHKEY_MIGRATE',
    default: 'true',
    description: 'Apply pending migrations at start; `false` refuses to start while any are pending.',
  },
  {
    name: 'LATCHKEY_SESSION_IDLE_TIMEOUT',
    default: '30m',
    description: 'Cookie session idle timeout (sliding).',
  },
  {
    name: 'LATCHKEY_SESSION_ABSOLUTE_TIMEOUT',
    default: '12h',
    description: 'Cookie session absolute lifetime.',
  },
  {
    name: 'LATCHKEY_SESSION_CACHE',
    default: 'auto',
    description:
      'Near cache of session and user reads (e.g. `5s`, at most `1m`; `0` = off). `auto` (the default): 60 s wherever it can be kept right, i.e. on memory, SQLite and PGlite (only this process writes them) and on Postgres and Redis, where the revocation channel (LISTEN/NOTIFY, pub/sub) empties it on every node and it is bypassed while the channel is down; off, with a warning, on MySQL alone (no channel; add REDIS_URL). See docs/deploying.md.',
  },
  { name: 'LATCHKEY_ACCESS_TOKEN_TTL', default: '15m', description: 'Access token lifetime.' },
  { name: 'LATCHKEY_REFRESH_IDLE_TTL', default: '7d', description: 'Refresh token idle lifetime.' },
  {
    name: 'LATCHKEY_REFRESH_ABSOLUTE_TTL',
    default: '30d',
    description: 'Refresh token family absolute lifetime.',
  },
  {
    name: 'LATCHKEY_REFRESH_GRACE',
    default: '10s',
    description: 'Window in which a just-rotated refresh token returns the same successor.',
  },
  {
    name: 'LATCHKEY_REFRESH_LIMIT_IP',
    default: '600',
    description:
      'Refreshes per minute from one client address (IPv6: its /64), all its sessions together; then 429. Raise it for a backend-for-frontend or a large NAT; `0` = no limit.',
  },
  {
    name: 'LATCHKEY_REFRESH_LIMIT_SESSION',
    default: '100',
    description:
      'Refreshes per 10 minutes of one session (a refresh loop); then 429. `0` = no limit (load tests).',
  },
  {
    name: 'LATCHKEY_JWT_ALG',
    default: 'EdDSA',
    description: 'Signing algorithm: EdDSA, ES256, RS256 or HS256.',
  },
  { name: 'LATCHKEY_KEY_ROTATION', default: '30d', description: 'Signing key rotation interval.' },
  { name: 'LATCHKEY_CLOCK_TOLERANCE', default: '30s', description: 'Leeway for `exp`, `nbf` and `iat`.' },
  {
    name: 'LATCHKEY_ALLOWED_ORIGINS',
    default: '(none)',
    description: 'Comma-separated origins allowed for CORS with credentials and cross-site unsafe requests.',
  },
  {
    name: 'LATCHKEY_TRUSTED_PROXIES',
    default: '(none)',
    description: 'Comma-separated IPs/CIDRs whose `X-Forwarded-For` is trusted for the client IP.',
  },
  {
    name: 'LATCHKEY_INSECURE_COOKIES',
    default: 'false',
    description: 'Development over plain HTTP only: drop `Secure` and the `__Host-` prefix.',
  },
  {
    name: 'LOG_LEVEL',
    default: 'info',
    description:
      'pino level: fatal, error, warn, info, debug, trace, silent. `info` logs security events; `debug` adds one line per request.',
  },
];

/**
 * Every documented environment variable. A feature with settings of its own keeps them in its own
 * module of this folder (its variables and its loader) and adds its list here.
 */
export const CONFIG_VARIABLES: readonly ConfigVariable[] = [
  ...SERVER_VARIABLES,
  ...MAIL_VARIABLES,
  ...PAGES_VARIABLES,
  ...METRICS_VARIABLES,
  ...WEBAUTHN_VARIABLES,
  ...AUDIT_VARIABLES,
];
