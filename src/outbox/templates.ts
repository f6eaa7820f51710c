/**
 * One template per kind of mail, each a plain-text and an HTML body from the same values. The
 * HTML goes through `html` (`./html.ts`), so every value is escaped by construction; links come
 * from the caller, built on the configured public URL, never on a request's Host.
 */

import { html, type SafeHTML } from './html.js';

/** The kinds of mail, and the values each template needs. */
export interface MailValues {
  /** A link to verify the address (sign-up, or a new request). */
  verification: { link: string; expiresIn: string };
  password_reset: { link: string; expiresIn: string };
  /** The password was changed (by a reset, or by the signed-in owner). */
  password_changed: { forgotLink: string };
  /** A sign-in link and its code, for another device. */
  signin_link: { link: string; code: string; expiresIn: string };
  /** To the new address: confirm the change. */
  email_change: { link: string; newEmail: string; expiresIn: string };
  /** To the old address: the account's address changed. */
  email_changed: { newEmail: string; forgotLink: string };
  /** To an existing owner: someone tried to sign up with this address. */
  signup_attempt: { loginLink: string; forgotLink: string };
  /** A second factor was added or removed, or the recovery codes were replaced. */
  factor_changed: { change: FactorChange; securityLink: string; forgotLink: string };
}

/** What changed in the account's factors (a `factor_changed` mail names it; never a secret). */
export type FactorChange =
  'totp_added' | 'totp_removed' | 'passkey_added' | 'passkey_removed' | 'recovery_codes_replaced';

const FACTOR_CHANGES: { [C in FactorChange]: { subject: string; line: string } } = {
  totp_added: {
    subject: 'A second factor was added to your {product} account',
    line: 'An authenticator app (TOTP) was added to your {product} account as a second factor.',
  },
  totp_removed: {
    subject: 'A second factor was removed from your {product} account',
    line: 'The authenticator app (TOTP) was removed from your {product} account.',
  },
  passkey_added: {
    subject: 'A passkey was added to your {product} account',
    line: 'A passkey was added to your {product} account: it signs in without a password.',
  },
  passkey_removed: {
    subject: 'A passkey was removed from your {product} account',
    line: 'A passkey was removed from your {product} account.',
  },
  recovery_codes_replaced: {
    subject: 'New recovery codes for your {product} account',
    line: 'New recovery codes were made for your {product} account; the old ones no longer work.',
  },
};

export type MailKind = keyof MailValues;

export const MAIL_KINDS: readonly MailKind[] = [
  'verification',
  'password_reset',
  'password_changed',
  'signin_link',
  'email_change',
  'email_changed',
  'signup_attempt',
  'factor_changed',
];

/** A rendered mail: what the transport sends. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

interface Body {
  subject: string;
  /** Paragraphs of the text body. */
  lines: string[];
  /** The same content as HTML paragraphs. */
  blocks: SafeHTML[];
}

function button(link: string, label: string): SafeHTML {
  return html`<p>
      <a
        href="${link}"
        style="display:inline-block;padding:10px 16px;background:#1f4fd1;color:#fff;text-decoration:none;border-radius:4px"
        >${label}</a
      >
    </p>
    <p style="font-size:13px;color:#555">Or paste this address into your browser:<br />${link}</p>`;
}

const IGNORE = 'If you did not ask for this, you can ignore this mail.';

