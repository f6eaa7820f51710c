/**
 * The pages' stylesheets, served by the server itself (the CSP allows no other origin): the
 * built-in one, and the operator's file when `LATCHKEY_STYLESHEET` names one. Each is served at
 * a path that carries a hash of its content, cacheable for a year, with an ETag.
 */

import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../../config/env.js';
import type { PagesStylesheet } from '../../config/pages.js';
import { STYLESHEET } from './stylesheet.js';

/** An operator's stylesheet larger than this is a mistake (an image inlined, the wrong file). */
const MAX_STYLESHEET_BYTES = 256 * 1024;

function contentHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url').slice(0, 12);
}

function serveCSS(app: FastifyInstance, path: string, text: string, etag: string): void {
  app.get(path, (request, reply) => {
    void reply.header('cache-control', 'public, max-age=31536000, immutable').header('etag', etag);
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type('text/css; charset=utf-8').send(text);
  });
}

/**
 * Registers the stylesheet routes and returns the paths the layout links, in order.
 *
 * @example
 * const stylesheets = registerAssets(app, config.pages.stylesheet); // ['/assets/latchkey-….css']
 */
export function registerAssets(app: FastifyInstance, operator: PagesStylesheet | null): string[] {
  const hash = contentHash(STYLESHEET);
  const builtIn = `/assets/latchkey-${hash}.css`;
  serveCSS(app, builtIn, STYLESHEET, `"${hash}"`);
  if (operator === null) return [builtIn];
  if (operator.kind === 'url') return [builtIn, operator.path];
  let text: string;
  try {
    text = readFileSync(operator.path, 'utf8');
  } catch {
    throw new ConfigError('LATCHKEY_STYLESHEET', `cannot read the file ${operator.path}`);
  }
  if (Buffer.byteLength(text) > MAX_STYLESHEET_BYTES) {
    throw new ConfigError('LATCHKEY_STYLESHEET', 'the file is larger than 256 KiB');
  }
  const themeHash = contentHash(text);
  const theme = `/assets/theme-${themeHash}.css`;
  serveCSS(app, theme, text, `"${themeHash}"`);
  return [builtIn, theme];
}
