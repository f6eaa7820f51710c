/**
 * Step-up at the resource service (RFC 9470): a route demands an assurance level (`acr`) and a
 * recent authentication (`maxAge`), and a caller whose token does not show them is refused with
 * 401 `insufficient_user_authentication`, whose `WWW-Authenticate` challenge names what is
 * missing (`acr_values`, `max_age`), so the client knows to step up (`POST /v1/mfa/step-up`)
 * and retry with the new token.
 *
 * Checked against the verified claims only (`acr`, `auth_time`): a token's signature is
 * verified before, so a forged claim never gets here.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9470 OAuth 2.0 Step Up Authentication Challenge
 */

import type { Clock } from '../clock.js';
import { parseDuration } from '../config/duration.js';
import { LatchkeyError } from '../errors.js';
import { acrMeets } from '../token/assurance.js';
import type { Principal } from './verifier-types.js';

/**
 * What a route demands of the caller's authentication.
 *
 * @example
 * const requirement: AuthRequirement = { acr: 'mfa', maxAge: '10m' };
 */
export interface AuthRequirement {
  /**
   * The level(s) accepted, in order of preference: `mfa` (two factors), `1` (any). A Latchkey
   * level is met by a higher one; another value only by itself.
   */
  acr?: string | readonly string[];
  /** Longest time since the user authenticated: seconds, or a duration such as `10m`, `1h`. */
  maxAge?: number | string;
}

/** Checks a principal against one requirement: returns it, or throws the RFC 9470 refusal. */
export type AuthRequirementCheck = (principal: Principal) => Principal;

/** `acr_values` and `max_age` as RFC 9470 prints them: the ABNF of a quoted string's content. */
const ACR_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]{1,100}$/;

function readAcr(acr: AuthRequirement['acr']): readonly string[] | null {
  if (acr === undefined) return null;
  const values: unknown = typeof acr === 'string' ? [acr] : acr;
  if (
    !Array.isArray(values) ||
    values.length === 0 ||
    !values.every((value): value is string => typeof value === 'string' && ACR_VALUE.test(value))
  ) {
    throw new TypeError('"acr" must be one or more values of printable ASCII without spaces, " or \\');
  }
  return Object.freeze([...values]);
}

function readMaxAge(maxAge: AuthRequirement['maxAge']): number | null {
  if (maxAge === undefined) return null;
  if (typeof maxAge === 'number' && Number.isSafeInteger(maxAge) && maxAge >= 0) return maxAge;
  const ms = typeof maxAge === 'string' ? parseDuration(maxAge) : null;
  if (ms === null || ms % 1000 !== 0) {
    throw new TypeError('"maxAge" must be whole seconds (a number) or a duration such as "10m"');
  }
  return ms / 1000;
}

/**
 * Makes the check of one requirement (its options read once; a bad one throws a `TypeError`
 * naming it). The check refuses a caller whose `acr` does not meet `acr`, or whose `auth_time`
 * is missing or older than `maxAge` seconds at `clock()`, with `LatchkeyError
 * ('insufficient_user_authentication')` carrying `acr_values` and `max_age` for the challenge
 * (`authenticationFailure` prints them).
 *
 * @example
 * const stepUp = requireAuth({ acr: 'mfa', maxAge: '10m' });
 * const principal = stepUp(await verifier.authenticate(request));
 * @see https://www.rfc-editor.org/rfc/rfc9470#section-3
 */
export function requireAuth(
  requirement: AuthRequirement,
  options: { clock?: Clock } = {},
): AuthRequirementCheck {
  if (typeof requirement !== 'object' || requirement === null) {
    throw new TypeError('the requirement must be an object such as { acr: "mfa", maxAge: "10m" }');
  }
  const acrValues = readAcr(requirement.acr);
  const maxAge = readMaxAge(requirement.maxAge);
  const clock = options.clock ?? Date.now;
  const extensions = {
    ...(acrValues === null ? {} : { acr_values: acrValues.join(' ') }),
    ...(maxAge === null ? {} : { max_age: maxAge }),
  };
  const refuse = (description: string): never => {
    throw new LatchkeyError('insufficient_user_authentication', description, { extensions });
  };
  return (principal) => {
    if (acrValues !== null && !acrValues.some((value) => acrMeets(principal.acr, value))) {
      refuse('A different authentication level is required');
    }
    if (maxAge !== null) {
      const authTime = principal.authTime;
      if (authTime === null) refuse('The time of authentication is unknown; authenticate again');
      else if (Math.floor(clock() / 1000) - authTime > maxAge)
        refuse('More recent authentication is required');
    }
    return principal;
  };
}

/**
 * The `WWW-Authenticate` parameters of a step-up refusal, after `error`: its description and
 * what it demands.
 *
 * @example
 * stepUpChallenge(error); // ', error_description="...", acr_values="mfa", max_age=600'
 * @see https://www.rfc-editor.org/rfc/rfc9470#section-3
 */
export function stepUpChallenge(error: LatchkeyError): string {
  const { acr_values: acrValues, max_age: maxAge } = error.extensions ?? {};
  // Our own descriptions: printable ASCII without a quote or a backslash.
  const description = error.message.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '');
  let challenge = `, error_description="${description}"`;
  if (typeof acrValues === 'string') challenge += `, acr_values="${acrValues}"`;
  if (typeof maxAge === 'number') challenge += `, max_age=${maxAge}`;
  return challenge;
}