const BODIES: { [K in MailKind]: (values: MailValues[K], product: string) => Body } = {
  verification: ({ link, expiresIn }, product) => ({
    subject: `Verify your email address for ${product}`,
    lines: [`Open this link to verify your email address (valid ${expiresIn}):`, link, IGNORE],
    blocks: [
      html`<p>Confirm that this is your email address for ${product}. The link is valid ${expiresIn}.</p>`,
      button(link, 'Verify my address'),
      html`<p>${IGNORE}</p>`,
    ],
  }),
  password_reset: ({ link, expiresIn }, product) => ({
    subject: `Reset your ${product} password`,
    lines: [
      `Someone (we hope you) asked to reset the password of your ${product} account.`,
      `Open this link to choose a new password (valid ${expiresIn}, once):`,
      link,
      `${IGNORE} Your password stays as it is.`,
    ],
    blocks: [
      html`<p>Someone (we hope you) asked to reset the password of your ${product} account.</p>`,
      html`<p>The link is valid ${expiresIn}, once.</p>`,
      button(link, 'Choose a new password'),
      html`<p>${IGNORE} Your password stays as it is.</p>`,
    ],
  }),
  password_changed: ({ forgotLink }, product) => ({
    subject: `Your ${product} password was changed`,
    lines: [
      `The password of your ${product} account was just changed, and every session was signed out.`,
      `If this was not you, reset your password now: ${forgotLink}`,
    ],
    blocks: [
      html`<p>
        The password of your ${product} account was just changed, and every session was signed out.
      </p>`,
      html`<p>If this was not you, <a href="${forgotLink}">reset your password now</a>.</p>`,
    ],
  }),
  signin_link: ({ link, code, expiresIn }, product) => ({
    subject: `Sign in to ${product}`,
    lines: [
      `Open this link to sign in (valid ${expiresIn}, once):`,
      link,
      `Or enter this code where you asked for it: ${code}`,
      IGNORE,
    ],
    blocks: [
      html`<p>Sign in to ${product}. The link is valid ${expiresIn}, once.</p>`,
      button(link, `Sign in to ${product}`),
      html`<p>
        Or enter this code where you asked for it:
        <strong style="font-size:20px;letter-spacing:3px">${code}</strong>
      </p>`,
      html`<p>${IGNORE}</p>`,
    ],
  }),
  email_change: ({ link, newEmail, expiresIn }, product) => ({
    subject: `Confirm your new email address for ${product}`,
    lines: [
      `Open this link to make ${newEmail} the address of your ${product} account (valid ${expiresIn}):`,
      link,
      IGNORE,
    ],
    blocks: [
      html`<p>
        Confirm that ${newEmail} becomes the address of your ${product} account. The link is valid
        ${expiresIn}.
      </p>`,
      button(link, 'Confirm my new address'),
      html`<p>${IGNORE}</p>`,
    ],
  }),
  email_changed: ({ newEmail, forgotLink }, product) => ({
    subject: `The email address of your ${product} account was changed`,
    lines: [
      `The address of your ${product} account is now ${newEmail}; mail about it no longer comes here.`,
      `If this was not you, contact the operator of ${product}, or reset the password: ${forgotLink}`,
    ],
    blocks: [
      html`<p>
        The address of your ${product} account is now ${newEmail}; mail about it no longer comes here.
      </p>`,
      html`<p>
        If this was not you, contact the operator of ${product}, or
        <a href="${forgotLink}">reset the password</a>.
      </p>`,
    ],
  }),
  signup_attempt: ({ loginLink, forgotLink }, product) => ({
    subject: `Someone tried to sign up to ${product} with your address`,
    lines: [
      `Someone tried to create a ${product} account with this address, which already has one. Nothing was changed.`,
      `If it was you, sign in: ${loginLink}`,
      `Forgot your password? ${forgotLink}`,
      'If it was not you, you can ignore this mail.',
    ],
    blocks: [
      html`<p>
        Someone tried to create a ${product} account with this address, which already has one. Nothing was
        changed.
      </p>`,
      html`<p>
        If it was you, <a href="${loginLink}">sign in</a>, or <a href="${forgotLink}">reset your password</a>.
      </p>`,
      html`<p>If it was not you, you can ignore this mail.</p>`,
    ],
  }),
  factor_changed: ({ change, securityLink, forgotLink }, product) => {
    const { subject, line } = FACTOR_CHANGES[change];
    const said = line.replace('{product}', product);
    const signedOut = 'Your other sessions were signed out.';
    return {
      subject: subject.replace('{product}', product),
      lines: [
        `${said} ${signedOut}`,
        `Review your sign-in methods: ${securityLink}`,
        `If this was not you, reset your password now: ${forgotLink}`,
      ],
      blocks: [
        html`<p>${said} ${signedOut}</p>`,
        html`<p><a href="${securityLink}">Review your sign-in methods</a>.</p>`,
        html`<p>If this was not you, <a href="${forgotLink}">reset your password now</a>.</p>`,
      ],
    };
  },
};

/**
 * Renders one kind of mail.
 *
 * @example
 * renderMail('password_reset', { link, expiresIn: '30 minutes' }, { productName: 'Acme' });
 */
export function renderMail<K extends MailKind>(
  kind: K,
  values: MailValues[K],
  options: { productName: string },
): RenderedMail {
  const body = BODIES[kind](values, options.productName);
  const page = html`<!doctype html>
    <html>
      <head>
        <meta charset="utf-8" />
        <title>${body.subject}</title>
      </head>
      <body style="font-family:system-ui,sans-serif;line-height:1.5;color:#111;max-width:560px">
        ${body.blocks}
        <p style="font-size:12px;color:#777">${options.productName}</p>
      </body>
    </html>`;
  return {
    subject: body.subject,
    text: `${body.lines.join('\n\n')}\n\n-- \n${options.productName}\n`,
    html: page.text,
  };
}
