/**
 * `GET /sdk/latchkey-browser.js`: the browser SDK (`latchkey/browser`) as one ready ES module,
 * so that a plain HTML page can import it with no bundler. The file is built by `npm run build`
 * (esbuild) into `dist/sdk/`; this route reads it once and serves it with a content hash as
 * its ETag. `?v=<hash>` (the ETag's value) makes the URL immutable for a year.
 */

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { LatchkeyError } from '../../errors.js';
import { PUBLIC, empty, json, problems } from '../openapi/route-schema.js';

const SDK_SCHEMA = {
  tags: ['Discovery'],
  summary: 'The browser SDK as one ES module',
  description: '`?v=<hash>` (the ETag’s value) makes the URL immutable for a year.',
  security: PUBLIC,
  // No type: the route reads `v` itself (a repeated one just does not pin); documented, not checked.
  querystring: { type: 'object', properties: { v: { description: 'The content hash (a string).' } } },
  response: {
    200: json({ type: 'string' }, 'The module (`latchkey/browser`, bundled).', 'text/javascript'),
    304: empty('Not modified (`If-None-Match`).'),
    ...problems(404),
  },
};

/** `dist/sdk/latchkey-browser.js`, from `src/http/routes/` (tsx) and `dist/http/routes/` alike. */
export const SDK_BUNDLE = new URL('../../../dist/sdk/latchkey-browser.js', import.meta.url);

interface Bundle {
  body: Buffer;
  hash: string;
}

export function registerSDKRoutes(app: FastifyInstance, options: { bundle?: URL } = {}): void {
  let bundle: Promise<Bundle | null> | null = null;
  const load = async (): Promise<Bundle | null> => {
    try {
      const body = await readFile(options.bundle ?? SDK_BUNDLE);
      return { body, hash: createHash('sha256').update(body).digest('base64url').slice(0, 22) };
    } catch {
      app.log.warn({ event: 'sdk.missing' }, 'the browser SDK is not built: run npm run build');
      return null;
    }
  };

  app.get<{ Querystring: { v?: string } }>(
    '/sdk/latchkey-browser.js',
    { schema: SDK_SCHEMA },
    async (request, reply) => {
      bundle ??= load();
      const loaded = await bundle;
      if (loaded === null) {
        bundle = null;
        throw new LatchkeyError('not_found', 'The browser SDK is not built (npm run build)');
      }
      const etag = `"${loaded.hash}"`;
      const pinned = request.query.v === loaded.hash;
      void reply
        .header('etag', etag)
        .header('cache-control', pinned ? 'public, max-age=31536000, immutable' : 'public, max-age=86400')
        .header('x-content-type-options', 'nosniff')
        .header('cross-origin-resource-policy', 'cross-origin');
      // A public file with no credential in it: any origin may import it (module scripts use CORS).
      if (!reply.hasHeader('access-control-allow-origin'))
        void reply.header('access-control-allow-origin', '*');
      const match = request.headers['if-none-match'];
      if (
        typeof match === 'string' &&
        match.split(/\s*,\s*/).some((tag) => tag.replace(/^W\//, '') === etag)
      ) {
        return reply.code(304).send();
      }
      return reply.type('text/javascript; charset=utf-8').send(loaded.body);
    },
  );
}
