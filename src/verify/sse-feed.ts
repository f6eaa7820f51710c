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
 */

import { parseWireRevocation } from '../revocation/revocation-list.js';
import type { RevocationRecord } from '../records.js';
import type { RevocationFeed, RevocationFeedState } from './feed.js';
import { checkURL } from './remote-jwks.js';

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

export interface SSERevocationFeed extends RevocationFeed {
  /** The resume position: the last `id` received, 0 before any. */
  readonly lastEventId: number;
  /** Connections opened so far. */
  readonly connections: number;
}

const MAX_EVENT_CHARS = 64 * 1024;
const MAX_BACKOFF_STEPS = 20;

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

  let lastEventId = 0;
  let connections = 0;
  let started = false;
  let closed = false;
  let current: AbortController | null = null;
  let wake: (() => void) | null = null;
  let running: Promise<void> = Promise.resolve();

  function report(error: unknown): string {
    const failure = error instanceof Error ? error : new Error('connection failed');
    options.onError?.(failure);
    return failure.message;
  }

  async function run(
    apply: (record: RevocationRecord) => void,
    onState: (state: RevocationFeedState) => void,
  ): Promise<void> {
    let attempt = 0;
    // Runs until close(): every turn either streams or waits a growing delay.
    while (!closed) {
      onState({ status: 'connecting' });
      let reason = 'stream ended';
      let wasLive = false;
      try {
        wasLive = await connect(apply, onState, () => {
          wasLive = true;
        });
      } catch (error) {
        if (closed) break;
        reason = report(error);
      }
      if (closed) break;
      onState({ status: 'disconnected', reason });
      attempt = wasLive ? 0 : Math.min(attempt + 1, MAX_BACKOFF_STEPS);
      const ceiling = Math.min(maxRetryMs, retryMs * 2 ** Math.max(0, attempt - 1));
      await sleep(ceiling / 2 + Math.random() * (ceiling / 2));
    }
  }

  /** One connection; resolves true when it reached `live` before ending. */
  async function connect(
    apply: (record: RevocationRecord) => void,
    onState: (state: RevocationFeedState) => void,
    markLive: () => void,
  ): Promise<boolean> {
    const controller = new AbortController();
    current = controller;
    connections += 1;
    let live = false;
    let idle: NodeJS.Timeout | null = null;
    const resetIdle = (): void => {
      if (idle !== null) clearTimeout(idle);
      idle = setTimeout(() => controller.abort(new Error('feed idle timeout')), idleTimeoutMs);
      idle.unref();
    };
    try {
      resetIdle();
      const extra = typeof headersOption === 'function' ? headersOption() : (headersOption ?? {});
      const headers: Record<string, string> = {
        ...extra,
        accept: 'text/event-stream',
        'cache-control': 'no-store',
      };
      if (lastEventId > 0) headers['last-event-id'] = String(lastEventId);
      const response = await fetchImpl(url, {
        headers,
        redirect: 'error',
        signal: controller.signal,
      });
      const type = response.headers.get('content-type') ?? '';
      if (response.status !== 200 || !/^text\/event-stream\b/i.test(type) || response.body === null) {
        await response.body?.cancel().catch(() => undefined);
        throw new Error(`feed answered ${response.status} ${type.split(';')[0] ?? ''}`.trim());
      }
      const parser = createEventStreamParser({
        onEvent(event) {
          if (event.type === 'revocation') {
            let data: unknown;
            try {
              data = JSON.parse(event.data);
            } catch {
              throw new Error('feed sent an event that is not JSON');
            }
            const record = parseWireRevocation(data);
            if (record === null) throw new Error('feed sent a malformed revocation');
            apply(record);
          }
          const position = /^\d{1,15}$/.test(event.id) ? Number(event.id) : null;
          if (position !== null && position > lastEventId) lastEventId = position;
          if (event.type === 'synced') {
            live = true;
            markLive();
            onState({ status: 'live' });
          }
        },
        onComment() {
          if (live) onState({ status: 'live' });
        },
      });
      const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
      const decoder = new TextDecoder('utf-8');
      // Aborting the fetch does not always settle a pending read (undici); cancelling the reader does.
      const cancel = (): void => void reader.cancel().catch(() => undefined);
      controller.signal.addEventListener('abort', cancel, { once: true });
      try {
        // Ends when the server closes the stream, on abort (close, idle timeout) or on a bad event.
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          resetIdle();
          parser.push(decoder.decode(value, { stream: true }));
        }
      } finally {
        controller.signal.removeEventListener('abort', cancel);
        await reader.cancel().catch(() => undefined);
      }
      if (controller.signal.aborted) throw abortReason(controller.signal);
      return live;
    } catch (error) {
      throw controller.signal.aborted ? abortReason(controller.signal) : error;
    } finally {
      if (idle !== null) clearTimeout(idle);
      controller.abort();
      if (current === controller) current = null;
    }
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });
  }

  return {
    get lastEventId() {
      return lastEventId;
    },
    get connections() {
      return connections;
    },
    start(apply, onState) {
      if (started) throw new Error('the feed has already been started');
      started = true;
      running = run(apply, onState).catch((error: unknown) => {
        report(error);
      });
    },
    async close() {
      closed = true;
      current?.abort();
      wake?.();
      await running;
    },
  };
}

