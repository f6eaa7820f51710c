/**
 * Recovery codes: the look-up secrets (NIST SP 800-63B §5.1.2) a user keeps for when the phone
 * is lost. Ten per enrolment, each 80 bits from the CSPRNG written as four groups of four
 * characters of an alphabet without look-alikes (no 0/O, 1/I/L), shown once. Only a keyed hash
 * is stored: HMAC-SHA256 under a key derived from the master secret, with the user id in the
 * message, so a stolen table can neither be reversed nor replayed against another account. The
 * hash is the id of a one-time token: looking a code up is one indexed read, and using it up is
 * the store's atomic consumption, so each code works once.
 */

import { randomInt } from 'node:crypto';
import { hmacSha256 } from '../lib/secrets.js';

export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const GROUPS = 4;
const GROUP_LENGTH = 4;

/** One recovery code, e.g. `K7QD-M2XE-9HTR-PW4A`. */
export function generateRecoveryCode(): string {
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    let group = '';
    for (let i = 0; i < GROUP_LENGTH; i++) group += ALPHABET.charAt(randomInt(ALPHABET.length));
    groups.push(group);
  }
  return groups.join('-');
}

/** A fresh set of recovery codes. */
export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, generateRecoveryCode);
}

/**
 * A code as typed: case, spaces and dashes do not matter. Returns the canonical form, or null
 * when it cannot be a recovery code.
 */
export function normalizeRecoveryCode(input: unknown): string | null {
  if (typeof input !== 'string' || input.length > 40) return null;
  const compact = input.replace(/[\s-]/g, '').toUpperCase();
  if (compact.length !== GROUPS * GROUP_LENGTH) return null;
  for (const char of compact) if (!ALPHABET.includes(char)) return null;
  const groups = compact.match(new RegExp(`.{${GROUP_LENGTH}}`, 'g')) ?? [];
  return groups.join('-');
}

/** What is stored for a code of `userId`. */
export function hashRecoveryCode(code: string, options: { userId: string; key: Uint8Array }): string {
  return hmacSha256(options.key, `${options.userId}:${code}`);
}

/**
 * What is stored for a code as typed (see {@link normalizeRecoveryCode}), or null when it
 * cannot be a recovery code.
 */
export function recoveryCodeHash(
  input: unknown,
  options: { userId: string; key: Uint8Array },
): string | null {
  const code = normalizeRecoveryCode(input);
  return code === null ? null : hashRecoveryCode(code, options);
}
