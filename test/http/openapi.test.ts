/**
 * The OpenAPI document (`GET /openapi.json`): valid OpenAPI 3.1 by an independent validator, one
 * operation for each route the server registered and no other, and what every operation must
 * say (a tag, a summary, its credentials, its answers). What the routes answer is checked
 * against it in `openapi-conformance.test.ts`.
 */

import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredRoutes } from '../../src/http/openapi/document.js';
import { TAGS } from '../../src/http/openapi/route-schema.js';
import { PAGE_CSP } from '../../src/http/pages/index.js';
import { createTestApp, ISSUER, type TestApp } from '../helpers/app.js';
import { openAPIPath, type OpenAPIDocument } from '../helpers/openapi.js';

type Operation = {
  tags?: string[];
  summary?: string;
  security?: Record<string, string[]>[];
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
};

let t: TestApp;
let document: OpenAPIDocument & { servers: { url: string }[]; components: { securitySchemes: object } };

beforeAll(async () => {
  t = await createTestApp();
  const response = await t.app.inject({ url: '/openapi.json' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
  document = response.json();
});
afterAll(async () => t.close());

function operations(): [string, string, Operation][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item as Record<string, Operation>).map(
      ([method, op]) => [path, method, op] as [string, string, Operation],
    ),
  );
}

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(document as never);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('documents every route the server registered, and only those', () => {
    const routes = registeredRoutes(t.app).filter((route) => !route.hidden);
    const registered = new Set(
      routes.map((route) => `${route.method.toLowerCase()} ${openAPIPath(route.url)}`),
    );
    const documented = new Set(operations().map(([path, method]) => `${method} ${path}`));
    expect(
      [...registered].filter((route) => !documented.has(route)),
      'registered, undocumented',
    ).toEqual([]);
    expect(
      [...documented].filter((route) => !registered.has(route)),
      'documented, not registered',
    ).toEqual([]);
    expect(documented.size).toBeGreaterThan(35);
    // The pages are forms for browsers: registered, kept out.
    const hidden = registeredRoutes(t.app)
      .filter((route) => route.hidden)
      .map((route) => route.url);
    expect(hidden).toEqual(expect.arrayContaining(['/login', '/account', '/docs/api', '/favicon.ico']));
    expect(document.paths['/login']).toBeUndefined();
  });

  it('gives every operation a known tag, a summary, its credentials and its answers', () => {
    const tags = new Set<string>(TAGS.map((tag) => tag.name));
    const schemes = Object.keys(document.components.securitySchemes);
    for (const [path, method, op] of operations()) {
      const where = `${method} ${path}`;
      expect(op.tags?.length, where).toBe(1);
      expect(tags.has(op.tags?.[0] ?? ''), where).toBe(true);
      expect(op.summary, where).toBeTruthy();
      expect(op.security, where).toBeDefined();
      for (const requirement of op.security ?? []) {
        for (const scheme of Object.keys(requirement)) expect(schemes, where).toContain(scheme);
      }
      const statuses = Object.keys(op.responses);
      expect(
        statuses.some((status) => /^[23]/.test(status)),
        where,
      ).toBe(true);
      expect(statuses, where).toContain('5XX');
      if (method !== 'get') expect(statuses, where).toContain('403');
      // Every error is a problem document, or the RFC 6749 error on the OAuth endpoints.
      for (const status of statuses.filter((s) => /^[45]/.test(s))) {
        const content = op.responses[status]?.content ?? {};
        const refs = Object.entries(content).map(([type, media]) => `${type} ${media.schema.$ref ?? ''}`);
        expect(refs, `${where} ${status}`).toEqual([
          expect.stringMatching(
            /^(application\/problem\+json #\/components\/schemas\/Problem|application\/json #\/components\/schemas\/OAuthError)$/,
          ),
        ]);
      }
    }
  });

  it('names the server, the security schemes and the error schema', () => {
    expect(document.openapi).toBe('3.1.0');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect((document as unknown as { info: { version: string } }).info.version).toBe(pkg.version);
    expect(document.servers).toEqual([{ url: ISSUER }]);
    expect(document.components.securitySchemes).toMatchObject({
      sessionCookie: { type: 'apiKey', in: 'cookie', name: '__Host-latchkey_session' },
      csrfHeader: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token' },
      bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      clientBasic: { type: 'http', scheme: 'basic' },
    });
    expect(document.components.schemas).toHaveProperty('Problem');
    const token = document.paths['/oauth/token']?.post as unknown as {
      security: unknown;
      requestBody: { content: object };
    };
    expect(token.security).toEqual([{ clientBasic: [] }, {}]);
    expect(Object.keys(token.requestBody.content)).toEqual([
      'application/x-www-form-urlencoded',
      'application/json',
    ]);
  });
});

describe('response schemas', () => {
  it('document the answers without reshaping them: a member the schema does not name is still sent', async () => {
    const app = (await import('../../src/http/server.js')).createHTTPServer(t.latchkey);
    app.get(
      '/test/extra',
      {
        schema: {
          hide: true,
          response: { 200: { type: 'object', additionalProperties: false, properties: {} } },
        },
      },
      () => Promise.resolve({ kept: 1, number: '2' }),
    );
    await app.ready();
    try {
      const response = await app.inject({ url: '/test/extra' });
      expect(response.json()).toEqual({ kept: 1, number: '2' });
    } finally {
      await app.close();
    }
  });
});

describe('GET /docs/api', () => {
  it('renders every operation on the server, with no script and nothing from another origin, under the pages’ CSP', async () => {
    const response = await t.app.inject({ url: '/docs/api' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['content-security-policy']).toBe(PAGE_CSP);
    const html = response.body;
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\s(src|href)="(https?:)?\/\//i);
    for (const [path, method, op] of operations()) {
      expect(html, `${method} ${path}`).toContain(`id="op-${method}-${path.replace(/[^A-Za-z0-9]+/g, '-')}"`);
      expect(html).toContain(`${method.toUpperCase()}</span> <code>${path}</code>`);
      expect(html).toContain(op.summary?.replace(/&/g, '&amp;').replace(/</g, '&lt;') ?? '');
    }
    for (const tag of TAGS) expect(html).toContain(`<h2>${tag.name}</h2>`);
    expect(html).toContain('id="schema-Problem"');
    expect(html).toContain('<a href="/openapi.json">');
  });

  it('follows LATCHKEY_PAGES: with the pages off it is gone, /openapi.json stays', async () => {
    const off = await createTestApp({ config: { pages: { ...t.latchkey.config.pages, enabled: false } } });
    try {
      expect((await off.app.inject({ url: '/docs/api' })).statusCode).toBe(404);
      const document = await off.app.inject({ url: '/openapi.json' });
      expect(document.statusCode).toBe(200);
      expect(Object.keys(document.json<OpenAPIDocument>().paths)).toContain('/v1/login');
      // With the pages off, no route is hidden: every one is documented.
      expect(registeredRoutes(off.app).filter((route) => route.hidden)).toEqual([]);
    } finally {
      await off.close();
    }
  });
});
