/**
 * The second step of `/login` for an account with two-factor authentication. When the password
 * step answers `mfa_required`, the sign-in page shows this step instead: the challenge in a
 * hidden field, a field for the 6-digit code, and (inside a `<details>`, so it works without
 * JavaScript) a second small form for a recovery code. Both post to `/login/verify`, which ends
 * like a page login: a cookie session ("remember me" travels with the challenge), then 303.
 *
 * The challenge is a bearer credential for five minutes, so the step's forms carry the same
 * login-CSRF token as the sign-in form (bound to this browser's form cookie): another site
 * cannot post a challenge of its own account into the victim's browser (login CSRF).
 */

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JSX } from 'preact';
import { isLatchkeyError, LatchkeyError } from '../../errors.js';
import { sessionCookie } from '../auth-cookies.js';
import { readForm } from './form-body.js';
import { Alert, CSRFField, Field, Layout, type Site } from './layout.js';
import { LoginView } from './login.js';
import { CSRF_REFUSAL, type PageKit, type PageModule } from './page.js';
import { CodeField } from './security-view.js';

const VERIFY_FIELDS = {
  csrf_token: { maxLength: 128 },
  challenge: { maxLength: 200, required: true },
  code: { maxLength: 16 },
  recovery_code: { maxLength: 40 },
} as const;

interface SecondFactorViewProps {
  site: Site;
  csrfToken: string;
  challenge: string;
  error?: string | null;
  /** Which form the error belongs to; the recovery form is shown open for its own error. */
  errorOf?: 'code' | 'recovery_code';
}

export function SecondFactorView(props: SecondFactorViewProps): JSX.Element {
  const codeError = props.error && props.errorOf !== 'recovery_code' ? 'code-error' : undefined;
  const recoveryError = props.error && props.errorOf === 'recovery_code' ? 'recovery-error' : undefined;
  return (
    <Layout site={props.site} title="Two-factor authentication">
      <section class="lk-card lk-narrow" aria-labelledby="mfa-title">
        <h1 id="mfa-title">Two-factor authentication</h1>
        <p class="lk-lead">Enter the 6-digit code from your authenticator app.</p>
        {codeError ? (
          <Alert kind="error" id={codeError}>
            {props.error}
          </Alert>
        ) : null}
        <form method="post" action="/login/verify">
          <CSRFField token={props.csrfToken} />
          <input type="hidden" name="challenge" value={props.challenge} />
          <CodeField id="code" label="Code" errorId={codeError} autofocus={recoveryError === undefined} />
          <button type="submit" class="lk-primary">
            Verify
          </button>
        </form>
        <details class="lk-alt" open={recoveryError !== undefined}>
          <summary>Use a recovery code instead</summary>
          {recoveryError ? (
            <Alert kind="error" id={recoveryError}>
              {props.error}
            </Alert>
          ) : null}
          <form method="post" action="/login/verify">
            <CSRFField token={props.csrfToken} />
            <input type="hidden" name="challenge" value={props.challenge} />
            <Field
              id="recovery-code"
              name="recovery_code"
              type="text"
              label="Recovery code"
              autocomplete="off"
              hint="One of the codes you saved when you turned on two-factor authentication, like K7QD-M2XE-9HTR-PW4A. Each works once."
              errorId={recoveryError}
              autofocus={recoveryError !== undefined}
            />
            <button type="submit" class="lk-secondary">
              Use recovery code
            </button>
          </form>
        </details>
        <p class="lk-switch">
          <a href="/login">Cancel and sign in again</a>
        </p>
      </section>
    </Layout>
  );
}

/** Renders the second step with a fresh login-CSRF token for this browser's form cookie. */
export function renderSecondStep(
  kit: PageKit,
  request: FastifyRequest,
  reply: FastifyReply,
  options: { challenge: string; status?: number; error?: string; errorOf?: 'code' | 'recovery_code' },
): FastifyReply {
  return kit.render(
    reply,
    options.status ?? 200,
    <SecondFactorView
      site={kit.site}
      csrfToken={kit.preSession.issue(request, reply)}
      challenge={options.challenge}
      error={options.error ?? null}
      {...(options.errorOf === undefined ? {} : { errorOf: options.errorOf })}
    />,
  );
}

/** The challenge of an `mfa_required` refusal. */
export function challengeOf(error: LatchkeyError): string {
  const challenge = error.extensions?.challenge;
  if (typeof challenge !== 'string') throw new LatchkeyError('internal_error');
  return challenge;
}

export const loginSecondFactorPage: PageModule = {
  name: 'login-second-factor',
  register(scope, kit) {
    const { latchkey, names } = kit;

    scope.post('/login/verify', async (request, reply) => {
      const form = readForm(request.body, VERIFY_FIELDS);
      if ((form.code === undefined) === (form.recovery_code === undefined)) {
        throw new LatchkeyError('bad_request', 'The form needs a code or a recovery code');
      }
      const errorOf = form.code === undefined ? 'recovery_code' : 'code';
      /** Back to the password: the challenge is spent, expired or not this browser's. */
      const restart = (status: number, error: string): FastifyReply =>
        kit.render(
          reply,
          status,
          <LoginView
            site={kit.site}
            csrfToken={kit.preSession.issue(request, reply)}
            error={error}
            signInLinks={kit.latchkey.config.mail.signInLinks}
          />,
        );
      if (!kit.preSession.verify(request, form.csrf_token)) {
        request.log.warn(
          { event: 'csrf.login_refused', ip: request.ip },
          'second-step form refused: CSRF token',
        );
        return restart(CSRF_REFUSAL.status, CSRF_REFUSAL.message);
      }
      let signedIn;
      try {
        signedIn = await latchkey.auth.verifySecondFactor({
          challenge: form.challenge,
          code: form.code,
          recoveryCode: form.recovery_code,
          client: kit.clientInfo(request),
        });
      } catch (error) {
        if (isLatchkeyError(error, 'challenge_invalid')) {
          return restart(error.status, 'This sign-in has expired or was already used. Sign in again.');
        }
        if (isLatchkeyError(error, 'invalid_code')) {
          const left = error.extensions?.attempts_left;
          if (typeof left === 'number' && left <= 0) {
            return restart(error.status, 'The code is incorrect, and that was the last try. Sign in again.');
          }
          const what = errorOf === 'code' ? 'The code is incorrect.' : 'That recovery code is not valid.';
          const tries = typeof left === 'number' ? ` ${left} ${left === 1 ? 'try' : 'tries'} left.` : '';
          return renderSecondStep(kit, request, reply, {
            challenge: form.challenge,
            status: error.status,
            error: `${what}${tries}`,
            errorOf,
          });
        }
        const refusal = kit.refusal(reply, error);
        if (refusal.status === 429) {
          return renderSecondStep(kit, request, reply, {
            challenge: form.challenge,
            status: refusal.status,
            error: refusal.message,
            errorOf,
          });
        }
        return restart(refusal.status, refusal.message);
      }
      if (signedIn.session.mode !== 'cookie') {
        // A challenge of an API login (token or hybrid) has no place in a page: end what it made.
        await latchkey.auth.logout({ user: signedIn.user, session: signedIn.session, via: 'cookie' });
        return restart(400, 'This sign-in was not started on this page. Sign in again.');
      }
      void reply.header(
        'set-cookie',
        sessionCookie(names, signedIn.sessionToken, signedIn.session, latchkey.clock()),
      );
      return kit.redirect(reply, '/account');
    });
  },
};