/** One dispatched event of a `text/event-stream`. */
export interface EventStreamEvent {
  /** `message` when the stream named none. */
  readonly type: string;
  readonly data: string;
  /** The last event ID buffer at dispatch (it persists across events, as the spec says). */
  readonly id: string;
}

export interface EventStreamParser {
  /** Feeds decoded text; dispatches every complete event. Throws on an oversized event. */
  push(text: string): void;
}

/**
 * A `text/event-stream` parser: lines end in CRLF, LF or CR (a CRLF split across two chunks
 * counts once); `:` starts a comment; fields `event`, `data` (joined with LF), `id` (ignored
 * when it contains NUL) and `retry` (ignored here); a blank line dispatches, and an event
 * with no data is not dispatched.
 *
 * @example
 * const parser = createEventStreamParser({ onEvent: (e) => console.log(e.type, e.data) });
 * parser.push('event: revocation\ndata: {}\n\n');
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
export function createEventStreamParser(handlers: {
  onEvent: (event: EventStreamEvent) => void;
  onComment?: (comment: string) => void;
}): EventStreamParser {
  let buffer = '';
  let skipLF = false;
  let firstChunk = true;
  let type = '';
  let data: string[] = [];
  let dataChars = 0;
  let lastId = '';

  function line(text: string): void {
    if (text === '') {
      if (data.length > 0)
        handlers.onEvent({ type: type === '' ? 'message' : type, data: data.join('\n'), id: lastId });
      type = '';
      data = [];
      dataChars = 0;
      return;
    }
    if (text.startsWith(':')) {
      handlers.onComment?.(text.slice(1).trimStart());
      return;
    }
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        type = value;
        break;
      case 'data':
        dataChars += value.length + 1;
        if (dataChars > MAX_EVENT_CHARS) throw new Error('feed event too large');
        data.push(value);
        break;
      case 'id':
        if (!value.includes('\u0000')) lastId = value;
        break;
      default:
        break;
    }
  }

  return {
    push(chunk) {
      let text = chunk;
      if (firstChunk && text.length > 0) {
        firstChunk = false;
        if (text.startsWith('\uFEFF')) text = text.slice(1);
      }
      if (skipLF && text.startsWith('\n')) text = text.slice(1);
      skipLF = false;
      buffer += text;
      let start = 0;
      // One turn per line break in the buffer: bounded by its length.
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer.charCodeAt(i);
        if (c !== 0x0a && c !== 0x0d) continue;
        line(buffer.slice(start, i));
        if (c === 0x0d) {
          if (i + 1 < buffer.length) {
            if (buffer.charCodeAt(i + 1) === 0x0a) i++;
          } else {
            skipLF = true;
          }
        }
        start = i + 1;
      }
      buffer = buffer.slice(start);
      if (buffer.length > MAX_EVENT_CHARS) throw new Error('feed line too large');
    },
  };
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error && signal.reason.name !== 'AbortError'
    ? signal.reason
    : new Error('connection aborted');
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const ms = value ?? fallback;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw new TypeError(`"${name}" must be a positive number of milliseconds`);
  }
  return ms;
}
