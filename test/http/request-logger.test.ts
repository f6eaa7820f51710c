import Fastify, { type FastifyBaseLogger } from 'fastify';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { useLazyRequestLoggers } from '../../src/http/request-logger.js';
import { tapLogEvents } from '../../src/metrics/log-tap.js';

/** A Fastify app on Latchkey's logger at `level`, its lines, and how many child loggers it made. */
function appAt(level: string) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level,
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  });
  let children = 0;
  const child = logger.child.bind(logger);
  logger.child = ((...args: Parameters<typeof logger.child>) => {
    children++;
    return child(...args);
  }) as typeof logger.child;
  const app = Fastify({
    // As in src/http/server.ts: pino's Logger is wider than FastifyBaseLogger.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: logger as FastifyBaseLogger,
    disableRequestLogging: true,
  });
  useLazyRequestLoggers(app);
  app.get('/quiet', () => ({ ok: true }));
  app.get('/debug', (request) => {
    request.log.debug({ event: 'test.debug' }, 'below the level');
    return { level: request.log.level };
  });
  app.get('/warn', (request) => {
    request.log.warn({ event: 'test.warn', password: 'hunter2 is a secret' }, 'a security event');
    request.log.info({ event: 'test.info' }, 'and another');
    return { ok: true };
  });
  return { app, logger, lines, children: () => children };
}

describe('request loggers made only when a line is written', () => {
  it('makes no child logger for a request that logs nothing at an enabled level', async () => {
    const { app, lines, children } = appAt('info');
    await app.ready();
    const before = children();
    expect((await app.inject({ url: '/quiet' })).statusCode).toBe(200);
    const debug = await app.inject({ url: '/debug' });
    expect(debug.json()).toEqual({ level: 'info' });
    expect(children() - before).toBe(0);
    expect(lines).toEqual([]);
    await app.close();
  });

  it('writes what the child would have written: the request id, the fields, redaction', async () => {
    const { app, lines, children } = appAt('info');
    await app.ready();
    const before = children();
    expect((await app.inject({ url: '/warn' })).statusCode).toBe(200);
    expect(children() - before).toBe(1);
    expect(lines).toHaveLength(2);
    const [warn, info] = lines;
    expect(warn).toMatchObject({
      level: 40,
      event: 'test.warn',
      password: '[redacted]',
      msg: 'a security event',
    });
    expect(typeof warn?.reqId).toBe('string');
    expect(info?.reqId).toBe(warn?.reqId);
    expect(JSON.stringify(lines)).not.toContain('hunter2');
    await app.close();
  });

  it('writes debug lines when debug is on', async () => {
    const { app, lines } = appAt('debug');
    expect((await app.inject({ url: '/debug' })).json()).toEqual({ level: 'debug' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ event: 'test.debug' });
    expect(typeof lines[0]?.reqId).toBe('string');
    await app.close();
  });

  it('still shows a dropped line to what taps the logger (the metrics count events at every level)', async () => {
    const { app, logger, lines } = appAt('info');
    const seen: string[] = [];
    tapLogEvents(logger, (event) => seen.push(event));
    expect((await app.inject({ url: '/debug' })).statusCode).toBe(200);
    expect(seen).toEqual(['test.debug']);
    expect(lines).toEqual([]);
    await app.close();
  });
});
