/**
 * `/signup`: create an account, then signed in at once (a browser-session cookie). With the
 * passkey script (`src/passkey-ui/signup.ts`), "Sign up with a passkey" makes an account
 * with no password from the same email field; without JavaScript the button stays hidden and the
 * password form works alone.
 */

import type { JSX } from 'preact';
import { isLatchkeyError } from '../../errors.js';
import { deviceCookie, sessionCookie } from '../auth-cookies.js';
import { readForm } from './form-body.js';
import { Alert, CSRFField, Field, Layout, type Site } from './layout.js';
import { CSRF_REFUSAL, type PageModule } from './page.js';
import { PASSKEY_CSP, registerPasskeyScript } from './passkey-scripts.js';

const SIGNUP_FIELDS = {
  email: { maxLength: 320, required: true },
  password: { maxLength: 4096, required: true },
  csrf_token: { maxLength: 128 },
} as const;

interface SignupViewProps {
  site: Site;
  csrfToken: string;
  email?: string | undefined;
  error?: string | null;
  /** The passkey script's path (`src/passkey-ui/signup.ts`), or null when it is not built. */
  passkeyScript?: string | null;
}

export function SignupView(props: SignupViewProps): JSX.Element {
  const errorId = props.error ? 'signup-error' : undefined;
  return (
    <Layout site={props.site} title="Create account">
      <section class="lk-card lk-narrow" aria-labelledby="signup-title">
        <h1 id="signup-title">Create your account</h1>
        <p class="lk-lead">One account for {props.site.brand}.</p>
        {props.error ? (
          <Alert kind="error" id={errorId}>
            {props.error}
          </Alert>
        ) : null}
        <form method="post" action="/signup">
          <CSRFField token={props.csrfToken} />
          <Field
            id="email"
            name="email"
            type="email"
            label="Email"
            autocomplete="email"
            value={props.email ?? ''}
            errorId={errorId}
            autofocus
          />
          <Field
            id="password"
            name="password"
            type="password"
            label="Password"
            autocomplete="new-password"
            hint="At least 8 characters; not a common password."
            errorId={errorId}
          />
          <button type="submit" class="lk-primary">
            Create account
          </button>
        </form>
        {/* Shown by the passkey script; without JavaScript it could do nothing. */}
        <button type="button" id="passkey-signup" class="lk-secondary" hidden>
          Sign up with a passkey
        </button>
        <p id="passkey-signup-status" aria-live="polite"></p>
        <p class="lk-switch">
          Already have an account? <a href="/login">Sign in</a>
        </p>
      </section>
      {props.passkeyScript ? <script type="module" src={props.passkeyScript}></script> : null}
    </Layout>
  );
}

export const signupPage: PageModule = {
  name: 'signup',
  register(scope, kit) {
    const { latchkey, names } = kit;
    const passkeyScript = registerPasskeyScript(scope, 'signup');

    scope.get('/signup', async (request, reply) => {
      if ((await kit.signedIn(request, reply)) !== null) return kit.redirect(reply, '/account');
      return kit.render(
        reply,
        200,
        <SignupView
          site={kit.site}
          csrfToken={kit.preSession.issue(request, reply)}
          passkeyScript={passkeyScript}
        />,
        { csp: PASSKEY_CSP },
      );
    });

    scope.post('/signup', async (request, reply) => {
      const form = readForm(request.body, SIGNUP_FIELDS);
      const again = (status: number, error: string): ReturnType<typeof kit.render> =>
        kit.render(
          reply,
          status,
          <SignupView
            site={kit.site}
            csrfToken={kit.preSession.issue(request, reply)}
            email={form.email}
            error={error}
            passkeyScript={passkeyScript}
          />,
          { csp: PASSKEY_CSP },
        );
      if (!kit.preSession.verify(request, form.csrf_token)) {
        request.log.warn({ event: 'csrf.login_refused', ip: request.ip }, 'sign-up form refused: CSRF token');
        return again(CSRF_REFUSAL.status, CSRF_REFUSAL.message);
      }
      try {
        await latchkey.auth.signup({ email: form.email, password: form.password, ip: request.ip });
      } catch (error) {
        const refusal = kit.refusal(reply, error);
        return again(refusal.status, refusal.message);
      }
      // The account exists; signing in is a second step that a throttle may still stop.
      const result = await latchkey.auth
        .login({
          email: form.email,
          password: form.password,
          mode: 'cookie',
          client: kit.clientInfo(request),
          deviceCookie: request.cookies.get(names.device),
          previousSessionToken: request.cookies.get(names.session),
        })
        .catch((error: unknown) => {
          if (isLatchkeyError(error) && error.status < 500) return null;
          throw error;
        });
      if (result === null) return kit.redirect(reply, '/login?notice=welcome');
      void reply.header('set-cookie', [
        sessionCookie(names, result.sessionToken, result.session, latchkey.clock()),
        deviceCookie(names, result.deviceCookie),
      ]);
      return kit.redirect(reply, '/account?notice=welcome');
    });
  },
};
