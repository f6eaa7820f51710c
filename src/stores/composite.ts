/**
 * A store made of two: a durable one for what must survive and a hot one for what is read and
 * written on every request and dies young.
 *
 * - `durable` (Postgres, PGlite): users, signing keys and machine clients. Losing them means locked-out accounts
 *   and tokens that no longer verify, so they belong where a Redis flush or eviction cannot reach.
 *   One-time tokens too, although they die young: the flow that issues one (a reset link, a
 *   verification link) will write the mail that carries it to an outbox in the same transaction
 *   as the token, and both belong to the SQL side; a link that was mailed must also still work
 *   after a Redis flush.
 * - `hot` (Redis): sessions, refresh tokens and counters. They are touched on every
 *   authenticated request, expire within hours or days, and losing them is recoverable (users
 *   sign in again; counters restart).
 * - Revocations: durable. Losing a session or a refresh family signs its holder out, but losing a
 *   revocation brings a revoked access token back to life until it expires (a Redis restart
 *   without persistence would do that). They are written at logout and read only by the feeds
 *   (catch-up and resync), never on a request's path, so the SQL round trip costs little.
 *
 * - The mail outbox: durable, next to the one-time tokens, so that a mail and its token are written
 *   in one SQL transaction.
 *
 * It is a plain delegation table: no method spans both stores, so there is nothing to coordinate.
 */

import type { Store } from '../store.js';
import { storeTransferOf, withStoreTransfer } from '../store-transfer.js';

/**
 * Combines a durable store (users, signing keys, clients, one-time tokens) and a hot store (sessions,
 * refresh tokens, counters, revocations) into one `Store` of kind `<durable.kind>+<hot.kind>`. `ping` and
 * `close` act on both.
 *
 * @example
 * const store = createCompositeStore({
 *   durable: await openPostgresStore({ url: process.env.DATABASE_URL ?? '' }),
 *   hot: await openRedisStore({ url: process.env.REDIS_URL ?? '' }),
 * });
 */
