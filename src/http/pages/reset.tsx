/**
 * `/reset?token=`: the page of a reset link. The GET shows a new-password form with the token
 * in a hidden field and never uses it; the post sets the password (which signs out every session
 * of the account) and ends on `/login` with a notice.
 */

import type { JSX } from 'preact';
import { isLatchkeyError } from '../../errors.js';
import { readForm } from './form-body.js';
import { Field, type Site } from './layout.js';
import { InvalidLinkView, MailCard, TokenForm } from './mail-views.js';
import { CSRF_REFUSAL, type PageModule } from './page.js';

export const TOKEN_MAX = 256;

const RESET_FIELDS = {
  token: { maxLength: TOKEN_MAX, required: true },
  password: { maxLength: 4096, required: true },
  csrf_token: { maxLength: 128 },
} as const;

const TITLE = 'Choose a new password';

function ResetView(props: { site: Site; csrfToken: string; token: string; error?: string }): JSX.Element {
  return (
    <MailCard
      site={props.site}
      title={TITLE}
      lead="Your new password signs you out on every device."
      error={props.error}
    >
      <TokenForm
        action="/reset"
        csrfToken={props.csrfToken}
        token={props.token}
        button="Set the new password"
      >
        <Field
          id="password"
          name="password"
          type="password"
          label="New password"
          autocomplete="new-password"
          errorId={props.error ? 'page-error' : undefined}
          autofocus
        />
      </TokenForm>
    </MailCard>
  );
}

const AGAIN = { href: '/forgot', label: 'Ask for a new link' };

export const resetPage: PageModule = {
  name: 'reset',
  register(scope, kit) {
    scope.get<{ Querystring: { token?: unknown } }>('/reset', async (request, reply) => {
      const token = request.query.token;
      if (typeof token !== 'string' || token === '' || token.length > TOKEN_MAX) {
        return kit.render(reply, 400, <InvalidLinkView site={kit.site} title={TITLE} again={AGAIN} />);
      }
      const csrfToken = kit.preSession.issue(request, reply);
      return kit.render(reply, 200, <ResetView site={kit.site} csrfToken={csrfToken} token={token} />);
    });

    scope.post('/reset', async (request, reply) => {
      const form = readForm(request.body, RESET_FIELDS);
      const again = (status: number, error: string): ReturnType<typeof kit.render> =>
        kit.render(
          reply,
          status,
          <ResetView
            site={kit.site}
            csrfToken={kit.preSession.issue(request, reply)}
            token={form.token}
            error={error}
          />,
        );
      if (!kit.preSession.verify(request, form.csrf_token)) {
        request.log.warn({ event: 'csrf.login_refused', ip: request.ip }, 'reset form refused: CSRF token');
        return again(CSRF_REFUSAL.status, CSRF_REFUSAL.message);
      }
      try {
        await kit.latchkey.auth.resetPassword({ token: form.token, password: form.password, ip: request.ip });
      } catch (error) {
        if (isLatchkeyError(error, 'invalid_link')) {
          return kit.render(reply, 400, <InvalidLinkView site={kit.site} title={TITLE} again={AGAIN} />);
        }
        const refusal = kit.refusal(reply, error);
        return again(refusal.status, refusal.message);
      }
      return kit.redirect(reply, '/login?notice=password_reset');
    });
  },
};
