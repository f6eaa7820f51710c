/**
 * Key naming of the Redis store (the layout is documented in `./index.ts`).
 *
 * Every key carries a hash tag (`{...}`), and the keys that one Lua script touches share it, so
 * that every script runs on one Cluster slot. Inside a tag, ids are escaped (`%` → `%25`,
 * `{` → `%7B`, `}` → `%7D`) so that the tag always ends where the layout says. What follows the
 * tag (a kid, a purpose) needs no escaping: Redis hashes only the first `{...}` of a key.
 */

const TAG_ESCAPES: Record<string, string> = { '%': '%25', '{': '%7B', '}': '%7D' };
const TAG_SPECIAL = /[%{}]/;

/**
 * How many sweep buckets sessions are spread over (`P:{sweep:<n>}:sessions`). Fixed for good: a
 * session's bucket is found again from its id. 16 384 keeps each bucket under the 128 entries up
 * to which Redis stores a sorted set compactly (listpack, about 40 bytes an entry instead of 130)
 * until about two million sessions, and spreads the sweep over the slots of a Cluster.
 */
export const SWEEP_BUCKETS = 16_384;

/**
 * The sweep bucket of a session id, and the index bucket of a refresh token's id: FNV-1a (32
 * bits) of its UTF-8 bytes, modulo {@link SWEEP_BUCKETS}. Never change it: existing entries
 * would not be found again.
 *
 * @example
 * sweepBucket('s1'); // a number in [0, 16384)
 */
export function sweepBucket(id: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(id, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash % SWEEP_BUCKETS;
}

/**
 * Escapes a value for use inside a hash tag.
 *
 * @example
 * tagged('we{ird}'); // 'we%7Bird%7D'
 */
export function tagged(value: string): string {
  // Most ids have nothing to escape: a test is cheaper than a replace with a callback.
  return TAG_SPECIAL.test(value) ? value.replace(/[%{}]/g, (char) => TAG_ESCAPES[char] ?? char) : value;
}

/** The names of every key of one store, under its prefix. */
export interface RedisKeys {
  session(id: string): string;
  refreshTokens(sessionId: string): string;
  /** The index of tokens written before {@link RedisKeys.refreshTokenBucket} (read, never written). */
  refreshTokenIndex(id: string): string;
  /** The index bucket of token `id` (`./refresh-tokens.ts`): token id → session id. */
  refreshTokenBucket(id: string): string;
  retiredRefreshToken(id: string): string;
  userSessions(userId: string): string;
  /** A user agent that sessions name by its reference (`./user-agents.ts`). */
  userAgent(ref: string): string;
  user(id: string): string;
  email(email: string): string;
  readonly usersByEmail: string;
  key(kid: string): string;
  readonly keyIndex: string;
  readonly revocationSeq: string;
  readonly revocationLog: string;
  readonly revocationExpiry: string;
  counter(key: string): string;
  /** The sweep index of sessions written before it was split in buckets (read, never written). */
  readonly sweep: string;
  /** The sweep bucket `n` of sessions (see {@link sweepBucket}). */
  sweepBucket(n: number): string;
  client(id: string): string;
  readonly clientsById: string;
  oneTimeToken(id: string): string;
  oneTimeTokensOf(subject: string, purpose: string): string;
  readonly oneTimeTokenSweep: string;
  factors(userId: string): string;
  passkey(credentialId: string): string;
  passkeysOf(userId: string): string;
  mail(id: string): string;
  readonly mailsDue: string;
  readonly mailsByCreation: string;
  readonly mailSweep: string;
  readonly auditRecords: string;
  readonly auditAll: string;
  auditOf(userId: string): string;
  readonly auditSweep: string;
  webhook(id: string): string;
  readonly webhooks: string;
  webhookDelivery(id: string): string;
  webhookDeliveriesOf(endpointId: string): string;
  readonly webhookDeliveriesDue: string;
  readonly webhookDeliverySweep: string;
}

/**
 * The key names of a store whose prefix is `prefix` (already validated: no `{` or `}`).
 *
 * @example
 * redisKeys('latchkey').session('s1'); // 'latchkey:{s:s1}:session'
 */
export function redisKeys(prefix: string): RedisKeys {
  return {
    session: (id) => `${prefix}:{s:${tagged(id)}}:session`,
    refreshTokens: (sessionId) => `${prefix}:{s:${tagged(sessionId)}}:rt`,
    refreshTokenIndex: (id) => `${prefix}:{rt:${tagged(id)}}`,
    refreshTokenBucket: (id) => `${prefix}:{rti:${sweepBucket(id)}}`,
    retiredRefreshToken: (id) => `${prefix}:{rt:${tagged(id)}}:r`,
    userSessions: (userId) => `${prefix}:{u:${tagged(userId)}}:sessions`,
    userAgent: (ref) => `${prefix}:{ua:${tagged(ref)}}`,
    user: (id) => `${prefix}:{u:${tagged(id)}}:user`,
    email: (email) => `${prefix}:{e:${tagged(email)}}`,
    usersByEmail: `${prefix}:{users}:by-email`,
    key: (kid) => `${prefix}:{keys}:kid:${kid}`,
    keyIndex: `${prefix}:{keys}:index`,
    revocationSeq: `${prefix}:{rev}:seq`,
    revocationLog: `${prefix}:{rev}:log`,
    revocationExpiry: `${prefix}:{rev}:exp`,
    counter: (key) => `${prefix}:{c:${tagged(key)}}`,
    sweep: `${prefix}:{sweep}:sessions`,
    sweepBucket: (n) => `${prefix}:{sweep:${n}}:sessions`,
    client: (id) => `${prefix}:{cl:${tagged(id)}}:client`,
    clientsById: `${prefix}:{clients}:by-id`,
    oneTimeToken: (id) => `${prefix}:{ot:${tagged(id)}}`,
    oneTimeTokensOf: (subject, purpose) => `${prefix}:{ots:${tagged(subject)}}:${purpose}`,
    oneTimeTokenSweep: `${prefix}:{sweep}:one-time-tokens`,
    factors: (userId) => `${prefix}:{u:${tagged(userId)}}:factors`,
    passkey: (credentialId) => `${prefix}:{pk:${tagged(credentialId)}}`,
    passkeysOf: (userId) => `${prefix}:{u:${tagged(userId)}}:passkeys`,
    // The whole outbox shares one slot, so that each of its scripts runs on one key set.
    mail: (id) => `${prefix}:{mail}:m:${id}`,
    mailsDue: `${prefix}:{mail}:due`,
    mailsByCreation: `${prefix}:{mail}:all`,
    mailSweep: `${prefix}:{mail}:exp`,
    // The audit trail shares one slot (what follows the tag needs no escaping).
    auditRecords: `${prefix}:{audit}:records`,
    auditAll: `${prefix}:{audit}:all`,
    auditOf: (userId) => `${prefix}:{audit}:u:${userId}`,
    auditSweep: `${prefix}:{audit}:exp`,
    // Webhook endpoints and their delivery queue share one slot too.
    webhook: (id) => `${prefix}:{wh}:ep:${id}`,
    webhooks: `${prefix}:{wh}:endpoints`,
    webhookDelivery: (id) => `${prefix}:{wh}:d:${id}`,
    webhookDeliveriesOf: (endpointId) => `${prefix}:{wh}:of:${endpointId}`,
    webhookDeliveriesDue: `${prefix}:{wh}:due`,
    webhookDeliverySweep: `${prefix}:{wh}:exp`,
  };
}