export function createCompositeStore(stores: { durable: Store; hot: Store }): Store {
  const { durable, hot } = stores;
  const store: Store = {
    kind: `${durable.kind}+${hot.kind}`,

    async ping(): Promise<void> {
      await Promise.all([durable.ping(), hot.ping()]);
    },
    async close(): Promise<void> {
      const results = await Promise.allSettled([durable.close(), hot.close()]);
      for (const result of results) if (result.status === 'rejected') throw result.reason;
    },

    // Users, signing keys and machine clients: durable.
    createUser: (user) => durable.createUser(user),
    getUserById: (id) => durable.getUserById(id),
    getUserByEmail: (email) => durable.getUserByEmail(email),
    updateUser: (id, patch) => durable.updateUser(id, patch),
    listUsers: (options) => durable.listUsers(options),
    listKeys: () => durable.listKeys(),
    insertKey: (key) => durable.insertKey(key),
    updateKey: (kid, patch) => durable.updateKey(kid, patch),
    deleteKey: (kid) => durable.deleteKey(kid),
    createClient: (client) => durable.createClient(client),
    getClient: (id) => durable.getClient(id),
    listClients: (options) => durable.listClients(options),
    updateClient: (id, patch) => durable.updateClient(id, patch),

    // One-time tokens: durable, next to the mail outbox that delivers them (see the header).
    putOneTimeToken: (token) => durable.putOneTimeToken(token),
    consumeOneTimeToken: (id, purpose, now) => durable.consumeOneTimeToken(id, purpose, now),
    deleteOneTimeTokens: (subject, purpose) => durable.deleteOneTimeTokens(subject, purpose),
    countOneTimeTokens: (subject, purpose, now) => durable.countOneTimeTokens(subject, purpose, now),
    deleteExpiredOneTimeTokens: (now) => durable.deleteExpiredOneTimeTokens(now),

    // Second factors: durable, like the users they belong to.
    createFactor: (factor) => durable.createFactor(factor),
    listFactors: (userId) => durable.listFactors(userId),
    confirmFactor: (userId, id, at) => durable.confirmFactor(userId, id, at),
    useFactorStep: (userId, id, step, at) => durable.useFactorStep(userId, id, step, at),
    deleteFactor: (userId, id) => durable.deleteFactor(userId, id),

    // Passkeys: durable, like the users they sign in.
    createPasskey: (passkey) => durable.createPasskey(passkey),
    getPasskey: (id) => durable.getPasskey(id),
    listPasskeys: (userId) => durable.listPasskeys(userId),
    usePasskey: (id, use) => durable.usePasskey(id, use),
    renamePasskey: (userId, id, name) => durable.renamePasskey(userId, id, name),
    deletePasskey: (userId, id) => durable.deletePasskey(userId, id),
    // Revocations: durable (see the header).
    addRevocation: (record) => durable.addRevocation(record),
    listRevocations: (options) => durable.listRevocations(options),
    deleteExpiredRevocations: (now) => durable.deleteExpiredRevocations(now),
    // The mail outbox: durable, in the same transaction as the token its link carries.
    queueMail: (mail, options) => durable.queueMail(mail, options),
    claimMails: (options) => durable.claimMails(options),
    settleMail: (id, claimant, outcome) => durable.settleMail(id, claimant, outcome),
    getMail: (id) => durable.getMail(id),
    listMails: (options) => durable.listMails(options),
    deleteExpiredMails: (now) => durable.deleteExpiredMails(now),
    // The audit trail and the webhooks' queue: durable (an operator's record; nothing lost across a restart).
    addAuditRecord: (record) => durable.addAuditRecord(record),
    listAuditRecords: (options) => durable.listAuditRecords(options),
    deleteExpiredAuditRecords: (now) => durable.deleteExpiredAuditRecords(now),
    createWebhookEndpoint: (endpoint) => durable.createWebhookEndpoint(endpoint),
    getWebhookEndpoint: (id) => durable.getWebhookEndpoint(id),
    listWebhookEndpoints: () => durable.listWebhookEndpoints(),
    deleteWebhookEndpoint: (id) => durable.deleteWebhookEndpoint(id),
    queueWebhookDeliveries: (deliveries) => durable.queueWebhookDeliveries(deliveries),
    claimWebhookDeliveries: (options) => durable.claimWebhookDeliveries(options),
    settleWebhookDelivery: (id, claimant, outcome) => durable.settleWebhookDelivery(id, claimant, outcome),
    getWebhookDelivery: (id) => durable.getWebhookDelivery(id),
    listWebhookDeliveries: (options) => durable.listWebhookDeliveries(options),
    deleteExpiredWebhookDeliveries: (now) => durable.deleteExpiredWebhookDeliveries(now),

    // Sessions, refresh tokens and counters: hot.
    createSession: (session) => hot.createSession(session),
    getSession: (id) => hot.getSession(id),
    touchSession: (id, update) => hot.touchSession(id, update),
    revokeSession: (id, at) => hot.revokeSession(id, at),
    revokeUserSessions: (userId, at, options) => hot.revokeUserSessions(userId, at, options),
    listUserSessions: (userId, now) => hot.listUserSessions(userId, now),
    deleteExpiredSessions: (now) => hot.deleteExpiredSessions(now),
    createRefreshToken: (token) => hot.createRefreshToken(token),
    getRefreshToken: (id) => hot.getRefreshToken(id),
    rotateRefreshToken: (oldId, successor, at) => hot.rotateRefreshToken(oldId, successor, at),
    increment: (key, ttlMs, now) => hot.increment(key, ttlMs, now),
    getCounter: (key, now) => hot.getCounter(key, now),
    deleteCounter: (key) => hot.deleteCounter(key),
  };
  // Sessions and refresh tokens are read out of the hot store; revocations go to the durable one.
  const hotTransfer = storeTransferOf(hot);
  const durableTransfer = storeTransferOf(durable);
  return withStoreTransfer(
    store,
    hotTransfer === null || durableTransfer === null
      ? null
      : {
          exportSessions: (options) => hotTransfer.exportSessions(options),
          exportRefreshTokens: (ids) => hotTransfer.exportRefreshTokens(ids),
          importRevocation: (record) => durableTransfer.importRevocation(record),
        },
  );
}

/**
 * Moves the live revocations an older Latchkey kept in the hot store (Redis) to the durable one,
 * each under its own `seq`, so that no revocation is forgotten and the feed positions resource
 * services hold stay valid (the durable store's next `seq` is then past every one of them).
 * Idempotent: a record already moved is `present`. Answers how many were moved and how many
 * clashed with a different record at the same `seq` (written by an old node during a rolling
 * upgrade; kept out, and worth a warning).
 *
 * @example
 * const { moved, clashes } = await adoptHotRevocations({ durable, hot }, Date.now());
 */
export async function adoptHotRevocations(
  stores: { durable: Store; hot: Store },
  now: number,
): Promise<{ moved: number; clashes: number }> {
  const transfer = storeTransferOf(stores.durable);
  if (transfer === null) return { moved: 0, clashes: 0 };
  let moved = 0;
  let clashes = 0;
  let afterSeq = 0;
  for (;;) {
    const page = await stores.hot.listRevocations({ now, afterSeq, limit: 500 });
    for (const record of page) {
      const outcome = await transfer.importRevocation(record);
      if (outcome === 'created') moved += 1;
      if (outcome === 'conflict') clashes += 1;
      afterSeq = Math.max(afterSeq, record.seq);
    }
    if (page.length < 500) return { moved, clashes };
  }
}
