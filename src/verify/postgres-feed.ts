/**
 * The Postgres `LISTEN`/`NOTIFY` transport of the revocation feed (`latchkey/verify/postgres`):
 * `LISTEN`s, on a dedicated `pg.Client`, to the channel the auth server notifies
 * (`createPostgresRevocationPublisher`), and catches up from a snapshot on every
 * (re)connection.
 *
 * pg is loaded on demand (`import()`), so the SDK's main entry point never loads it.
 *
 * @see ./pubsub-feed.ts the engine: subscribe, catch up, live, reconnect
 * @see https://www.postgresql.org/docs/current/sql-listen.html
 */

import type { Client, Notification } from 'pg';
import {
  createPubSubFeed,
  type PubSubConnection,
  type PubSubFeedOptions,
  type PubSubRevocationFeed,
} from './pubsub-feed.js';

export {
  createHTTPRevocationSnapshot,
  type PubSubFeedOptions,
  type PubSubRevocationFeed,
  type RevocationSnapshot,
  type RevocationSnapshotFunction,
} from './pubsub-feed.js';

/** Options of {@link createPostgresRevocationFeed}. */
export interface PostgresRevocationFeedOptions extends PubSubFeedOptions {
  /** `postgres://` or `postgresql://` URL of the database the server notifies in. */
  url: string;
  /** The channel the server notifies (an identifier of at most 63 bytes; case matters). */
  channel: string;
  /** `application_name` of the listening connection. Default `latchkey-revocation-feed`. */
  applicationName?: string;
}

/**
 * Quotes a channel as an identifier for `LISTEN` (`pg_notify` takes it as text, unquoted).
 *
 * @example
 * quoteChannel('latchkey:revocations'); // "latchkey:revocations"
 */
export function quoteChannel(channel: string): string {
  return `"${channel.replace(/"/g, '""')}"`;
}

/** Throws unless `channel` can be a Postgres `LISTEN` channel. */
export function checkPostgresChannel(channel: unknown): asserts channel is string {
  if (
    typeof channel !== 'string' ||
    channel.length === 0 ||
    Buffer.byteLength(channel) > 63 ||
    channel.includes('\u0000')
  ) {
    throw new TypeError('"channel" must be a non-empty string of at most 63 bytes');
  }
}

/**
 * Creates the Postgres revocation feed. Pass it as the verifier's `revocation` option.
 *
 * @example
 * import { createVerifier } from 'latchkey/verify';
 * import { createHTTPRevocationSnapshot, createPostgresRevocationFeed } from 'latchkey/verify/postgres';
 *
 * const verifier = createVerifier({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://orders.example.com',
 *   algorithms: ['EdDSA'],
 *   jwksUri: 'https://auth.example.com/.well-known/jwks.json',
 *   revocation: createPostgresRevocationFeed({
 *     url: process.env.DATABASE_URL,
 *     channel: 'latchkey_revocations',
 *     snapshot: createHTTPRevocationSnapshot({ url: 'https://auth.example.com/v1/revocations/snapshot' }),
 *   }),
 * });
 */
export function createPostgresRevocationFeed(options: PostgresRevocationFeedOptions): PubSubRevocationFeed {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  const { url, channel } = options;
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) {
    throw new TypeError('"url" must start with postgres:// or postgresql://');
  }
  checkPostgresChannel(channel);
  const applicationName = options.applicationName ?? 'latchkey-revocation-feed';
  if (typeof applicationName !== 'string' || applicationName.length === 0) {
    throw new TypeError('"applicationName" must be a non-empty string');
  }
  const timeoutMs = options.timeoutMs ?? 5_000;

  return createPubSubFeed(async (handlers): Promise<PubSubConnection> => {
    const { default: pg } = await import('pg');
    const client: Client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: timeoutMs,
      keepAlive: true,
      application_name: applicationName,
    });
    let lastError: Error | null = null;
    let ended = false;
    client.once('end', () => {
      ended = true;
    });
    client.on('error', (error: Error) => {
      lastError = error;
      handlers.lost(error);
    });
    client.on('notification', (notification: Notification) => {
      if (notification.channel === channel && notification.payload !== undefined) {
        handlers.message(notification.payload);
      }
    });
    client.on('end', () => handlers.lost(lastError ?? new Error('postgres connection closed')));
    const close = async (): Promise<void> => {
      if (ended) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        client.end().catch(() => undefined),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, 1_000))),
      ]);
      clearTimeout(timer);
    };
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteChannel(channel)}`);
    } catch (error) {
      await close();
      throw error;
    }
    return {
      async ping() {
        await client.query('SELECT 1');
      },
      close,
    };
  }, options);
}
