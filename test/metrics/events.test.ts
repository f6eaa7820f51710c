import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { SECURITY_EVENTS } from '../../src/metrics/events.js';
import { tapLogEvents } from '../../src/metrics/log-tap.js';
import { listSources, SRC } from '../helpers/imports.js';

describe('the event catalogue of the metrics', () => {
  it('names every event the server logs, so that none is counted as `other`', () => {
    const logged = new Set<string>();
    for (const file of listSources(SRC).filter((path) => !relative(SRC, path).startsWith('metrics'))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/event: '([a-z_]+\.[a-z_.]+|[a-z_]+)'/g)) logged.add(match[1] ?? '');
      for (const match of text.matchAll(/afterFactorChange\([^)]*'([a-z_.]+)'\)/g))
        logged.add(match[1] ?? '');
    }
    logged.add('user.enable').add('user.disable');
    expect(logged.size).toBeGreaterThan(20);
    const missing = [...logged].filter((event) => !SECURITY_EVENTS.includes(event));
    expect(missing, 'add them to SECURITY_EVENTS in src/metrics/events.ts').toEqual([]);
  });
});

describe('the log tap', () => {
  const sink = (lines: string[]) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString('utf8'));
        callback();
      },
    });

  it('sees events of levels the logger drops, on the logger and its children, and changes nothing written', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', destination: sink(lines) });
    const seen: string[] = [];
    tapLogEvents(logger, (event) => seen.push(event));
    logger.info({ event: 'login.success', userId: 'u1' }, 'dropped by the level');
    logger.child({ reqId: 'r1' }).info({ event: 'logout' }, 'dropped too');
    logger.warn({ event: 'csrf.cross_site', reason: 'cross-site' }, 'written');
    logger.warn('a line without an object');
    logger.error({ noEvent: true }, 'an object without an event');
    expect(seen).toEqual(['login.success', 'logout', 'csrf.cross_site']);
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ event: 'csrf.cross_site', msg: 'written' });
  });

  it('keeps counting after the level changes, and in a child with a level of its own', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: sink(lines) });
    const seen: string[] = [];
    tapLogEvents(logger, (event) => seen.push(event));
    logger.level = 'error';
    logger.info({ event: 'a' }, 'x');
    const child = logger.child({}, { level: 'fatal' });
    child.warn({ event: 'b' }, 'y');
    logger.level = 'info';
    logger.info({ event: 'c' }, 'z');
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(lines).toHaveLength(1);
  });
});
