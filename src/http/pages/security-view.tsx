/**
 * The markup of `/account/security`: the state of two-factor authentication, setting up an
 * authenticator app (QR code, the secret for typing, the first code), the recovery codes shown
 * once, replacing them (with how many are left), and turning it off.
 */

import type { JSX } from 'preact';
import type { FactorRecord } from '../../records.js';
import type { TotpEnrolment } from '../../use-cases/index.js';
import { Alert, CSRFField, Field, Layout, type Site, type Visitor } from './layout.js';
import { QRCode } from './qr-code.js';

/** `2026-01-01 09:30 UTC`: the same whatever the server's locale. */
function When({ at }: { at: number | null }): JSX.Element {
  if (at === null) return <>never</>;
  const iso = new Date(at).toISOString();
  return <time dateTime={iso}>{`${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`}</time>;
}

/** A 6-digit code field: numeric keyboard on phones, filled from SMS/app suggestions. */
export function CodeField(props: {
  id: string;
  label: string;
  errorId?: string | undefined;
  autofocus?: boolean;
}): JSX.Element {
  return (
    <div class="lk-field">
      <label for={props.id}>{props.label}</label>
      <input
        type="text"
        id={props.id}
        name="code"
        class="lk-code"
        inputMode="numeric"
        autocomplete="one-time-code"
        pattern="[0-9 ]{6,7}"
        maxLength={7}
        required
        autofocus={props.autofocus}
        aria-invalid={props.errorId === undefined ? undefined : 'true'}
        aria-describedby={props.errorId}
      />
    </div>
  );
}

export interface SecurityViewProps {
  site: Site;
  visitor: Visitor;
  email: string;
  factors: readonly FactorRecord[];
  notice?: string | null;
  /** A refusal of the set-up form. */
  setupError?: string | null;
  /** A refusal of the turn-off form. */
  removeError?: string | null;
  /** Unused recovery codes. */
  codesLeft?: number;
  /** A refusal of the form that replaces the recovery codes. */
  codesError?: string | null;
}

/** How many recovery codes are left, and the form that replaces them (the new ones shown once). */
function RecoveryCodes(props: SecurityViewProps & { factor: FactorRecord }): JSX.Element {
  const errorId = props.codesError ? 'codes-error' : undefined;
  const left = props.codesLeft ?? 0;
  return (
    <form method="post" action="/account/security/recovery-codes" class="lk-subform">
      <h3>Recovery codes</h3>
      <p id="codes-left">
        {left === 1 ? '1 unused recovery code left.' : `${left} unused recovery codes left.`}
        {left <= 3 ? ' Make new ones before you run out.' : null}
      </p>
      {props.codesError ? (
        <Alert kind="error" id={errorId}>
          {props.codesError}
        </Alert>
      ) : null}
      <CSRFField token={props.visitor.csrfToken} />
      <input type="text" name="username" autocomplete="username" value={props.email} hidden />
      <Field
        id="codes-password"
        name="password"
        type="password"
        label="Password"
        autocomplete="current-password"
        errorId={errorId}
      />
      <Field
        id="codes-code"
        name="code"
        type="text"
        label="Code from your app, or a recovery code"
        autocomplete="one-time-code"
        hint="The old codes stop working; the new ones are shown once."
        errorId={errorId}
      />
      <button type="submit" class="lk-secondary">
        Make new recovery codes
      </button>
    </form>
  );
}

function TurnOff(props: SecurityViewProps & { factor: FactorRecord }): JSX.Element {
  const errorId = props.removeError ? 'remove-error' : undefined;
  return (
    <form method="post" action="/account/security/totp/remove" class="lk-subform">
      <h3>Turn off</h3>
      {props.removeError ? (
        <Alert kind="error" id={errorId}>
          {props.removeError}
        </Alert>
      ) : null}
      <CSRFField token={props.visitor.csrfToken} />
      <input type="hidden" name="factor_id" value={props.factor.id} />
      <input type="text" name="username" autocomplete="username" value={props.email} hidden />
      <Field
        id="remove-password"
        name="password"
        type="password"
        label="Password"
        autocomplete="current-password"
        errorId={errorId}
      />
      <Field
        id="remove-code"
        name="code"
        type="text"
        label="Code from your app, or a recovery code"
        autocomplete="one-time-code"
        hint="Your other sessions will be signed out."
        errorId={errorId}
      />
      <button type="submit" class="lk-danger">
        Turn off two-factor authentication
      </button>
    </form>
  );
}

