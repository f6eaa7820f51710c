/**
 * The `text/event-stream` format, parsed by hand (no dependency), for the SSE revocation feed.
 *
 * @see ./sse-feed.ts the HTTP transport that feeds it
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */

/** Longest event (its data) and longest unterminated line, in characters. */
const MAX_EVENT_CHARS = 64 * 1024;

/** One dispatched event of a `text/event-stream`. */
export interface EventStreamEvent {
  /** `message` when the stream named none. */
  readonly type: string;
  readonly data: string;
  /** The last event ID buffer at dispatch (it persists across events, as the spec says). */
  readonly id: string;
}

/** A `text/event-stream` parser, fed decoded text; see {@link createEventStreamParser}. */
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
