import { describe, expect, it } from 'vitest';
import { createEventStreamParser, type EventStreamEvent } from '../../src/verify/index.js';

function parse(chunks: readonly string[]): { events: EventStreamEvent[]; comments: string[] } {
  const events: EventStreamEvent[] = [];
  const comments: string[] = [];
  const parser = createEventStreamParser({
    onEvent: (event) => events.push(event),
    onComment: (comment) => comments.push(comment),
  });
  for (const chunk of chunks) parser.push(chunk);
  return { events, comments };
}

describe('text/event-stream parser', () => {
  it('parses events, ids, comments and multi-line data', () => {
    const { events, comments } = parse([
      '\uFEFFid: 4\nevent: revocation\ndata: {"a":1}\n\n',
      ': heartbeat\n\n',
      'data: line 1\ndata: line 2\n\n',
    ]);
    expect(events).toEqual([
      { type: 'revocation', data: '{"a":1}', id: '4' },
      // The last event ID persists across events, as the spec says.
      { type: 'message', data: 'line 1\nline 2', id: '4' },
    ]);
    expect(comments).toEqual(['heartbeat']);
  });

  it('accepts CRLF, CR and LF, even a CRLF split across chunks', () => {
    const { events } = parse(['event: a\r', '\ndata: 1\r', '\n\r', '\nevent: b\rdata: 2\r\rdata:3\n', '\n']);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['message', '3'],
    ]);
  });

  it('does not dispatch an event without data, and ignores an id with NUL', () => {
    const { events } = parse(['id: 1\nevent: synced\n\n', 'id: 2\u0000\ndata: x\n\n']);
    expect(events).toEqual([{ type: 'message', data: 'x', id: '1' }]);
  });

  it('refuses an oversized event instead of buffering it forever', () => {
    const parser = createEventStreamParser({ onEvent: () => undefined });
    expect(() => parser.push(`data: ${'x'.repeat(70_000)}\n`)).toThrow(/too large/);
    const unterminated = createEventStreamParser({ onEvent: () => undefined });
    expect(() => unterminated.push('x'.repeat(70_000))).toThrow(/too large/);
  });
});
