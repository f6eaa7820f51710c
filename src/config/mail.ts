/**
 * The mail and account-recovery settings: how mail leaves (SMTP or the outbox directory), who
 * it is from, the product name in it, and the flows that send it.
 */

import { boolean, ConfigError, duration, read, type Env } from './env.js';
import type { ConfigVariable } from './variables.js';

export type EmailVerificationSetting = 'off' | 'optional' | 'required';

const VERIFICATION_SETTINGS: readonly EmailVerificationSetting[] = ['off', 'optional', 'required'];

export interface MailConfig {
  /** `smtp://` or `smtps://` URL; null: mails are written to `<dataDir>/outbox/` instead. */
  smtpURL: string | null;
  /** The SMTP password when it is not in the URL. */
  smtpPassword: string | null;
  /** The From header. */
  from: string;
  /** The product's name in every mail. */
  productName: string;
  emailVerification: EmailVerificationSetting;
  signInLinks: boolean;
  verificationTTL: number;
  resetTTL: number;
  signInLinkTTL: number;
  emailChangeTTL: number;
}

export const MAIL_VARIABLES: readonly ConfigVariable[] = [
  {
    name: 'LATCHKEY_SMTP_URL',
    default: '(unset: outbox directory)',
    description:
      '`smtp://user@host:587` (STARTTLS when offered) or `smtps://user@host:465`. Unset: each mail is written as a `.eml` file to `<data dir>/outbox/` (see `latchkey mail list`).',
  },
  {
    name: 'LATCHKEY_SMTP_PASSWORD',
    default: '(unset)',
    description: 'The SMTP password, when it is not in `LATCHKEY_SMTP_URL`.',
  },
  {
    name: 'LATCHKEY_MAIL_FROM',
    default: 'PRODUCT <no-reply@issuer host>',
    description: 'The `From` of every mail.',
  },
  { name: 'LATCHKEY_PRODUCT_NAME', default: 'Latchkey', description: 'The product name in mails.' },
  {
    name: 'LATCHKEY_EMAIL_VERIFICATION',
    default: 'optional',
    description:
      '`off`: no verification mail; `optional`: sent at sign-up, `email_verified` tells; `required`: login refused until verified, and sign-up no longer tells whether an address has an account.',
  },
  {
    name: 'LATCHKEY_SIGNIN_LINKS',
    default: 'true',
    description: 'Sign-in links and codes by mail (`POST /v1/login/link`); `false` turns them off.',
  },
  { name: 'LATCHKEY_VERIFICATION_TTL', default: '24h', description: 'Lifetime of a verification link.' },
  { name: 'LATCHKEY_RESET_TTL', default: '30m', description: 'Lifetime of a password reset link.' },
  { name: 'LATCHKEY_SIGNIN_LINK_TTL', default: '15m', description: 'Lifetime of a sign-in link and code.' },
  { name: 'LATCHKEY_EMAIL_CHANGE_TTL', default: '1h', description: 'Lifetime of an email-change link.' },
];

/** Reads the mail settings; `issuer` gives the default sender's domain. */
export function loadMailConfig(env: Env, issuer: string): MailConfig {
  const smtpURL = read(env, 'LATCHKEY_SMTP_URL') ?? null;
  if (smtpURL !== null) {
    let url: URL;
    try {
      url = new URL(smtpURL);
    } catch {
      throw new ConfigError('LATCHKEY_SMTP_URL', 'is not a URL');
    }
    if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
      throw new ConfigError('LATCHKEY_SMTP_URL', 'must start with smtp:// or smtps://');
  }
  const productName = (read(env, 'LATCHKEY_PRODUCT_NAME') ?? 'Latchkey').replace(/[\r\n]+/g, ' ');
  const text = read(env, 'LATCHKEY_EMAIL_VERIFICATION') ?? 'optional';
  const emailVerification = VERIFICATION_SETTINGS.find((setting) => setting === text);
  if (emailVerification === undefined) {
    throw new ConfigError('LATCHKEY_EMAIL_VERIFICATION', `"${text}" is not one of off, optional, required`);
  }
  const from = read(env, 'LATCHKEY_MAIL_FROM') ?? `${productName} <no-reply@${new URL(issuer).hostname}>`;
  if (/[\r\n]/.test(from)) throw new ConfigError('LATCHKEY_MAIL_FROM', 'must be one line');
  return {
    smtpURL,
    smtpPassword: read(env, 'LATCHKEY_SMTP_PASSWORD') ?? null,
    from,
    productName,
    emailVerification,
    signInLinks: boolean(env, 'LATCHKEY_SIGNIN_LINKS', true),
    verificationTTL: duration(env, 'LATCHKEY_VERIFICATION_TTL', '24h'),
    resetTTL: duration(env, 'LATCHKEY_RESET_TTL', '30m'),
    signInLinkTTL: duration(env, 'LATCHKEY_SIGNIN_LINK_TTL', '15m'),
    emailChangeTTL: duration(env, 'LATCHKEY_EMAIL_CHANGE_TTL', '1h'),
  };
}
