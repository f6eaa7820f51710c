import { createServer, type Server } from 'node:http';
import type { BrowserContext, Page } from 'playwright-core';
import { createManualClock } from '../../src/clock.js';
import type { LatchkeyConfig } from '../../src/config/config.js';
import { createTestApp, type TestApp } from './app.js';
import { freePort } from './process.js';

/** A Latchkey with its pages, listening on a real port of `localhost` (memory store). */
export interface PageServer extends TestApp {
  url: string;
}

/**
 * Starts the server on `http://localhost:<port>`, its issuer (so the Origin check knows it).
 * Secure `__Host-` cookies work there: Chromium treats `localhost` as a secure context.
 */
export async function startPageServer(config: Partial<LatchkeyConfig> = {}): Promise<PageServer> {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const t = await createTestApp({
    clock: createManualClock(Date.now()),
    config: { issuer: url, audience: url, ...config },
  });
  await t.app.listen({ port, host: '127.0.0.1' });
  return { ...t, url };
}

/** A page on another origin that serves `html` at `/` (the attacker's site). */
export async function startOtherOrigin(
  html: (origin: string) => string,
  host = 'localhost',
): Promise<{ url: string; close(): Promise<void> }> {
  const port = await freePort();
  const url = `http://${host}:${port}`;
  const server: Server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(html(url));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Collects the console errors and uncaught exceptions of every page of a context. */
export function watchConsole(context: BrowserContext): string[] {
  const errors: string[] = [];
  const watch = (page: Page): void => {
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
  };
  context.on('page', watch);
  for (const page of context.pages()) watch(page);
  return errors;
}
