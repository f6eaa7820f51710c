/**
 * Server side of the pub/sub revocation transports: what a publisher is, and the hook that
 * publishes every revocation the server records, in its wire form (`toWireRevocation`), to the
 * channel where resource services' feeds (`latchkey/verify/redis`, `latchkey/verify/postgres`)
 * listen. The publishers themselves live with their drivers: `src/stores/redis/publisher.ts`
 * (`PUBLISH`) and `src/stores/postgres/publisher.ts` (`NOTIFY`).
 *
 * Pub/sub is fire-and-forget: a failed publish is not retried here. The feeds recover it by
 * catching up from a snapshot on every (re)connection and periodically while live.
 *
 * @example
 * const publisher = createRedisRevocationPublisher({ url: 'redis://127.0.0.1:6379', channel: 'latchkey:revocations' });
 * const detach = attachRevocationPublisher(latchkey, publisher);
 * // on shutdown
 * detach();
 * await publisher.close();
 */

import type { RevocationRecord } from '../records.js';
import type { RevocationRecorder } from './revocations.js';

/** Publishes revocation records to a pub/sub channel. */
export interface RevocationPublisher {
  readonly transport: 'redis' | 'postgres';
  readonly channel: string;
  /** Publishes one record; never throws synchronously, rejects when the publish failed. */
  publish(record: RevocationRecord): Promise<void>;
  /**
   * Opens the connection now (rather than on the first publish) and makes one round trip;
   * rejects when the server cannot be reached. Optional to call: a publish connects as needed.
   */
  ready(): Promise<void>;
  /** Closes the connection the publisher opened itself (never one it was given). */
  close(): Promise<void>;
}

/**
 * The default channel: a plain identifier, valid as a Redis channel and as a Postgres `LISTEN`
 * channel alike.
 */
export const DEFAULT_REVOCATION_CHANNEL = 'latchkey_revocations';

/**
 * Publishes every revocation `latchkey` records from now on; returns the function that stops.
 * A failed publish is passed to `onError` (default: a warning in `latchkey.logger`) and never
 * reaches the request that revoked.
 *
 * @example
 * const detach = attachRevocationPublisher(latchkey, publisher);
 */
export function attachRevocationPublisher(
  latchkey: {
    readonly revocations: Pick<RevocationRecorder, 'onRevocation'>;
    readonly logger?: { warn(object: object, message: string): void };
  },
  publisher: RevocationPublisher,
  onError?: (error: unknown, record: RevocationRecord) => void,
): () => void {
  const failed =
    onError ??
    ((error: unknown, record: RevocationRecord): void => {
      latchkey.logger?.warn(
        {
          event: 'revocations.publish_failed',
          transport: publisher.transport,
          seq: record.seq,
          err: error instanceof Error ? { name: error.name, message: error.message } : String(error),
        },
        'revocation publish failed; resource services catch up from the snapshot',
      );
    });
  return latchkey.revocations.onRevocation((record) => {
    publisher.publish(record).catch((error: unknown) => {
      try {
        failed(error, record);
      } catch {
        // A failing error handler must not reach the request either.
      }
    });
  });
}

/**
 * Checks the options every publisher takes: exactly one of a client of the caller's and a `url`
 * with the expected scheme, and a non-empty channel. Throws a `TypeError` naming the option.
 *
 * @example
 * const { channel } = checkPublisherOptions(options, options.client, 'client', /^rediss?:\/\//, 'redis:// or rediss://');
 */
export function checkPublisherOptions(
  options: { url?: string; channel: string },
  client: unknown,
  clientName: string,
  scheme: RegExp,
  schemeText: string,
): { channel: string } {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  if ((options.url === undefined) === (client === undefined)) {
    throw new TypeError(`exactly one of "${clientName}" and "url" is required`);
  }
  if (options.url !== undefined && (typeof options.url !== 'string' || !scheme.test(options.url))) {
    throw new TypeError(`"url" must start with ${schemeText}`);
  }
  if (typeof options.channel !== 'string' || options.channel.length === 0) {
    throw new TypeError('"channel" must be a non-empty string');
  }
  return { channel: options.channel };
}
