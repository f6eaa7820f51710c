/**
 * The view of `/lab`: the sign-in form and one panel per mode, rendered on the server; the
 * script (`src/lab/`) fills the panels in as the user signs in, calls and revokes.
 */

import type { JSX } from 'preact';
import { Alert, Field, Layout, type Site, type Visitor } from './layout.js';

type LabMode = 'cookie' | 'token' | 'hybrid';

const PANELS: readonly { mode: LabMode; title: string; summary: string; where: string }[] = [
  {
    mode: 'cookie',
    title: 'Cookie session',
    summary: 'An opaque session id the server looks up on every request.',
    where: 'In an HttpOnly cookie: this page cannot read it. The CSRF token is in this page’s memory.',
  },
  {
    mode: 'token',
    title: 'Token',
    summary: 'A signed JWT sent as a Bearer header, renewed with a rotating refresh token.',
    where:
      'Both tokens in this page’s memory (a JavaScript variable): never in localStorage, gone on reload.',
  },
  {
    mode: 'hybrid',
    title: 'Hybrid',
    summary: 'The same JWT, but carried in an HttpOnly cookie; the browser renews it by itself.',
    where:
      'In HttpOnly cookies (the refresh cookie only goes to /v1/refresh). The CSRF token is in localStorage.',
  },
];

function Panel({ mode, title, summary, where }: (typeof PANELS)[number]): JSX.Element {
  const heading = `lab-${mode}-title`;
  return (
    <section class="lk-card lk-lab-panel" id={`lab-${mode}`} data-mode={mode} aria-labelledby={heading}>
      <h2 id={heading}>
        {title} <span class="lk-badge">{mode}</span>
      </h2>
      <p class="lk-hint">{summary}</p>
      <dl class="lk-lab-facts">
        <dt>Status</dt>
        <dd data-slot="status">Signed out</dd>
        <dt>Session</dt>
        <dd data-slot="session">–</dd>
        <dt>Where the token lives</dt>
        <dd>{where}</dd>
        <dt>The browser holds</dt>
        <dd data-slot="holds">–</dd>
        <dt>Server auth step</dt>
        <dd data-slot="timing">–</dd>
      </dl>
      <h3>JWT</h3>
      <pre class="lk-lab-code" data-slot="jwt">
        {mode === 'cookie'
          ? 'None: the credential is an opaque id.secret, checked in the session store.'
          : '–'}
      </pre>
      <h3>Requests</h3>
      <ol class="lk-lab-log" data-slot="requests"></ol>
      <div class="lk-actions">
        <button type="button" class="lk-secondary" data-action="me" disabled>
          Call /v1/me
        </button>
        <button type="button" class="lk-danger" data-action="revoke" disabled>
          Revoke
        </button>
      </div>
    </section>
  );
}

export interface LabViewProps {
  site: Site;
  visitor: Visitor | null;
  /** The script's path, or null when it is not built. */
  script: string | null;
}

export function LabView({ site, visitor, script }: LabViewProps): JSX.Element {
  return (
    <Layout site={site} title="Mode explorer" visitor={visitor}>
      <section class="lk-card">
        <h1>Mode explorer</h1>
        <p class="lk-lead">
          Sign in as the same user three ways, side by side, against this server. Each panel shows what your
          browser holds, what each request sends, how long the server took to check it, and what happens when
          the session is revoked.
        </p>
        <noscript>
          <Alert kind="error">The mode explorer runs in your browser: it needs JavaScript.</Alert>
        </noscript>
        {script === null ? (
          <Alert kind="error">
            This server was started without the explorer’s script: run npm run build.
          </Alert>
        ) : null}
        <form id="lab-signin" method="post" action="/lab" class="lk-lab-form">
          <fieldset id="lab-fields" disabled>
            <legend class="lk-skip">Sign in three ways</legend>
            <Field id="lab-email" label="Email" type="email" name="email" autocomplete="username" />
            <Field
              id="lab-password"
              label="Password"
              type="password"
              name="password"
              autocomplete="current-password"
            />
            <button type="submit" class="lk-primary">
              Sign in three ways
            </button>
          </fieldset>
        </form>
        <p class="lk-switch">
          No account yet? <a href="/signup">Create one</a>, then come back.
        </p>
        <div id="lab-message" role="status"></div>
      </section>
      <div class="lk-lab-panels">
        {PANELS.map((panel) => (
          <Panel key={panel.mode} {...panel} />
        ))}
      </div>
      <section class="lk-card" aria-labelledby="lab-revoke-title">
        <h2 id="lab-revoke-title">What “Revoke” shows</h2>
        <p>
          Revoke ends the panel’s session from elsewhere: a fourth session, signed in with the same form,
          sends <code>DELETE /v1/sessions/&#123;id&#125;</code>, as your phone would for a lost laptop. The
          panel keeps what it holds and asks <code>/v1/me</code> again.
        </p>
        <ul>
          <li>
            <strong>Cookie</strong> and <strong>hybrid</strong>: refused at once. Each request brings its
            session’s id, and the server reads that session, now revoked.
          </li>
          <li>
            <strong>Token</strong>: the JWT is still well signed and not expired. This server refuses it as
            soon as the revocation reaches its own check, which reads the session behind the token: at once
            here, within the revocation channel’s delay on another node. A service that only checks the
            signature (<code>latchkey/verify</code>) accepts it until its revocation feed brings the news, or
            the token expires.
          </li>
        </ul>
      </section>
      {script === null ? null : <script type="module" src={script}></script>}
    </Layout>
  );
}
