/**
 * The HTTP transport of the revocation feed: a Server-Sent Events client on `fetch`, with the
 * `text/event-stream` format parsed by hand (no dependency).
 *
 * It connects to the auth server's `GET /v1/revocations`, applies the backlog and then each
 * pushed record, reports `live` after the server's `synced` marker and on every heartbeat,
 * and reconnects by itself with exponential backoff and jitter, resuming from the last
 * `id` with `Last-Event-ID` so that nothing made while it was away is missed. A connection
 * silent for longer than `idleTimeoutMs` (a dead peer, a half-open TCP connection) is dropped
 * and reopened.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 * @see ./feed-connection.ts the start/close/backoff shell it shares with the pub/sub feeds
 * @see ./feed-event-stream.ts the `text/event-stream` parser
 */

import { parseWireRevocation } from '../revocation/revocation-list.js';
import type { RevocationRecord } from '../records.js';
import type { RevocationFeed, RevocationFeedState } from './feed.js';
import { createFeedShell, positive, runReconnectLoop, type FeedShell } from './feed-connection.js';
import { createEventStreamParser, type EventStreamEvent } from './feed-event-stream.js';
import { checkURL } from './remote-jwks.js';

export {
  createEventStreamParser,
  type EventStreamEvent,
  type EventStreamParser,
} from './feed-event-stream.js';

/** Options of {@link createSSERevocationFeed}. */
export interface SSERevocationFeedOptions {
  /** The feed, e.g. `https://auth.example.com/v1/revocations`. */
  url: string | URL;
  fetch?: typeof fetch;
  /** Extra request headers (credentials for the feed, once it needs them); a function is called per connection. */
  headers?: Readonly<Record<string, string>> | (() => Readonly<Record<string, string>>);
  /** First reconnection delay; doubles per failed attempt up to `maxRetryMs`. Default 500 ms. */
  retryMs?: number;
  /** Longest reconnection delay. Default 30 s. */
  maxRetryMs?: number;
  /** Drop a connection that sent nothing (not even a heartbeat) for this long. Default 35 s. */
  idleTimeoutMs?: number;
  /** Allow plain `http:` to a host that is not loopback. Default false. */
  allowInsecureRequests?: boolean;
  /** Told about each failed or dropped connection (the error never contains a credential). */
  onError?: (error: Error) => void;
}

/** The SSE revocation feed: a {@link RevocationFeed} with its resume position and counter. */
export interface SSERevocationFeed extends RevocationFeed {
  /** The resume position: the last `id` received, 0 before any. */
  readonly lastEventId: number;
  /** Connections opened so far. */
  readonly connections: number;
}

/** The options of {@link createSSERevocationFeed}, checked, with their defaults. */
interface SSESettings {
  readonly url: URL;
  readonly fetchImpl: typeof fetch;
  readonly retryMs: number;
  readonly maxRetryMs: number;
  readonly idleTimeoutMs: number;
  readonly headers: SSERevocationFeedOptions['headers'];
}

/** What one SSE feed keeps across its connections. */
interface SSEStream {
  readonly settings: SSESettings;
  /** The resume position: the last `id` received, 0 before any. */
  lastEventId: number;
  /** Connections opened so far. */
  connections: number;
  /** The current connection's controller (close() aborts it); null between connections. */
  current: AbortController | null;
}

/** Where a started feed's records and states go: the verifier's callbacks. */
interface SSEOutput {
  readonly apply: (record: RevocationRecord) => void;
  readonly onState: (state: RevocationFeedState) => void;
}

/**
 * Creates the SSE revocation feed. Pass it as the verifier's `revocation` option; the verifier
 * starts and closes it.
 *
 * @example
 * const verifier = createVerifier({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://orders.example.com',
 *   algorithms: ['EdDSA'],
 *   jwksUri: 'https://auth.example.com/.well-known/jwks.json',
 *   revocation: createSSERevocationFeed({ url: 'https://auth.example.com/v1/revocations' }),
 * });
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html
 */
export function createSSERevocationFeed(options: SSERevocationFeedOptions): SSERevocationFeed {
  const settings = sseSettings(options);
  const stream: SSEStream = { settings, lastEventId: 0, connections: 0, current: null };
  const shell = createFeedShell({
    report(error) {
      const failure = error instanceof Error ? error : new Error('connection failed');
      options.onError?.(failure);
      return failure.message;
    },
    interrupt: () => stream.current?.abort(),
  });

  return {
    get lastEventId() {
      return stream.lastEventId;
    },
    get connections() {
      return stream.connections;
    },
    start(apply, onState) {
      shell.start(() => run(shell, stream, { apply, onState }));
    },
    async close() {
      await shell.close();
    },
  };
}

function sseSettings(options: SSERevocationFeedOptions): SSESettings {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  const url = checkURL(options.url, 'url', options.allowInsecureRequests === true);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new TypeError('"fetch" must be a function');
  const retryMs = positive(options.retryMs, 500, 'retryMs');
  const maxRetryMs = positive(options.maxRetryMs, 30_000, 'maxRetryMs');
  const idleTimeoutMs = positive(options.idleTimeoutMs, 35_000, 'idleTimeoutMs');
  const headersOption = options.headers;
  if (
    headersOption !== undefined &&
    typeof headersOption !== 'object' &&
    typeof headersOption !== 'function'
  ) {
    throw new TypeError('"headers" must be an object or a function');
  }
  return { url, fetchImpl, retryMs, maxRetryMs, idleTimeoutMs, headers: headersOption };
}

