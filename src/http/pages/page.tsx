/**
 * What every page module gets: the pieces that make a page answer the same way as every other
 * (headers, CSP, redirects, who is signed in, the forms' CSRF tokens, refusals in words).
 * A page is one module that meets {@link PageModule}; `./index.ts` lists them.
 */

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import type { Latchkey } from '../../app/latchkey.js';
import { isLatchkeyError, LatchkeyError } from '../../errors.js';
import type { ClientInfo } from '../../session/sessions.js';
import type { Principal } from '../../use-cases/index.js';
import { clearAuthCookies, type CookieNames } from '../auth-cookies.js';
import {
  createPreSessionCSRF,
  sessionFormToken,
  verifySessionFormToken,
  type PreSessionCSRF,
} from './form-csrf.js';
import { ErrorView } from './error-page.js';
import type { Site, Visitor } from './layout.js';
import { refusalMessage } from './messages.js';

/**
 * The pages' Content-Security-Policy: nothing but the server's own stylesheets and images, forms
 * that post only to this origin, no framing, no `<base>`, and no script at all.
 */
export const PAGE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * `same-origin`, not the API's `no-referrer`: under `no-referrer` a browser sends `Origin: null`
 * with a form post, which the cross-site check must refuse.
 */
export const PAGE_REFERRER_POLICY = 'same-origin';

/** One page (or a few routes that belong together): its routes, registered in the pages' scope. */
export interface PageModule {
  /** For logs and docs: `login`, `account`, ... */
  readonly name: string;
  register(scope: FastifyInstance, kit: PageKit): void;
}

export interface PageKit {
  latchkey: Latchkey;
  names: CookieNames;
  site: Site;
  /** Login CSRF: the tokens of the forms shown before a session exists. */
  preSession: PreSessionCSRF;
  /**
   * Sends a rendered page with its status, the HTML type, the CSP ({@link PAGE_CSP} unless the
   * page needs its own, as `/lab` does for its script) and the referrer policy. A string is a page
   * rendered before (`renderToString`), for a page that is the same for everyone (`/docs/api`).
   */
  render(reply: FastifyReply, status: number, page: VNode | string, options?: { csp?: string }): FastifyReply;
  /** The error page, with `message` in words. */
  renderError(reply: FastifyReply, status: number, message: string): FastifyReply;
  /** A 303 to a path of this server (after a form post: a reload never posts again). */
  redirect(reply: FastifyReply, path: string): FastifyReply;
  /**
   * The visitor's session, from the session cookie (or a hybrid access cookie), or null. A dead
   * session cookie is cleared on `reply`. Throttled guessing is still a 429 (thrown).
   */
  signedIn(request: FastifyRequest, reply: FastifyReply): Promise<Principal | null>;
  /** The header's view of a signed-in visitor (with the token of the "Sign out" form). */
  visitor(principal: Principal): Visitor;
  /** The hidden-field token of a signed-in session's forms. */
  sessionToken(principal: Principal): string;
  /** True (and logged when false) when a signed-in form carries its session's token. */
  checkSessionToken(request: FastifyRequest, principal: Principal, token: string | undefined): boolean;
  /**
   * The words of a refusal the visitor can act on (a 4xx `LatchkeyError`), with `Retry-After`
   * set on `reply`; anything else is rethrown for the error page.
   */
  refusal(reply: FastifyReply, error: unknown): { status: number; message: string };
  /** What a sign-in records of the client. */
  clientInfo(request: FastifyRequest): ClientInfo & { ip: string };
}

export function createPageKit(latchkey: Latchkey, names: CookieNames, site: Site): PageKit {
  const { csrfKey, clock, auth } = latchkey;
  function render(
    reply: FastifyReply,
    status: number,
    page: VNode | string,
    options?: { csp?: string },
  ): FastifyReply {
    return reply
      .code(status)
      .type('text/html; charset=utf-8')
      .header('content-security-policy', options?.csp ?? PAGE_CSP)
      .header('referrer-policy', PAGE_REFERRER_POLICY)
      .send(`<!doctype html>${typeof page === 'string' ? page : renderToString(page)}`);
  }
  return {
    latchkey,
    names,
    site,
    preSession: createPreSessionCSRF({ key: csrfKey, names, clock }),

    render,

    renderError(reply, status, message) {
      return render(reply, status, <ErrorView site={site} status={status} message={message} />);
    },

    redirect(reply, path) {
      return reply.code(303).header('location', path).send();
    },

    async signedIn(request, reply) {
      const sessionCookie = request.cookies.get(names.session);
      const accessCookie = request.cookies.get(names.access);
      try {
        if (sessionCookie !== undefined)
          return await auth.authenticateSessionToken(sessionCookie, request.ip);
        if (accessCookie !== undefined) {
          return await auth.authenticateAccessToken(accessCookie, 'access-cookie', request.ip);
        }
        return null;
      } catch (error) {
        if (!isLatchkeyError(error) || error.status !== 401) throw error;
        // A hybrid access cookie that expired is the SDK's to refresh; a dead session cookie goes.
        if (sessionCookie !== undefined) clearAuthCookies(reply, names);
        return null;
      }
    },

    visitor(principal) {
      return { email: principal.user.email, csrfToken: sessionFormToken(csrfKey, principal.session.id) };
    },

    sessionToken(principal) {
      return sessionFormToken(csrfKey, principal.session.id);
    },

    checkSessionToken(request, principal, token) {
      if (verifySessionFormToken(csrfKey, principal.session.id, token)) return true;
      request.log.warn(
        {
          event: 'csrf.token_refused',
          userId: principal.user.id,
          sessionId: principal.session.id,
          ip: request.ip,
          missing: token === undefined,
        },
        'form refused: CSRF token missing or invalid',
      );
      return false;
    },

    refusal(reply, error) {
      if (!(error instanceof LatchkeyError) || error.status >= 500) throw error;
      if (error.retryAfter !== undefined) void reply.header('retry-after', String(error.retryAfter));
      return { status: error.status, message: refusalMessage(error) };
    },

    clientInfo(request) {
      const agent = request.headers['user-agent'];
      return { userAgent: typeof agent === 'string' ? agent.slice(0, 256) : null, ip: request.ip };
    },
  };
}

/** The refusal of a form whose CSRF token is missing, foreign or expired. */
export const CSRF_REFUSAL = { status: 403, message: refusalMessage(new LatchkeyError('csrf_failed')) };
