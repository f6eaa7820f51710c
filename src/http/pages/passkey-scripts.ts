/**
 * The passkey pages' scripts, built by `npm run build` (esbuild, from `src/passkey-ui/`) into
 * `dist/passkey-ui/{account,login,signup}.js` and served at `/assets/passkey-<name>-<hash>.js`: static
 * ES module files, so that the pages that load one need `script-src 'self'` and nothing
 * inline. The server imports nothing of `src/passkey-ui/`; it only serves the built files.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { PAGE_CSP } from './page.js';

/** The passkey scripts, one per page that loads one. */
export type PasskeyScript = 'account' | 'login' | 'signup';

/** The CSP of the pages with a passkey script: the pages' own, plus this origin's scripts and requests. */
export const PASSKEY_CSP = PAGE_CSP.replace(
  "default-src 'none';",
  "default-src 'none'; script-src 'self'; connect-src 'self';",
);

/** `dist/passkey-ui/<name>.js`, from `src/http/pages/` (tsx) and `dist/http/pages/` alike. */
export function passkeyBundle(name: PasskeyScript): URL {
  return new URL(`../../../dist/passkey-ui/${name}.js`, import.meta.url);
}

/**
 * Registers a script's route and answers its path, or null when it is not built (the page then
 * works without it: the forms that need no script stay).
 *
 * @example
 * const script = registerPasskeyScript(scope, 'login'); // '/assets/passkey-login-3vQ2….js'
 */
export function registerPasskeyScript(
  app: FastifyInstance,
  name: PasskeyScript,
  bundle: URL = passkeyBundle(name),
): string | null {
  let body: Buffer;
  try {
    body = readFileSync(bundle);
  } catch {
    app.log.warn(
      { event: 'passkey_ui.missing', script: name },
      'a passkey script is not built: run npm run build',
    );
    return null;
  }
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 12);
  const path = `/assets/passkey-${name}-${hash}.js`;
  const etag = `"${hash}"`;
  app.get(path, (request, reply) => {
    void reply.header('cache-control', 'public, max-age=31536000, immutable').header('etag', etag);
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type('text/javascript; charset=utf-8').send(body);
  });
  return path;
}
