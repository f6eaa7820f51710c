/**
 * `/forgot`: "mail me a reset link". Every post ends on the same page (`/forgot/sent`), whether
 * or not the address has an account; only a throttle or a malformed address is said.
 */

import { readForm } from './form-body.js';
import { EmailForm, MailCard, SENT_MESSAGE } from './mail-views.js';
import { CSRF_REFUSAL, type PageModule } from './page.js';

export const EMAIL_FIELDS = {
  email: { maxLength: 320, required: true },
  csrf_token: { maxLength: 128 },
} as const;

export const forgotPage: PageModule = {
  name: 'forgot',
  register(scope, kit) {
    const title = 'Reset your password';
    const lead = 'Enter the address of your account and we will email you a link to choose a new password.';

    scope.get('/forgot', async (request, reply) => {
      const csrfToken = kit.preSession.issue(request, reply);
      return kit.render(
        reply,
        200,
        <MailCard site={kit.site} title={title} lead={lead}>
          <EmailForm action="/forgot" csrfToken={csrfToken} button="Email me a link" />
          <p class="lk-switch">
            Remembered it? <a href="/login">Sign in</a>
          </p>
        </MailCard>,
      );
    });

    scope.get('/forgot/sent', async (_request, reply) =>
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

    scope.post('/forgot', async (request, reply) => {
      const form = readForm(request.body, EMAIL_FIELDS);
      const again = (status: number, error: string): ReturnType<typeof kit.render> =>
        kit.render(
          reply,
          status,
          <MailCard site={kit.site} title={title} lead={lead} error={error}>
            <EmailForm
              action="/forgot"
              csrfToken={kit.preSession.issue(request, reply)}
              button="Email me a link"
              email={form.email}
              error
            />
          </MailCard>,
        );
      if (!kit.preSession.verify(request, form.csrf_token)) {
        request.log.warn({ event: 'csrf.login_refused', ip: request.ip }, 'forgot form refused: CSRF token');
        return again(CSRF_REFUSAL.status, CSRF_REFUSAL.message);
      }
      try {
        await kit.latchkey.auth.forgotPassword({ email: form.email, ip: request.ip });
      } catch (error) {
        const refusal = kit.refusal(reply, error);
        return again(refusal.status, refusal.message);
      }
      return kit.redirect(reply, '/forgot/sent');
    });
  },
};
