/** The account page's markup: who I am, my sessions, and the password form. */

import type { JSX } from 'preact';
import { hasPassword, type SessionRecord, type UserRecord } from '../../records.js';
import { Alert, CSRFField, Field, Layout, type Site, type Visitor } from './layout.js';
import { describeUserAgent } from './user-agent.js';

export interface AccountViewProps {
  site: Site;
  visitor: Visitor;
  user: UserRecord;
  sessions: readonly SessionRecord[];
  currentSessionId: string;
  notice?: string | null;
  /** A refusal of the sessions' forms (revoke, sign out everywhere). */
  sessionsError?: string | null;
  /** A refusal of the password form. */
  passwordError?: string | null;
  /** Whether a second factor is on (the link to `/account/security` says so). */
  twoFactor?: boolean;
}

/** `2026-01-01 09:30` (UTC, said in the column's header): the same whatever the server's locale. */
function When({ at, dateOnly }: { at: number; dateOnly?: boolean }): JSX.Element {
  const iso = new Date(at).toISOString();
  return (
    <time dateTime={iso}>
      {dateOnly === true ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`}
    </time>
  );
}

function SessionRow(props: { session: SessionRecord; current: boolean; csrfToken: string }): JSX.Element {
  const { session, current } = props;
  const device = describeUserAgent(session.userAgent);
  return (
    <tr>
      <td>
        <span
          class="lk-device"
          title={session.userAgent ?? undefined}
        >{`${device.browser} on ${device.os}`}</span>
        {current ? <span class="lk-badge">This device</span> : null}
      </td>
      <td>{session.ip ?? 'unknown'}</td>
      <td>
        <When at={session.createdAt} />
      </td>
      <td>
        <When at={session.lastSeenAt} />
      </td>
      <td class="lk-mode">{session.mode}</td>
      <td>
        <form method="post" action={`/account/sessions/${session.id}/revoke`}>
          <CSRFField token={props.csrfToken} />
          <button
            type="submit"
            class="lk-danger"
            aria-label={current ? 'Sign out this device' : `Revoke ${device.browser} on ${device.os}`}
          >
            {current ? 'Sign out' : 'Revoke'}
          </button>
        </form>
      </td>
    </tr>
  );
}

function SessionsCard(props: AccountViewProps): JSX.Element {
  const token = props.visitor.csrfToken;
  return (
    <section class="lk-card" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Your sessions</h2>
      {props.sessionsError ? <Alert kind="error">{props.sessionsError}</Alert> : null}
      <div class="lk-table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">IP address</th>
              <th scope="col">Signed in (UTC)</th>
              <th scope="col">Last seen (UTC)</th>
              <th scope="col">Mode</th>
              <th scope="col">
                <span class="lk-skip">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {props.sessions.map((session) => (
              <SessionRow
                key={session.id}
                session={session}
                current={session.id === props.currentSessionId}
                csrfToken={token}
              />
            ))}
          </tbody>
        </table>
      </div>
      <div class="lk-actions">
        <form method="post" action="/account/sign-out-others">
          <CSRFField token={token} />
          <button type="submit" class="lk-secondary">
            Sign out other sessions
          </button>
        </form>
        <form method="post" action="/account/sign-out-everywhere">
          <CSRFField token={token} />
          <button type="submit" class="lk-danger">
            Sign out everywhere
          </button>
        </form>
      </div>
    </section>
  );
}

function PasswordCard(props: AccountViewProps): JSX.Element {
  const errorId = props.passwordError ? 'password-error' : undefined;
  if (!hasPassword(props.user)) {
    // An account made with a passkey: no current password to give; the reset link sets one.
    return (
      <section class="lk-card" aria-labelledby="password-title">
        <h2 id="password-title">Password</h2>
        <p id="no-password">
          You sign in with passkeys and have no password. To set one, ask for a link at{' '}
          <a href="/forgot">Forgot your password?</a>: it is mailed to {props.user.email}.
        </p>
      </section>
    );
  }
  return (
    <section class="lk-card" aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      {props.passwordError ? (
        <Alert kind="error" id={errorId}>
          {props.passwordError}
        </Alert>
      ) : null}
      <form method="post" action="/account/password">
        <CSRFField token={props.visitor.csrfToken} />
        <input type="text" name="username" autocomplete="username" value={props.user.email} hidden />
        <Field
          id="current-password"
          name="current_password"
          type="password"
          label="Current password"
          autocomplete="current-password"
          errorId={errorId}
        />
        <Field
          id="new-password"
          name="new_password"
          type="password"
          label="New password"
          autocomplete="new-password"
          hint="At least 8 characters; not a common password. Your other sessions will be signed out."
          errorId={errorId}
        />
        <button type="submit" class="lk-secondary">
          Change password
        </button>
      </form>
    </section>
  );
}

export function AccountView(props: AccountViewProps): JSX.Element {
  return (
    <Layout site={props.site} title="Account" visitor={props.visitor}>
      <section class="lk-card" aria-labelledby="account-title">
        <h1 id="account-title">Your account</h1>
        {props.notice ? <Alert kind="notice">{props.notice}</Alert> : null}
        <dl class="lk-who">
          <div>
            <dt>Email</dt>
            <dd>{props.user.email}</dd>
          </div>
          <div>
            <dt>Member since</dt>
            <dd>
              <When at={props.user.createdAt} dateOnly />
            </dd>
          </div>
          <div>
            <dt>Active sessions</dt>
            <dd>{props.sessions.length}</dd>
          </div>
          <div>
            <dt>Two-factor authentication</dt>
            <dd>
              <a href="/account/security">{props.twoFactor === true ? 'On' : 'Off'} · Manage</a>
            </dd>
          </div>
          <div>
            <dt>Passkeys</dt>
            <dd>
              <a href="/account/passkeys">Manage passkeys</a>
            </dd>
          </div>
        </dl>
      </section>
      <SessionsCard {...props} />
      <PasswordCard {...props} />
    </Layout>
  );
}
