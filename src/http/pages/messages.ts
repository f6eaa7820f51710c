/**
 * The words the pages show for a refusal, next to the form that caused it. Each names what
 * happened and what to do; none repeats a submitted value or a secret.
 */

import { ERROR_CATALOGUE, type LatchkeyError } from '../../errors.js';

/** "45 seconds", "3 minutes", "2 hours": a wait rounded up to a unit a person reads. */
export function formatWait(seconds: number): string {
  const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (seconds < 90) return plural(Math.max(1, Math.ceil(seconds)), 'second');
  if (seconds < 90 * 60) return plural(Math.ceil(seconds / 60), 'minute');
  return plural(Math.ceil(seconds / 3600), 'hour');
}

/** The sentence of a refusal. `invalid_credentials` keeps the use case's own words when asked. */
export function refusalMessage(error: LatchkeyError): string {
  switch (error.code) {
    case 'invalid_credentials':
      return error.message === ERROR_CATALOGUE.invalid_credentials.title
        ? 'The email or password is incorrect.'
        : `${error.message}.`;
    case 'too_many_requests':
      return error.retryAfter === undefined
        ? 'Too many attempts. Try again later.'
        : `Too many attempts. Try again in ${formatWait(error.retryAfter)}.`;
    case 'weak_password':
      return `${error.message}.`;
    case 'validation_failed':
      return 'Enter a valid email address, like name@example.com.';
    case 'email_taken':
      return 'An account with this email already exists. Sign in instead.';
    case 'account_disabled':
      return 'This account is disabled. Contact the operator of this site.';
    case 'csrf_failed':
    case 'cross_site_request':
      return 'This form has expired or was not sent from this site. Please try again.';
    case 'email_unverified':
      return 'Your email address is not confirmed yet. Open the link we emailed you, or have it sent again.';
    case 'not_found':
      return 'That session has already ended.';
    default:
      return `${ERROR_CATALOGUE[error.code].title}.`;
  }
}

/** Notices shown after a redirect, chosen by a fixed key in the query (never text from the URL). */
export const NOTICES = {
  signed_out: 'You are signed out.',
  signed_out_everywhere: 'You are signed out on every device.',
  session_revoked: 'The session is signed out.',
  others_revoked: 'Your other sessions are signed out.',
  password_changed: 'Your password is changed. Your other sessions are signed out.',
  welcome: 'Your account is ready.',
  session_ended: 'Your session has ended. Sign in again.',
  mfa_enabled: 'Two-factor authentication is on.',
  mfa_disabled: 'Two-factor authentication is off. Your other sessions are signed out.',
  password_reset: 'Your password is changed and every session is signed out. Sign in with the new password.',
  email_verified: 'Your email address is confirmed.',
  email_changed: 'Your email address is changed.',
  passkey_added: 'The passkey is added. Your other sessions are signed out.',
  passkey_renamed: 'The passkey is renamed.',
  passkey_removed: 'The passkey is removed. Your other sessions are signed out.',
} as const;

export type NoticeKey = keyof typeof NOTICES;

/** The notice a `?notice=` value names, or null for anything else. */
export function noticeFor(value: unknown): string | null {
  return typeof value === 'string' && Object.hasOwn(NOTICES, value) ? NOTICES[value as NoticeKey] : null;
}
