/**
 * The script of `/lab`, built by `npm run build` (esbuild, from `src/lab/`) into
 * `dist/lab/lab.js` and served at `/assets/lab-<hash>.js`: a static ES module file, so that the
 * page's CSP needs `script-src 'self'` and nothing inline.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

/** `dist/lab/lab.js`, from `src/http/pages/` (tsx) and `dist/http/pages/` alike. */
export const LAB_BUNDLE = new URL('../../../dist/lab/lab.js', import.meta.url);

/**
 * Registers the script's route and answers its path, or null when it is not built (the page
 * then says so instead of showing panels that cannot work).
 *
 * @example
 * const script = registerLabScript(scope); // '/assets/lab-3vQ2….js'
 */
export function registerLabScript(app: FastifyInstance, bundle: URL = LAB_BUNDLE): string | null {
  let body: Buffer;
  try {
    body = readFileSync(bundle);
  } catch {
    app.log.warn({ event: 'lab.missing' }, 'the /lab script is not built: run npm run build');
    return null;
  }
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 12);
  const path = `/assets/lab-${hash}.js`;
  const etag = `"${hash}"`;
  app.get(path, (request, reply) => {
    void reply.header('cache-control', 'public, max-age=31536000, immutable').header('etag', etag);
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type('text/javascript; charset=utf-8').send(body);
  });
  return path;
}
