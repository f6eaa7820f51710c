/**
 * `/verify?token=`: the page of a verification link (a button; the post marks the address
 * verified), and `/verify/resend`: a new link by address, answered alike whatever the address
 * (the sign-in page offers it when it refuses an unverified account).
 */

import { readForm } from './form-body.js';
import { EMAIL_FIELDS } from './forgot.js';
import { EmailForm, MailCard, SENT_MESSAGE } from './mail-views.js';
import { CSRF_REFUSAL, type PageModule } from './page.js';
import { registerButtonPage } from './token-page.js';

export const verifyPage: PageModule = {
  name: 'verify',
  register(scope, kit) {
    registerButtonPage(scope, kit, {
      path: '/verify',
      title: 'Confirm your email',
      lead: 'Confirm that this address is yours.',
      button: 'Confirm my email',
      again: { href: '/login', label: 'Sign in to get a new link' },
      async use(request, reply, token) {
        await kit.latchkey.auth.verifyEmail(token);
        const signedIn = (await kit.signedIn(request, reply)) !== null;
        return kit.redirect(reply, `${signedIn ? '/account' : '/login'}?notice=email_verified`);
      },
    });

    scope.get('/verify/sent', async (_request, reply) =>
      kit.render(
        reply,
        200,
        <MailCard site={kit.site} title="Check your email" notice={SENT_MESSAGE}>
          <p class="lk-switch">
            <a href="/login">Back to sign in</a>
          </p>
        </MailCard>,
      ),
    );

    scope.post('/verify/resend', async (request, reply) => {
      const form = readForm(request.body, EMAIL_FIELDS);
      const again = (status: number, error: string): ReturnType<typeof kit.render> =>
        kit.render(
          reply,
          status,
          <MailCard site={kit.site} title="Confirm your email" error={error}>
            <EmailForm
              action="/verify/resend"
              csrfToken={kit.preSession.issue(request, reply)}
              button="Send the link again"
              email={form.email}
              error
            />
          </MailCard>,
        );
      if (!kit.preSession.verify(request, form.csrf_token)) {
        request.log.warn({ event: 'csrf.login_refused', ip: request.ip }, 'resend form refused: CSRF token');
        return again(CSRF_REFUSAL.status, CSRF_REFUSAL.message);
      }
      try {
        await kit.latchkey.auth.requestVerification({ email: form.email, ip: request.ip });
      } catch (error) {
        const refusal = kit.refusal(reply, error);
        return again(refusal.status, refusal.message);
      }
      return kit.redirect(reply, '/verify/sent');
    });
  },
};