/** Runs connections until close(): every turn either streams or waits a growing delay. */
function run(shell: FeedShell, stream: SSEStream, output: SSEOutput): Promise<void> {
  return runReconnectLoop(shell, {
    retryMs: stream.settings.retryMs,
    maxRetryMs: stream.settings.maxRetryMs,
    attemptAfterLive: 0,
    endReason: 'stream ended',
    state: output.onState,
    async connection(markLive) {
      await connect(stream, output, markLive);
      return undefined;
    },
  });
}

/**
 * One connection: streams until the server ends it, an abort (close, idle timeout) or a bad
 * event; calls `markLive` when it reaches `live`.
 */
async function connect(stream: SSEStream, output: SSEOutput, markLive: () => void): Promise<void> {
  const controller = new AbortController();
  stream.current = controller;
  stream.connections += 1;
  const idle = idleTimer(controller, stream.settings.idleTimeoutMs);
  try {
    idle.reset();
    const body = await openEventStream(stream, controller.signal);
    const parser = createEventStreamParser(revocationEvents(stream, output, markLive));
    const decoder = new TextDecoder('utf-8');
    await readStream(body, controller.signal, (chunk) => {
      idle.reset();
      parser.push(decoder.decode(chunk, { stream: true }));
    });
    if (controller.signal.aborted) throw abortReason(controller.signal);
  } catch (error) {
    throw controller.signal.aborted ? abortReason(controller.signal) : error;
  } finally {
    idle.clear();
    controller.abort();
    if (stream.current === controller) stream.current = null;
  }
}

/** Aborts `controller` once nothing arrived for `idleTimeoutMs` since the last `reset()`. */
function idleTimer(controller: AbortController, idleTimeoutMs: number): { reset(): void; clear(): void } {
  let idle: NodeJS.Timeout | null = null;
  return {
    reset() {
      if (idle !== null) clearTimeout(idle);
      idle = setTimeout(() => controller.abort(new Error('feed idle timeout')), idleTimeoutMs);
      idle.unref();
    },
    clear() {
      if (idle !== null) clearTimeout(idle);
    },
  };
}

/** Requests the feed (resuming from the last `id`); the body of a `200 text/event-stream`. */
async function openEventStream(stream: SSEStream, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
  const { url, fetchImpl, headers: headersOption } = stream.settings;
  const extra = typeof headersOption === 'function' ? headersOption() : (headersOption ?? {});
  const headers: Record<string, string> = {
    ...extra,
    accept: 'text/event-stream',
    'cache-control': 'no-store',
  };
  if (stream.lastEventId > 0) headers['last-event-id'] = String(stream.lastEventId);
  const response = await fetchImpl(url, {
    headers,
    redirect: 'error',
    signal,
  });
  const type = response.headers.get('content-type') ?? '';
  if (response.status !== 200 || !/^text\/event-stream\b/i.test(type) || response.body === null) {
    await response.body?.cancel().catch(() => undefined);
    throw new Error(`feed answered ${response.status} ${type.split(';')[0] ?? ''}`.trim());
  }
  return response.body;
}

/**
 * The feed's events: applies each revocation, moves the resume position, reports `live` at
 * the server's `synced` marker and then at each heartbeat comment.
 */
function revocationEvents(
  stream: SSEStream,
  output: SSEOutput,
  markLive: () => void,
): { onEvent: (event: EventStreamEvent) => void; onComment: () => void } {
  const { apply, onState } = output;
  let live = false;
  return {
    onEvent(event) {
      if (event.type === 'revocation') apply(parseRevocationEvent(event.data));
      const position = /^\d{1,15}$/.test(event.id) ? Number(event.id) : null;
      if (position !== null && position > stream.lastEventId) stream.lastEventId = position;
      if (event.type === 'synced') {
        live = true;
        markLive();
        onState({ status: 'live' });
      }
    },
    onComment() {
      if (live) onState({ status: 'live' });
    },
  };
}

function parseRevocationEvent(text: string): RevocationRecord {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error('feed sent an event that is not JSON');
  }
  const record = parseWireRevocation(data);
  if (record === null) throw new Error('feed sent a malformed revocation');
  return record;
}

/** Reads `body` chunk by chunk until it ends, `signal` aborts or `onChunk` throws. */
async function readStream(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
  onChunk: (chunk: Uint8Array) => void,
): Promise<void> {
  const reader: ReadableStreamDefaultReader<Uint8Array> = body.getReader();
  // Aborting the fetch does not always settle a pending read (undici); cancelling the reader does.
  const cancel = (): void => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', cancel, { once: true });
  try {
    // Ends when the server closes the stream, on abort (close, idle timeout) or on a bad event.
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      onChunk(value);
    }
  } finally {
    signal.removeEventListener('abort', cancel);
    await reader.cancel().catch(() => undefined);
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error && signal.reason.name !== 'AbortError'
    ? signal.reason
    : new Error('connection aborted');
}
