/**
 * How and when a user authenticated: the `amr`, `auth_time` and `acr` a session records and its
 * access tokens carry, and the one rule by which a demanded `acr` is met. Pure: the core uses it
 * to compute a session's assurance, the resource-service SDK (`latchkey/verify`) to check it.
 *
 * The methods (`amr`, RFC 8176 values where one fits):
 * - `pwd`: the password;
 * - `otp`: a TOTP code or a recovery code (a one-time code either way);
 * - `hwk` / `swk`: a passkey, device-bound (not backup eligible: a security key, a platform key
 *   that never leaves its device) or synced (backup eligible: its key lives in a cloud keychain,
 *   in software as far as we can tell). Latchkey requires user verification (a PIN or a
 *   biometric on the authenticator), so a passkey is two factors by itself;
 * - `email`: a sign-in link or code read in the mailbox. Not in the IANA registry (RFC 8176
 *   allows values agreed between the parties): on purpose not `otp`, so that a resource that
 *   looks for `otp` is never satisfied by a mailbox;
 * - `mfa`: added when two factors were used.
 *
 * The levels (`acr`), lowest first: `1` (one factor: ISO/IEC 29115 level 1, as OpenID Connect
 * uses it) and `mfa` (two factors: a password or a mailbox, plus a code or a passkey; or a
 * passkey alone). A resource demands `mfa` for a step-up; a demand of `1` is met by `mfa`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8176 Authentication Method Reference Values
 * @see https://www.rfc-editor.org/rfc/rfc9470 OAuth 2.0 Step Up Authentication Challenge
 */

/** One factor. */
export const ACR_SINGLE = '1';
/** Two factors (or a user-verified passkey). */
export const ACR_MFA = 'mfa';
/** The levels Latchkey issues, lowest first: a demand is met by its own level or a higher one. */
export const ACR_LEVELS: readonly string[] = [ACR_SINGLE, ACR_MFA];

export type AuthMethod = 'pwd' | 'otp' | 'hwk' | 'swk' | 'email';

/** How and when the user authenticated. `authTime` in milliseconds since the epoch. */
export interface Assurance {
  readonly amr: readonly string[];
  readonly authTime: number;
  readonly acr: string;
}

/** What a record written before sessions kept their assurance reads as: a password, at creation. */
export function legacyAssurance(createdAt: number): Assurance {
  return { amr: ['pwd'], authTime: createdAt, acr: ACR_SINGLE };
}

/** The method of a passkey: `swk` for a synced (backup-eligible) one, else `hwk`. */
export function passkeyMethod(passkey: { backupEligible: boolean }): AuthMethod {
  return passkey.backupEligible ? 'swk' : 'hwk';
}

/**
 * The assurance of an authentication made of `methods` at `at`: the methods once each (in a
 * fixed order), `mfa` and the `mfa` level when two factors were used (or a passkey, which is
 * user-verified), else level `1`.
 *
 * @example
 * assuranceOf(['pwd', 'otp'], now); // { amr: ['pwd', 'otp', 'mfa'], authTime: now, acr: 'mfa' }
 */
export function assuranceOf(methods: readonly string[], at: number): Assurance {
  const order = ['pwd', 'email', 'otp', 'hwk', 'swk'];
  const distinct = [...new Set(methods.filter((method) => method !== 'mfa'))].sort(
    (a, b) => rank(order, a) - rank(order, b),
  );
  const multi = distinct.length >= 2 || distinct.some((method) => method === 'hwk' || method === 'swk');
  return {
    amr: multi ? [...distinct, 'mfa'] : distinct,
    authTime: at,
    acr: multi ? ACR_MFA : ACR_SINGLE,
  };
}

function rank(order: readonly string[], method: string): number {
  const index = order.indexOf(method);
  return index < 0 ? order.length : index;
}

/**
 * A step-up: the session's methods plus the one just proved, authenticated now.
 *
 * @example
 * stepUp(session, 'otp', now); // ['pwd'] → { amr: ['pwd', 'otp', 'mfa'], acr: 'mfa' }
 */
export function stepUp(previous: Pick<Assurance, 'amr'>, method: AuthMethod, at: number): Assurance {
  return assuranceOf([...previous.amr, method], at);
}

/**
 * Whether an `acr` meets a demanded one: the same value, or a higher Latchkey level when the
 * demand is one of {@link ACR_LEVELS}. An unknown demand is met only by the same value; a
 * missing `acr` meets nothing.
 *
 * @example
 * acrMeets('mfa', '1'); // true
 * acrMeets('1', 'mfa'); // false
 */
export function acrMeets(actual: unknown, demanded: string): boolean {
  if (typeof actual !== 'string') return false;
  if (actual === demanded) return true;
  const need = ACR_LEVELS.indexOf(demanded);
  const have = ACR_LEVELS.indexOf(actual);
  return need >= 0 && have >= need;
}
