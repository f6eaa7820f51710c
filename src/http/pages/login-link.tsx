/**
 * `/login/link`: sign-in links. A post with `email` asks for one (the same neutral answer
 * whatever the address, and a fresh binding cookie, as `POST /v1/login/link` sets). The link's
 * page (`?token=`) shows a "Sign in" button; its post signs in at once in the browser that asked
 * (the binding cookie), and in any other only after a second, explicit confirmation.
 */

import type { FastifyReply } from 'fastify';
import { serializeCookie } from '../../cookies/cookies.js';
import { isLatchkeyError } from '../../errors.js';
import { randomSecret, sha256 } from '../../lib/secrets.js';
import { baseCookie, sessionCookie } from '../auth-cookies.js';
import { bindingCookieName } from '../routes/recovery.js';
import { readForm } from './form-body.js';
import { EmailForm, InvalidLinkView, MailCard, SENT_MESSAGE, TokenForm } from './mail-views.js';
import { CSRF_REFUSAL, type PageKit, type PageModule } from './page.js';
import { TOKEN_MAX } from './reset.js';
import { queryToken } from './token-page.js';

const LINK_FIELDS = {
  email: { maxLength: 320 },
  token: { maxLength: TOKEN_MAX },
  confirm: { maxLength: 8 },
  csrf_token: { maxLength: 128 },
  // The sign-in form's button "Email me a sign-in link" posts its other fields too; never read.
  password: { maxLength: 4096 },
  remember: { maxLength: 8 },
} as const;

const TITLE = 'Sign in with a link';
const AGAIN = { href: '/login', label: 'Ask for a new sign-in link' };

interface LinkPageProps {
  csrfToken: string;
  token: string;
  confirm: boolean;
  error?: string;
}

/** The link's page: its "Sign in" button, or the confirmation another browser needs. */
function linkPage(kit: PageKit, reply: FastifyReply, status: number, props: LinkPageProps): FastifyReply {
  return kit.render(
    reply,
    status,
    <MailCard
      site={kit.site}
      title={props.confirm ? 'Sign in on this device?' : TITLE}
      lead={
        props.confirm
          ? 'This link was asked for on another browser or device. Sign in here only if you are the one who asked for it.'
          : `Sign in to ${kit.site.brand} with the link we emailed you.`
      }
      error={props.error}
    >
      <TokenForm
        action="/login/link"
        csrfToken={props.csrfToken}
        token={props.token}
        confirm={props.confirm}
        button={props.confirm ? 'Sign in on this device' : 'Sign in'}
      />
    </MailCard>,
  );
}

export const loginLinkPage: PageModule = {
  name: 'login-link',
  register(scope, kit) {
    const { latchkey, names } = kit;
    const binding = bindingCookieName(names);

    scope.get<{ Querystring: { token?: unknown } }>('/login/link', async (request, reply) => {
      const token = queryToken(request.query);
      if (token === null) {
        return kit.render(reply, 400, <InvalidLinkView site={kit.site} title={TITLE} again={AGAIN} />);
      }
      const csrfToken = kit.preSession.issue(request, reply);
      return linkPage(kit, reply, 200, { csrfToken, token, confirm: false });
    });

    scope.get('/login/link/sent', async (_request, reply) =>
      kit.render(
        reply,
        200,
        <MailCard site={kit.site} title="Check your email" notice={SENT_MESSAGE}>
          <p class="lk-switch">
            Open the link in this browser to sign in at once. <a href="/login">Back to sign in</a>
          </p>
        </MailCard>,
      ),
    );

    scope.post('/login/link', async (request, reply) => {
      if (!latchkey.config.mail.signInLinks) {
        return kit.renderError(
          reply,
          404,
          'Sign-in links are off on this server. Sign in with your password.',
        );
      }
      const form = readForm(request.body, LINK_FIELDS);
      const confirm = form.confirm === 'yes';
      const refuse = (status: number, error: string): ReturnType<typeof kit.render> => {
        const csrfToken = kit.preSession.issue(request, reply);
        if (form.token !== undefined)
          return linkPage(kit, reply, status, { csrfToken, token: form.token, confirm, error });
        return kit.render(
          reply,
          status,
          <MailCard site={kit.site} title={TITLE} error={error}>
            <EmailForm
              action="/login/link"
              csrfToken={csrfToken}
              button="Email me a sign-in link"
              email={form.email}
              error
            />
          </MailCard>,
        );
      };
      if (!kit.preSession.verify(request, form.csrf_token)) {
        request.log.warn(
          { event: 'csrf.login_refused', ip: request.ip },
          'sign-in link form refused: CSRF token',
        );
        return refuse(CSRF_REFUSAL.status, CSRF_REFUSAL.message);
      }
      if (form.token === undefined) {
        if (form.email === undefined)
          return refuse(400, 'Enter a valid email address, like name@example.com.');
        const value = randomSecret(32);
        try {
          await latchkey.auth.requestSignInLink({
            email: form.email,
            ip: request.ip,
            binding: sha256(value),
          });
        } catch (error) {
          const refusal = kit.refusal(reply, error);
          return refuse(refusal.status, refusal.message);
        }
        const maxAge = Math.floor(latchkey.config.mail.signInLinkTTL / 1000);
        void reply.header('set-cookie', serializeCookie(binding, value, { ...baseCookie(names), maxAge }));
        return kit.redirect(reply, '/login/link/sent');
      }
      let result;
      try {
        result = await latchkey.auth.redeemSignInLink({
          token: form.token,
          mode: 'cookie',
          client: kit.clientInfo(request),
          binding: request.cookies.get(binding),
          confirm,
        });
      } catch (error) {
        if (isLatchkeyError(error, 'confirmation_required')) {
          const csrfToken = kit.preSession.issue(request, reply);
          return linkPage(kit, reply, 200, { csrfToken, token: form.token, confirm: true });
        }
        if (isLatchkeyError(error, 'invalid_link')) {
          return kit.render(reply, 400, <InvalidLinkView site={kit.site} title={TITLE} again={AGAIN} />);
        }
        const refusal = kit.refusal(reply, error);
        return refuse(refusal.status, refusal.message);
      }
      void reply.header('set-cookie', [
        sessionCookie(names, result.sessionToken, result.session, latchkey.clock()),
        serializeCookie(binding, '', { ...baseCookie(names), maxAge: 0 }),
      ]);
      return kit.redirect(reply, '/account');
    });
  },
};
