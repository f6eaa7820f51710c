/**
 * The pages `latchkey serve` renders for browsers. Each page is one module that meets
 * `PageModule` (`./page.tsx`); adding a page is adding its module and one line to {@link PAGES}.
 * The pages call the use cases (`latchkey.auth`) as the JSON routes do, never the JSON API.
 *
 * Their routes live in one Fastify scope with its own body parser (urlencoded forms only, see
 * `./form-body.ts`) and its own error handler (an HTML page instead of problem+json).
 */

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Latchkey } from '../../app/latchkey.js';
import type { CookieNames } from '../auth-cookies.js';
import { errorHandler } from '../error-handler.js';
import { accountPage } from './account.js';
import { apiDocsPage } from './api-docs.js';
import { registerAssets } from './assets.js';
import { FORM_BODY_LIMIT, parseFormBody } from './form-body.js';
import { emailConfirmPage } from './email-confirm.js';
import { forgotPage } from './forgot.js';
import { homePage } from './home.js';
import { labPage } from './lab.js';
import { loginPage } from './login.js';
import { loginLinkPage } from './login-link.js';
import { logoutPage } from './logout.js';
import { loginSecondFactorPage } from './login-second-factor.js';
import { refusalMessage } from './messages.js';
import { resetPage } from './reset.js';
import { passkeysPage } from './passkeys.js';
import { createPageKit, type PageKit, type PageModule } from './page.js';
import { securityPage } from './security.js';
import { signupPage } from './signup.js';
import { verifyPage } from './verify.js';

export type { PageKit, PageModule } from './page.js';
export { PAGE_CSP } from './page.js';

/** Every page, in the order their routes are registered. */
export const PAGES: readonly PageModule[] = [
  homePage,
  signupPage,
  loginPage,
  logoutPage,
  accountPage,
  labPage,
  loginSecondFactorPage,
  securityPage,
  // The pages the mails link to.
  forgotPage,
  resetPage,
  verifyPage,
  loginLinkPage,
  emailConfirmPage,
  passkeysPage,
  // The API reference (the document itself, /openapi.json, is served with the pages off too).
  apiDocsPage,
];

/** Paths that stay the API's: their unknown URLs answer problem+json whatever the Accept header. */
const API_PREFIXES = ['/v1/', '/oauth/', '/.well-known/', '/sdk/', '/healthz'];

export interface PagesHandle {
  /**
   * Answers an unknown URL with the HTML 404 page when a browser asks for a page (a GET for
   * `text/html` outside the API's paths); returns null to let the API answer.
   */
  notFound(request: FastifyRequest, reply: FastifyReply): FastifyReply | null;
}

function wantsPage(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const accept = request.headers.accept ?? '';
  return accept.includes('text/html') && !API_PREFIXES.some((prefix) => request.url.startsWith(prefix));
}

/**
 * Registers the stylesheet routes and every page.
 *
 * @example
 * const pages = config.pages.enabled ? registerPages(app, latchkey, names) : null;
 */
export function registerPages(app: FastifyInstance, latchkey: Latchkey, names: CookieNames): PagesHandle {
  const assets = registerAssets(app, latchkey.config.pages.stylesheet);
  const kit: PageKit = createPageKit(latchkey, names, { brand: latchkey.config.pages.brand, ...assets });
  app.register((scope, _options, done) => {
    // The pages are forms for browsers, not the API: kept out of /openapi.json.
    scope.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, hide: true };
    });
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
      (_request, body, parsed) => {
        try {
          parsed(null, parseFormBody(body as string));
        } catch (error) {
          parsed(error as Error, undefined);
        }
      },
    );
    scope.setErrorHandler(
      errorHandler((reply, error) => {
        if (error.retryAfter !== undefined) void reply.header('retry-after', String(error.retryAfter));
        return kit.renderError(reply, error.status, refusalMessage(error));
      }),
    );
    for (const page of PAGES) page.register(scope, kit);
    done();
  });
  return {
    notFound(request, reply) {
      if (!wantsPage(request)) return null;
      return kit.renderError(reply, 404, 'There is no page at this address.');
    },
  };
}
