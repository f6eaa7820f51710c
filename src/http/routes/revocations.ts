/**
 * The revocation feed: how a revocation reaches every resource service within milliseconds.
 *
 * `GET /v1/revocations` is a Server-Sent Events stream. On connect it sends every live record
 * after the client's position (`Last-Event-ID`, or `?after=`), then an `event: synced` marker,
 * then each new revocation as it happens, plus a heartbeat comment every `heartbeatMs`.
 * `GET /v1/revocations/snapshot` returns the same live records as one JSON document.
 *
 * Delivery is at least once (the client's list is idempotent). The SSE `id` is a resume
 * position: everything at or below it has been sent. Records pushed the moment they are made
 * on this node are sent without an `id` (they may be ahead of records made on other nodes that
 * this node has not read yet); the connection's catch-up poll of the store (every `pollMs`)
 * delivers records made elsewhere and then advances the position with an `id`.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html
 */

import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Latchkey } from '../../app/latchkey.js';
import { LatchkeyError } from '../../errors.js';
import { toWireRevocation } from '../../revocation/revocation-list.js';
import type { RevocationRecord } from '../../records.js';
import { CLIENT_BASIC, json, problems, ref } from '../openapi/route-schema.js';

export interface RevocationRoutesOptions {
  /**
   * Decides who may read the feed. Default: anyone (the feed is open). The records hold
   * session, user and token ids (no secret, no credential), but they reveal when users log
   * out: put the feed behind this check, or behind the network, in production.
   */
  authorize?: (request: FastifyRequest) => boolean | Promise<boolean>;
  /** Interval of the `: heartbeat` comment. Default 15 s. */
  heartbeatMs?: number;
  /**
   * Interval at which each stream re-reads the store for records made on other nodes; `false`
   * when this node makes every revocation (single node). Default 1 s.
   */
  pollMs?: number | false;
  /** Streams open at once; more are refused with 429. Default 1000. */
  maxStreams?: number;
  /** A stream whose client does not read is dropped once this many bytes wait. Default 1 MiB. */
  maxBufferedBytes?: number;
}

const TAG = ['Revocations'];
/** `readPosition` checks these itself: documented here, not validated by Fastify. */
const position = {
  querystring: {
    type: 'object',
    properties: {
      after: { description: 'A `seq`: send the records after it (digits). `Last-Event-ID` wins.' },
    },
  },
  headers: {
    type: 'object',
    properties: { 'last-event-id': { description: 'The SSE resume position (digits).' } },
  },
};

const SNAPSHOT_SCHEMA = {
  tags: TAG,
  summary: 'The live revocations, as one document',
  description:
    'The records after `after`, in `seq` order; `last_seq` is the position to resume the feed from.',
  security: CLIENT_BASIC,
  ...position,
  response: {
    200: json(
      {
        type: 'object',
        additionalProperties: false,
        required: ['records', 'last_seq'],
        properties: { records: { type: 'array', items: ref('Revocation') }, last_seq: { type: 'integer' } },
      },
      'The live records.',
    ),
    ...problems(400, 401, 429),
  },
};

const FEED_SCHEMA = {
  tags: TAG,
  summary: 'The revocation feed (Server-Sent Events)',
  description:
    'Every live record after the position (`event: revocation`, `data:` a `Revocation`), then ' +
    '`event: synced` (`data: {"last_seq":…}`), then each new revocation as it happens, and a ' +
    '`: heartbeat` comment every 15 s. Delivery is at least once; resume with `Last-Event-ID`.',
  security: CLIENT_BASIC,
  ...position,
  response: {
    200: json(
      { type: 'string', examples: ['id: 41\nevent: revocation\ndata: {"seq":41,"kind":"session",…}\n\n'] },
      'An event stream that stays open.',
      'text/event-stream',
    ),
    ...problems(400, 401, 429),
  },
};

const PAGE = 1000;
const MAX_PAGES = 10_000;
const DEFAULT_HEARTBEAT_MS = 15_000;
const DEFAULT_POLL_MS = 1000;
const DEFAULT_MAX_STREAMS = 1000;
const DEFAULT_MAX_BUFFERED = 1024 * 1024;

