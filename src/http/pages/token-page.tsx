/**
 * What the pages of the mails' links share: a GET that shows a button (the token in a hidden
 * field, never used by the GET: a mail client's link scanner may open it), and a post that
 * checks the form's CSRF token and then uses the link, once.
 */

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isLatchkeyError } from '../../errors.js';
import { readForm } from './form-body.js';
import { InvalidLinkView, MailCard, TokenForm } from './mail-views.js';
import { CSRF_REFUSAL, type PageKit } from './page.js';
import { TOKEN_MAX } from './reset.js';

export interface ButtonPage {
  path: string;
  title: string;
  lead: string;
  button: string;
  /** Where an unusable link sends the visitor. */
  again: { href: string; label: string };
  /** Uses the link; its answer ends the post (a redirect). */
  use(request: FastifyRequest, reply: FastifyReply, token: string): Promise<FastifyReply>;
}

const TOKEN_FIELDS = {
  token: { maxLength: TOKEN_MAX, required: true },
  csrf_token: { maxLength: 128 },
} as const;

/** The token of a link's query, or null when it cannot be one. */
export function queryToken(query: { token?: unknown }): string | null {
  const token = query.token;
  return typeof token === 'string' && token !== '' && token.length <= TOKEN_MAX ? token : null;
}

export function registerButtonPage(scope: FastifyInstance, kit: PageKit, page: ButtonPage): void {
  const invalid = (reply: FastifyReply): FastifyReply =>
    kit.render(reply, 400, <InvalidLinkView site={kit.site} title={page.title} again={page.again} />);
  const show = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    token: string,
    error?: string,
  ): FastifyReply =>
    kit.render(
      reply,
      status,
      <MailCard site={kit.site} title={page.title} lead={page.lead} error={error}>
        <TokenForm
          action={page.path}
          csrfToken={kit.preSession.issue(request, reply)}
          token={token}
          button={page.button}
        />
      </MailCard>,
    );

  scope.get<{ Querystring: { token?: unknown } }>(page.path, async (request, reply) => {
    const token = queryToken(request.query);
    return token === null ? invalid(reply) : show(request, reply, 200, token);
  });

  scope.post(page.path, async (request, reply) => {
    const form = readForm(request.body, TOKEN_FIELDS);
    if (!kit.preSession.verify(request, form.csrf_token)) {
      request.log.warn({ event: 'csrf.login_refused', ip: request.ip }, 'link form refused: CSRF token');
      return show(request, reply, CSRF_REFUSAL.status, form.token, CSRF_REFUSAL.message);
    }
    try {
      return await page.use(request, reply, form.token);
    } catch (error) {
      if (isLatchkeyError(error, 'invalid_link')) return invalid(reply);
      const refusal = kit.refusal(reply, error);
      return show(request, reply, refusal.status, form.token, refusal.message);
    }
  });
}
