import { readFileSync } from 'node:fs';
import { LatchkeyError } from '../errors.js';

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

let commonPasswords: Set<string> | undefined;

/** The shipped list of the most common passwords, lower-cased; loaded once. */
function loadCommonPasswords(): Set<string> {
  if (!commonPasswords) {
    // Same depth from src/password/ and dist/password/.
    const text = readFileSync(new URL('../../data/common-passwords.txt', import.meta.url), 'utf8');
    commonPasswords = new Set(
      text
        .split('\n')
        .map((line) => line.trim().toLowerCase())
        .filter((line) => line !== ''),
    );
  }
  return commonPasswords;
}

/**
 * Unicode-normalizes a password (NFKC), so that the same characters typed on different
 * keyboards hash the same. Nothing is trimmed or truncated.
 * @see https://pages.nist.gov/800-63-3/sp800-63b.html#sec5 (5.1.1.2)
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Length in code points, as a person counts characters (not UTF-16 units). */
function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * Checks a new password against the policy: 8 to 1024 characters after normalization, no NUL,
 * not in the common-password list, and not the account's own email. Throws `weak_password`
 * with a reason the user can act on.
 */
export function assertPasswordPolicy(password: string, options: { email?: string } = {}): void {
  const normalized = normalizePassword(password);
  const length = codePointLength(normalized);
  if (length < MIN_PASSWORD_LENGTH) {
    throw new LatchkeyError(
      'weak_password',
      `The password must be at least ${MIN_PASSWORD_LENGTH} characters`,
    );
  }
  if (length > MAX_PASSWORD_LENGTH) {
    throw new LatchkeyError(
      'weak_password',
      `The password must be at most ${MAX_PASSWORD_LENGTH} characters`,
    );
  }
  if (normalized.includes('\u0000')) {
    throw new LatchkeyError('weak_password', 'The password must not contain NUL characters');
  }
  const lower = normalized.toLowerCase();
  if (loadCommonPasswords().has(lower)) {
    throw new LatchkeyError('weak_password', 'The password is one of the most commonly used passwords');
  }
  if (options.email !== undefined && (lower === options.email || lower === options.email.split('@')[0])) {
    throw new LatchkeyError('weak_password', 'The password must not be the email address');
  }
}

/**
 * Normalizes an email for storage and lookup: trimmed, NFKC, lower-cased. Returns null when it
 * does not look like an address (one `@`, a non-empty local part and a dotted domain, no spaces,
 * at most 254 characters).
 */
export function normalizeEmail(email: string): string | null {
  const value = email.trim().normalize('NFKC').toLowerCase();
  if (value.length > 254 || value.length < 3) return null;
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) < 0x20) return null;
  if (!/^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$/u.test(value)) return null;
  return value;
}
