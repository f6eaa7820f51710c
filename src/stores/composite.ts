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
 * - `hot` (Redis): sessions, refresh tokens, counters and revocations. They are touched on every
 *   authenticated request, expire within hours or days, and losing them is recoverable (users
 *   sign in again; counters restart; revocation records only matter for one access-token life).
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
    // The mail outbox: durable, in the same transaction as the token its link carries.
    queueMail: (mail, options) => durable.queueMail(mail, options),
    claimMails: (options) => durable.claimMails(options),
    settleMail: (id, claimant, outcome) => durable.settleMail(id, claimant, outcome),
    getMail: (id) => durable.getMail(id),
    listMails: (options) => durable.listMails(options),
    deleteExpiredMails: (now) => durable.deleteExpiredMails(now),

    // Sessions, refresh tokens, revocations and counters: hot.
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
    addRevocation: (record) => hot.addRevocation(record),
    listRevocations: (options) => hot.listRevocations(options),
    deleteExpiredRevocations: (now) => hot.deleteExpiredRevocations(now),
    increment: (key, ttlMs, now) => hot.increment(key, ttlMs, now),
    getCounter: (key, now) => hot.getCounter(key, now),
    deleteCounter: (key) => hot.deleteCounter(key),
  };
  // Sessions, refresh tokens and revocations are all hot: so is their transfer.
  return withStoreTransfer(store, storeTransferOf(hot));
}
