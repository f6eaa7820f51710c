/**
 * The revocation publisher over Postgres `NOTIFY`, in the Postgres driver's folder: nothing
 * outside `src/stores/postgres/` loads pg.
 */

import pg from 'pg';
import { checkPublisherOptions, type RevocationPublisher } from '../../revocation/publishers.js';
import { toWireRevocation } from '../../revocation/revocation-list.js';

/** The one method a Postgres publisher needs: a `pg.Pool` or `pg.Client` fits. */
export interface PostgresQueryClient {
  query(text: string, values: unknown[]): Promise<unknown>;
}

/** Options of {@link createPostgresRevocationPublisher}: exactly one of `pool` and `url`. */
export interface PostgresRevocationPublisherOptions {
  /** A pool (or client) of the caller's; the publisher does not close it. */
  pool?: PostgresQueryClient;
  /** `postgres://` or `postgresql://`: the publisher opens a small pool and ends it on `close()`. */
  url?: string;
  channel: string;
}

/** `pg_notify` refuses payloads of 8000 bytes or more. */
const MAX_NOTIFY_PAYLOAD_BYTES = 7_999;

/**
 * A publisher over Postgres `NOTIFY` (`SELECT pg_notify($1, $2)`: the channel is a parameter,
 * so it needs no quoting). Notifications are delivered in the database the pool connects to.
 * The pool it opens from `url` runs with `synchronous_commit=off` (the notification does not
 * wait for a WAL flush); a pool of the caller's may want the same.
 *
 * @example
 * const publisher = createPostgresRevocationPublisher({ url: process.env.DATABASE_URL, channel: 'latchkey_revocations' });
 * @see https://www.postgresql.org/docs/current/sql-notify.html
 */
export function createPostgresRevocationPublisher(
  options: PostgresRevocationPublisherOptions,
): RevocationPublisher {
  const { channel } = checkPublisherOptions(
    options,
    options.pool,
    'pool',
    /^postgres(ql)?:\/\//,
    'postgres://',
  );
  if (Buffer.byteLength(channel) > 63) throw new TypeError('"channel" must be at most 63 bytes');
  let owned: Promise<{ pool: PostgresQueryClient; end: () => Promise<void> }> | null = null;

  function connection(): Promise<PostgresQueryClient> {
    if (options.pool !== undefined) return Promise.resolve(options.pool);
    owned ??= Promise.resolve().then(() => {
      const pool = new pg.Pool({
        connectionString: options.url,
        max: 2,
        connectionTimeoutMillis: 2_000,
        idleTimeoutMillis: 30_000,
        application_name: 'latchkey-revocation-publisher',
        // A NOTIFY-only transaction has nothing to make durable: its commit need not wait for
        // the WAL flush (a busy disk otherwise adds its fsync latency to every publish).
        options: '-c synchronous_commit=off',
      });
      pool.on('error', () => {
        // An idle connection dropped; the pool replaces it. Publishes report their own failures.
      });
      return { pool, end: () => pool.end() };
    });
    return owned.then(({ pool }) => pool);
  }

  return {
    transport: 'postgres',
    channel,
    async publish(record) {
      const payload = JSON.stringify(toWireRevocation(record));
      if (Buffer.byteLength(payload) > MAX_NOTIFY_PAYLOAD_BYTES) {
        throw new Error(`revocation ${record.seq} is too large for NOTIFY`);
      }
      const pool = await connection();
      await pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    async ready() {
      const pool = await connection();
      await pool.query('SELECT 1', []);
    },
    async close() {
      const current = owned;
      owned = null;
      if (current !== null) await (await current).end();
    },
  };
}
