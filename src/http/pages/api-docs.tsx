/**
 * `/docs/api`: the API reference, rendered on the server from the OpenAPI document the routes
 * generate (`../openapi/document.ts`). A page like the others (the pages' stylesheet, the strict
 * {@link PAGE_CSP}, no script, nothing from another origin), so it follows `LATCHKEY_PAGES`;
 * `/openapi.json` stays with the pages off.
 */

import { renderToString } from 'preact-render-to-string';
import { APIDocsView, type APIDocument } from './api-docs-view.js';
import type { PageModule } from './page.js';

export const apiDocsPage: PageModule = {
  name: 'api-docs',
  register(scope, kit) {
    // The same for everyone (no visitor in its header): rendered once, at the first call (~40 ms).
    let html: string | null = null;
    scope.get('/docs/api', async (_request, reply) => {
      html ??= renderToString(
        <APIDocsView site={kit.site} document={scope.swagger() as unknown as APIDocument} />,
      );
      void reply.header('cache-control', 'public, max-age=300');
      return kit.render(reply, 200, html);
    });
  },
};
