/**
 * The pages' assets, served by the server itself (the CSP allows no other origin): the icon, the
 * built-in stylesheet, and the operator's file when `LATCHKEY_STYLESHEET` names one. Each is
 * served at a path that carries a hash of its content, cacheable for a year, with an ETag.
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

/** The pages' icon (linked, so a browser does not ask for `/favicon.ico`). */
const ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">' +
  '<stop offset="0" stop-color="#4f46e5"/><stop offset="1" stop-color="#8b5cf6"/></linearGradient></defs>' +
  '<rect width="32" height="32" rx="7" fill="url(#g)"/><circle cx="16" cy="13" r="5" fill="none" stroke="#fff" stroke-width="3"/>' +
  '<rect x="14.5" y="17" width="3" height="9" rx="1.5" fill="#fff"/></svg>';

/** Files of the pages, not the API: kept out of /openapi.json. */
const HIDDEN = { hide: true };

function serveAsset(app: FastifyInstance, path: string, type: string, text: string): void {
  const etag = `"${contentHash(text)}"`;
  app.get(path, { schema: HIDDEN }, (request, reply) => {
    void reply.header('cache-control', 'public, max-age=31536000, immutable').header('etag', etag);
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type(type).send(text);
  });
}

const CSS = 'text/css; charset=utf-8';

/** The paths the layout links. */
export interface PageAssets {
  /** The stylesheets, in order: the built-in one, then the operator's. */
  stylesheets: string[];
  icon: string;
}

/**
 * Registers the asset routes and returns the paths the layout links.
 *
 * @example
 * const { stylesheets } = registerAssets(app, config.pages.stylesheet); // ['/assets/latchkey-….css']
 */
export function registerAssets(app: FastifyInstance, operator: PagesStylesheet | null): PageAssets {
  const icon = `/assets/icon-${contentHash(ICON)}.svg`;
  serveAsset(app, icon, 'image/svg+xml', ICON);
  // For what has no <link rel="icon">: a JSON answer or a refusal shown in the browser.
  app.get('/favicon.ico', { schema: HIDDEN }, (_request, reply) =>
    reply.header('cache-control', 'public, max-age=86400').type('image/svg+xml').send(ICON),
  );
  const builtIn = `/assets/latchkey-${contentHash(STYLESHEET)}.css`;
  serveAsset(app, builtIn, CSS, STYLESHEET);
  if (operator === null) return { stylesheets: [builtIn], icon };
  if (operator.kind === 'url') return { stylesheets: [builtIn, operator.path], icon };
  let text: string;
  try {
    text = readFileSync(operator.path, 'utf8');
  } catch {
    throw new ConfigError('LATCHKEY_STYLESHEET', `cannot read the file ${operator.path}`);
  }
  if (Buffer.byteLength(text) > MAX_STYLESHEET_BYTES) {
    throw new ConfigError('LATCHKEY_STYLESHEET', 'the file is larger than 256 KiB');
  }
  const theme = `/assets/theme-${contentHash(text)}.css`;
  serveAsset(app, theme, CSS, text);
  return { stylesheets: [builtIn, theme], icon };
}