export function SecurityView(props: SecurityViewProps): JSX.Element {
  const totp = props.factors.find((f) => f.kind === 'totp' && f.confirmedAt !== null);
  const pending = props.factors.some((f) => f.kind === 'totp' && f.confirmedAt === null);
  const setupErrorId = props.setupError ? 'setup-error' : undefined;
  const stale = totp === undefined ? (props.removeError ?? props.codesError) : props.setupError;
  return (
    <Layout site={props.site} title="Two-factor authentication" visitor={props.visitor}>
      <section class="lk-card" aria-labelledby="security-title">
        <p class="lk-back">
          <a href="/account">← Account</a>
        </p>
        <h1 id="security-title">Two-factor authentication</h1>
        {props.notice ? <Alert kind="notice">{props.notice}</Alert> : null}
        {/* A form of the other state (a stale tab): its refusal is said here. */}
        {stale ? <Alert kind="error">{stale}</Alert> : null}
        <p class="lk-lead">
          A code from an authenticator app on your phone, asked for after your password when you sign in.
        </p>
        <dl class="lk-who">
          <div>
            <dt>Status</dt>
            <dd id="mfa-status">{totp === undefined ? 'Off' : 'On'}</dd>
          </div>
          {totp === undefined ? null : (
            <>
              <div>
                <dt>Authenticator</dt>
                <dd>{totp.label}</dd>
              </div>
              <div>
                <dt>Turned on</dt>
                <dd>
                  <When at={totp.confirmedAt} />
                </dd>
              </div>
              <div>
                <dt>Last used</dt>
                <dd>
                  <When at={totp.lastUsedAt} />
                </dd>
              </div>
            </>
          )}
        </dl>
      </section>
      {totp === undefined ? (
        <section class="lk-card" aria-labelledby="setup-title">
          <h2 id="setup-title">Set up an authenticator app</h2>
          {props.setupError ? (
            <Alert kind="error" id={setupErrorId}>
              {props.setupError}
            </Alert>
          ) : null}
          {pending ? (
            <p>
              You started setting one up. <a href="/account/security/totp">Continue the set-up</a>, or start
              again below.
            </p>
          ) : null}
          <form method="post" action="/account/security/totp">
            <CSRFField token={props.visitor.csrfToken} />
            <Field
              id="totp-label"
              name="label"
              type="text"
              label="Name (optional)"
              autocomplete="off"
              hint="To tell your authenticators apart, like “Phone”."
              required={false}
              errorId={setupErrorId}
            />
            <button type="submit" class="lk-secondary">
              Set up an authenticator app
            </button>
          </form>
        </section>
      ) : (
        <section class="lk-card" aria-labelledby="manage-title">
          <h2 id="manage-title">Authenticator app</h2>
          <RecoveryCodes {...props} factor={totp} />
          <TurnOff {...props} factor={totp} />
        </section>
      )}
    </Layout>
  );
}

export interface TotpSetupViewProps {
  site: Site;
  visitor: Visitor;
  enrolment: TotpEnrolment;
  error?: string | null;
}

/** Four characters at a time, for typing: `JBSW Y3DP EHPK 3PXP`. */
function grouped(secret: string): string {
  return (secret.match(/.{1,4}/g) ?? []).join(' ');
}

export function TotpSetupView(props: TotpSetupViewProps): JSX.Element {
  const { enrolment } = props;
  const errorId = props.error ? 'confirm-error' : undefined;
  return (
    <Layout site={props.site} title="Set up an authenticator app" visitor={props.visitor}>
      <section class="lk-card lk-narrow" aria-labelledby="totp-title">
        <p class="lk-back">
          <a href="/account/security">← Two-factor authentication</a>
        </p>
        <h1 id="totp-title">Set up an authenticator app</h1>
        <ol class="lk-steps">
          <li>
            Scan this QR code with your authenticator app (Google Authenticator, 1Password, Aegis, ...).
            <QRCode text={enrolment.uri} label="QR code to scan with your authenticator app" />
            <a class="lk-otpauth" href={enrolment.uri}>
              On this phone? Open it in your authenticator app
            </a>
          </li>
          <li>
            Or type this key into the app (time-based, 6 digits, 30 seconds):
            <code class="lk-secret" id="totp-secret">
              {grouped(enrolment.secret)}
            </code>
          </li>
          <li>Enter the code the app shows to finish.</li>
        </ol>
        {props.error ? (
          <Alert kind="error" id={errorId}>
            {props.error}
          </Alert>
        ) : null}
        <form method="post" action="/account/security/totp/confirm">
          <CSRFField token={props.visitor.csrfToken} />
          <input type="hidden" name="factor_id" value={enrolment.factor.id} />
          <CodeField id="confirm-code" label="Code from the app" errorId={errorId} autofocus />
          <button type="submit" class="lk-primary">
            Turn on
          </button>
        </form>
      </section>
    </Layout>
  );
}

export function RecoveryCodesView(props: {
  site: Site;
  visitor: Visitor;
  codes: readonly string[];
  /** New codes that replace the old ones (no factor was turned on). */
  replaced?: boolean;
}): JSX.Element {
  return (
    <Layout site={props.site} title="Your recovery codes" visitor={props.visitor}>
      <section class="lk-card lk-narrow" aria-labelledby="codes-title">
        <h1 id="codes-title">
          {props.replaced === true ? 'Your new recovery codes' : 'Two-factor authentication is on'}
        </h1>
        <Alert kind="notice">
          Save these recovery codes now: this is the only time they are shown. Each signs you in once if you
          lose your phone.{' '}
          {props.replaced === true ? 'Your old codes no longer work.' : 'Your other sessions are signed out.'}
        </Alert>
        <ul class="lk-codes" aria-label="Recovery codes">
          {props.codes.map((code) => (
            <li key={code}>
              <code>{code}</code>
            </li>
          ))}
        </ul>
        <p>Print them or keep them in your password manager, apart from your phone.</p>
        <a class="lk-button" href="/account/security?notice=mfa_enabled">
          I have saved my recovery codes
        </a>
      </section>
    </Layout>
  );
}