/**
 * Registers `GET /v1/revocations` (SSE) and `GET /v1/revocations/snapshot` (JSON). Streams are
 * ended when the server closes (a `preClose` hook), so `app.close()` does not wait on them.
 *
 * @example
 * const app = createHTTPServer(latchkey);
 * registerRevocationRoutes(app, latchkey);
 * await app.listen({ port: 8080 });
 * // curl -N localhost:8080/v1/revocations
 * // id: 41
 * // event: revocation
 * // data: {"seq":41,"kind":"session","subject":"CTDc...","issued_before":null,...}
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#the-last-event-id-header
 */
export function registerRevocationRoutes(
  app: FastifyInstance,
  latchkey: Latchkey,
  options: RevocationRoutesOptions = {},
): void {
  const heartbeatMs = positive(options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS, 'heartbeatMs');
  const pollMs = options.pollMs === false ? false : positive(options.pollMs ?? DEFAULT_POLL_MS, 'pollMs');
  const maxStreams = positive(options.maxStreams ?? DEFAULT_MAX_STREAMS, 'maxStreams');
  const maxBuffered = positive(options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED, 'maxBufferedBytes');
  const authorize = options.authorize;
  if (authorize !== undefined && typeof authorize !== 'function') {
    throw new TypeError('"authorize" must be a function (request) => boolean');
  }
  const streams = new Set<RevocationStream>();

  app.addHook('preClose', (done) => {
    for (const stream of streams) stream.end();
    done();
  });

  async function checkAccess(request: FastifyRequest): Promise<void> {
    if (authorize !== undefined && !(await authorize(request))) {
      throw new LatchkeyError('unauthenticated', 'The revocation feed requires authentication');
    }
  }

  app.get('/v1/revocations/snapshot', { schema: SNAPSHOT_SCHEMA }, async (request, reply) => {
    await checkAccess(request);
    const after = readPosition(request);
    const records = await listAfter(latchkey, after);
    const lastSeq = records.reduce((max, record) => Math.max(max, record.seq), after);
    return reply.send({ records: records.map(toWireRevocation), last_seq: lastSeq });
  });

  app.get('/v1/revocations', { schema: FEED_SCHEMA }, async (request, reply) => {
    await checkAccess(request);
    const after = readPosition(request);
    if (streams.size >= maxStreams) {
      throw new LatchkeyError('too_many_requests', 'Too many revocation streams', { retryAfter: 5 });
    }
    const stream = openStream(request, reply, latchkey, {
      after,
      heartbeatMs,
      pollMs,
      maxBuffered,
      onEnd: () => streams.delete(stream),
    });
    streams.add(stream);
    await stream.start();
  });
}

interface RevocationStream {
  start(): Promise<void>;
  end(): void;
}

