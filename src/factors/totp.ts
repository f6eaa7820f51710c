/**
 * Time-based one-time passwords (RFC 6238 over the HOTP of RFC 4226): HMAC-SHA1, 6 digits, a
 * 30-second step, the parameters every authenticator app supports. Secrets are 160 bits (the
 * HMAC-SHA1 block size RFC 4226 §4 recommends), random from the CSPRNG.
 *
 * Verification accepts the current step and one step either side (clock drift of the phone),
 * compares every candidate in constant time without stopping at the first match, and refuses
 * a step at or before the last one accepted for the factor: each code works once (RFC 6238 §5.2).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6238
 * @see https://www.rfc-editor.org/rfc/rfc4226
 */

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { toBase32 } from '../lib/base32.js';

export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
/** Steps accepted either side of the current one. */
export const TOTP_WINDOW = 1;

/** A new TOTP secret: 20 random bytes. */
export function generateTotpSecret(): Buffer {
  return randomBytes(20);
}

/** HOTP value of `counter` (RFC 4226 §5.3: dynamic truncation, then modulo 10^digits). */
export function hotp(secret: Uint8Array, counter: number, digits = TOTP_DIGITS): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', secret).update(message).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The time step that `now` (epoch ms) falls in. */
export function totpStep(now: number): number {
  return Math.floor(now / 1000 / TOTP_PERIOD_SECONDS);
}

/** The code an authenticator shows at `now`. */
export function totpCode(secret: Uint8Array, now: number): string {
  return hotp(secret, totpStep(now));
}

/**
 * The `otpauth://` URI an authenticator app scans (the Key Uri Format of Google Authenticator,
 * which every app follows): label `issuer:account`, the secret in base32, and the parameters.
 */
export function totpURI(options: { issuer: string; account: string; secret: Uint8Array }): string {
  // The label is `issuer:account`; neither part may hold a colon of its own (apps split on it).
  const part = (text: string): string => encodeURIComponent(text.replace(/:/g, ''));
  const label = `${part(options.issuer)}:${part(options.account)}`;
  // Percent-encoding throughout (a space is %20): apps do not read `+` as a space.
  const query = Object.entries({
    secret: toBase32(options.secret),
    issuer: options.issuer,
    algorithm: 'SHA1',
    digits: String(TOTP_DIGITS),
    period: String(TOTP_PERIOD_SECONDS),
  })
    .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
    .join('&');
  return `otpauth://totp/${label}?${query}`;
}

/** A code as a user types it: digits, possibly with spaces or a dash in the middle. */
export function normalizeTotpCode(input: unknown): string | null {
  if (typeof input !== 'string' || input.length > 16) return null;
  const digits = input.replace(/[\s-]/g, '');
  return new RegExp(`^\\d{${TOTP_DIGITS}}$`).test(digits) ? digits : null;
}

/**
 * Checks `code` against the steps around `now`. Returns the step it matched (to be stored as
 * the factor's last used step), or null: wrong, malformed, or a step not after `lastUsedStep`.
 *
 * @example
 * const step = verifyTotp(secret, '123456', { now: Date.now(), lastUsedStep: factor.lastUsedStep });
 */
export function verifyTotp(
  secret: Uint8Array,
  code: unknown,
  options: { now: number; lastUsedStep: number | null },
): number | null {
  const given = normalizeTotpCode(code);
  const current = totpStep(options.now);
  const expected = Buffer.from(given ?? '0'.repeat(TOTP_DIGITS), 'utf8');
  let matched: number | null = null;
  // Every candidate is computed and compared: the time taken does not say which one matched.
  for (let step = current - TOTP_WINDOW; step <= current + TOTP_WINDOW; step++) {
    const candidate = Buffer.from(hotp(secret, step), 'utf8');
    if (timingSafeEqual(candidate, expected) && matched === null) matched = step;
  }
  if (given === null || matched === null) return null;
  if (options.lastUsedStep !== null && matched <= options.lastUsedStep) return null;
  return matched;
}
