/** `/login`: the sign-in form ("remember me" makes the session cookie outlive the browser). */

import type { JSX } from 'preact';
import { isLatchkeyError } from '../../errors.js';
import { deviceCookie, sessionCookie } from '../auth-cookies.js';
import { readForm } from './form-body.js';
import { Alert, CSRFField, Field, Layout, type Site } from './layout.js';
import { challengeOf, renderSecondStep } from './login-second-factor.js';
import { noticeFor } from './messages.js';
import { CSRF_REFUSAL, type PageModule } from './page.js';
import { PASSKEY_CSP, registerPasskeyScript } from './passkey-scripts.js';

const LOGIN_FIELDS = {
  email: { maxLength: 320, required: true },
  password: { maxLength: 4096, required: true },
  remember: { maxLength: 8 },
  csrf_token: { maxLength: 128 },
} as const;

interface LoginViewProps {
  site: Site;
  csrfToken: string;
  email?: string | undefined;
  remember?: boolean;
  error?: string | null;
  notice?: string | null;
  /** Sign-in links are on (`LATCHKEY_SIGNIN_LINKS`): offer one instead of the password. */
  signInLinks?: boolean;
  /** The refusal was "email not verified": offer to send the link again. */
  unverified?: boolean;
  /** The passkey script's path (`src/passkey-ui/login.ts`), or null when it is not built. */
  passkeyScript?: string | null;
}

export function LoginView(props: LoginViewProps): JSX.Element {
  const errorId = props.error ? 'login-error' : undefined;
  return (
    <Layout site={props.site} title="Sign in">
      <section class="lk-card lk-narrow" aria-labelledby="login-title">
        <h1 id="login-title">Sign in</h1>
        <p class="lk-lead">Welcome back to {props.site.brand}.</p>
        {props.notice ? <Alert kind="notice">{props.notice}</Alert> : null}
        {props.error ? (
          <Alert kind="error" id={errorId}>
            {props.error}
          </Alert>
        ) : null}
        <form method="post" action="/login">
          <CSRFField token={props.csrfToken} />
          <Field
            id="email"
            name="email"
            type="email"
            label="Email"
            autocomplete="username webauthn"
            value={props.email ?? ''}
            errorId={errorId}
            autofocus
          />
          <Field
            id="password"
            name="password"
            type="password"
            label="Password"
            autocomplete="current-password"
            errorId={errorId}
          />
          <div class="lk-check">
            <input
              id="remember"
              name="remember"
              type="checkbox"
              value="on"
              checked={props.remember === true}
            />
            <label for="remember">Remember me on this device</label>
          </div>
          <button type="submit" class="lk-primary">
            Sign in
          </button>
          {/* The same address, posted elsewhere: a sign-in link instead of the password. */}
          {props.signInLinks === true ? (
            <button type="submit" formaction="/login/link" formnovalidate>
              Email me a sign-in link
            </button>
          ) : null}
        </form>
        {/* Shown by the passkey script; without JavaScript it could do nothing. */}
        <button type="button" id="passkey-login" class="lk-secondary" hidden>
          Sign in with a passkey
        </button>
        <p id="passkey-login-status" aria-live="polite"></p>
        <p class="lk-switch">
          <a href="/forgot">Forgot your password?</a>
        </p>
        {props.unverified === true ? (
          <form method="post" action="/verify/resend">
            <CSRFField token={props.csrfToken} />
            <input type="hidden" name="email" value={props.email ?? ''} />
            <button type="submit">Send the link again</button>
          </form>
        ) : null}
        <p class="lk-switch">
          New here? <a href="/signup">Create an account</a>
        </p>
      </section>
      {props.passkeyScript ? <script type="module" src={props.passkeyScript}></script> : null}
    </Layout>
  );
}

export const loginPage: PageModule = {
  name: 'login',
  register(scope, kit) {
    const { latchkey, names } = kit;
    const signInLinks = latchkey.config.mail.signInLinks;
    const passkeyScript = registerPasskeyScript(scope, 'login');

    scope.get<{ Querystring: { notice?: string } }>('/login', async (request, reply) => {
      if ((await kit.signedIn(request, reply)) !== null) return kit.redirect(reply, '/account');
      const csrfToken = kit.preSession.issue(request, reply);
      return kit.render(
        reply,
        200,
        <LoginView
          site={kit.site}
          csrfToken={csrfToken}
          notice={noticeFor(request.query.notice)}
          signInLinks={signInLinks}
          passkeyScript={passkeyScript}
        />,
        { csp: PASSKEY_CSP },
      );
    });

    scope.post('/login', async (request, reply) => {
      const form = readForm(request.body, LOGIN_FIELDS);
      const remember = form.remember !== undefined;
      const again = (status: number, error: string, unverified = false): ReturnType<typeof kit.render> =>
        kit.render(
          reply,
          status,
          <LoginView
            site={kit.site}
            csrfToken={kit.preSession.issue(request, reply)}
            email={form.email}
            remember={remember}
            error={error}
            unverified={unverified}
            signInLinks={signInLinks}
            passkeyScript={passkeyScript}
          />,
          { csp: PASSKEY_CSP },
        );
      if (!kit.preSession.verify(request, form.csrf_token)) {
        request.log.warn({ event: 'csrf.login_refused', ip: request.ip }, 'sign-in form refused: CSRF token');
        return again(CSRF_REFUSAL.status, CSRF_REFUSAL.message);
      }
      let result;
      try {
        result = await latchkey.auth.login({
          email: form.email,
          password: form.password,
          mode: 'cookie',
          remember,
          client: kit.clientInfo(request),
          deviceCookie: request.cookies.get(names.device),
          previousSessionToken: request.cookies.get(names.session),
        });
      } catch (error) {
        if (isLatchkeyError(error, 'mfa_required')) {
          return renderSecondStep(kit, request, reply, { challenge: challengeOf(error) });
        }
        const refusal = kit.refusal(reply, error);
        return again(refusal.status, refusal.message, isLatchkeyError(error, 'email_unverified'));
      }
      void reply.header('set-cookie', [
        sessionCookie(names, result.sessionToken, result.session, latchkey.clock()),
        deviceCookie(names, result.deviceCookie),
      ]);
      return kit.redirect(reply, '/account');
    });
  },
};