function openStream(
  request: FastifyRequest,
  reply: FastifyReply,
  latchkey: Latchkey,
  options: {
    after: number;
    heartbeatMs: number;
    pollMs: number | false;
    maxBuffered: number;
    onEnd: () => void;
  },
): RevocationStream {
  const raw: ServerResponse = reply.raw;
  /** Everything at or below it has been sent. */
  let position = options.after;
  /** Seqs above `position` already sent (pushed by this node before the poll reached them). */
  const sentAhead = new Set<number>();
  /** Pushed while the snapshot is read; flushed after it. */
  let pending: RevocationRecord[] | null = [];
  let ended = false;
  let polling = false;
  const timers: NodeJS.Timeout[] = [];

  const unsubscribe = latchkey.revocations.onRevocation((record) => {
    if (ended) return;
    if (pending !== null) pending.push(record);
    else push(record);
  });

  function write(chunk: string): void {
    if (ended) return;
    raw.write(chunk);
    // A client that stops reading is dropped; it resumes from its Last-Event-ID.
    if (raw.writableLength > options.maxBuffered) end();
  }

  function sendInOrder(record: RevocationRecord): void {
    if (record.seq <= position) return;
    if (!sentAhead.delete(record.seq)) {
      write(`id: ${record.seq}\nevent: revocation\ndata: ${JSON.stringify(toWireRevocation(record))}\n\n`);
    }
    position = record.seq;
  }

  function push(record: RevocationRecord): void {
    if (record.seq <= position || sentAhead.has(record.seq)) return;
    // Remembered only for the poll to skip; without a poll nothing would ever forget it.
    if (options.pollMs !== false) sentAhead.add(record.seq);
    write(`event: revocation\ndata: ${JSON.stringify(toWireRevocation(record))}\n\n`);
  }

  function synced(): void {
    write(`id: ${position}\nevent: synced\ndata: ${JSON.stringify({ last_seq: position })}\n\n`);
  }

  async function poll(): Promise<void> {
    if (ended || polling) return;
    polling = true;
    const before = position;
    try {
      for (const record of await listAfter(latchkey, position)) sendInOrder(record);
      for (const seq of sentAhead) if (seq <= position) sentAhead.delete(seq);
      if (position > before) synced();
    } catch (error) {
      request.log.warn({ err: error, event: 'revocations.poll_failed' }, 'revocation feed poll failed');
    } finally {
      polling = false;
    }
  }

  function end(): void {
    if (ended) return;
    ended = true;
    unsubscribe();
    for (const timer of timers) clearInterval(timer);
    options.onEnd();
    raw.end();
  }

  return {
    end,
    async start() {
      startEventStream(reply, end);
      try {
        for (const record of await listAfter(latchkey, position)) sendInOrder(record);
      } catch (error) {
        request.log.warn({ err: error, event: 'revocations.snapshot_failed' }, 'revocation snapshot failed');
        end();
        return;
      }
      const buffered = pending ?? [];
      pending = null;
      if (ended) return;
      for (const record of buffered) push(record);
      synced();
      const heartbeat = setInterval(() => write(': heartbeat\n\n'), options.heartbeatMs);
      heartbeat.unref();
      timers.push(heartbeat);
      if (options.pollMs !== false) {
        const poller = setInterval(() => void poll(), options.pollMs);
        poller.unref();
        timers.push(poller);
      }
    },
  };
}

/**
 * Takes the response over from Fastify and sends the `text/event-stream` headers. Headers set by
 * earlier hooks (CORS) are kept; the hijacked reply skips onSend, so its headers are set here.
 */
function startEventStream(reply: FastifyReply, onClose: () => void): void {
  const raw: ServerResponse = reply.raw;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (typeof value === 'string' || Array.isArray(value)) headers[name] = value;
    else if (typeof value === 'number') headers[name] = String(value);
  }
  reply.hijack();
  raw.on('close', onClose);
  raw.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    pragma: 'no-cache',
    'x-content-type-options': 'nosniff',
    'x-accel-buffering': 'no',
  });
  raw.flushHeaders();
}

/** Every live record after `after`, in `seq` order, read in pages. */
async function listAfter(latchkey: Latchkey, after: number): Promise<RevocationRecord[]> {
  const records: RevocationRecord[] = [];
  let cursor = after;
  for (let page = 0; page < MAX_PAGES; page++) {
    const batch = await latchkey.store.listRevocations({
      now: latchkey.clock(),
      afterSeq: cursor,
      limit: PAGE,
    });
    for (const record of batch) {
      records.push(record);
      if (record.seq > cursor) cursor = record.seq;
    }
    if (batch.length < PAGE) break;
  }
  return records;
}

/** The client's position: `Last-Event-ID`, else `?after=`, else 0. */
function readPosition(request: FastifyRequest): number {
  const header = request.headers['last-event-id'];
  const query = (request.query as Record<string, unknown> | undefined)?.after;
  const value = typeof header === 'string' && header !== '' ? header : query;
  if (value === undefined || value === '') return 0;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) {
    throw new LatchkeyError('bad_request', 'Last-Event-ID and "after" must be a non-negative integer');
  }
  return Number(value);
}

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`"${name}" must be a positive number`);
  }
  return value;
}
