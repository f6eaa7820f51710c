/**
 * The shape of a Latchkey access token: its JOSE header, its claims, and what a successful
 * verification returns. Types only, plus the `typ` value; the signer (`jwt-sign.ts`) and the
 * verifier (`jwt-verifier.ts`) share them.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068 JWT Profile for OAuth 2.0 Access Tokens
 */

import type { KeyAlgorithm } from '../records.js';

/** The `typ` of Latchkey access tokens. @see https://www.rfc-editor.org/rfc/rfc9068#section-2.1 */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** The JOSE header of an access token, as signed and as returned by the verifier. */
export interface AccessTokenHeader {
  readonly alg: KeyAlgorithm;
  readonly kid: string;
  readonly typ: string;
}

/**
 * The claims of a Latchkey access token. Times are NumericDate: seconds since the epoch.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2
 */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly aud: string | readonly string[];
  readonly sub: string;
  /** Session id; absent for machine clients (client credentials). */
  readonly sid?: string;
  readonly iat: number;
  readonly exp: number;
  readonly nbf?: number;
  readonly jti: string;
  /** Space-separated scopes. @see https://www.rfc-editor.org/rfc/rfc8693#section-4.2 */
  readonly scope?: string;
  readonly roles?: readonly string[];
  /** Whether the user proved they read mail at their address (OIDC's `email_verified`). */
  readonly email_verified?: boolean;
  readonly client_id?: string;
  /** How the user authenticated (RFC 8176); absent for machine clients. */
  readonly amr?: readonly string[];
  /** When the user authenticated (NumericDate; OpenID Connect Core §2). */
  readonly auth_time?: number;
  /** The assurance level (`1` or `mfa`; see `token/assurance.ts`). */
  readonly acr?: string;
}

/** Claims as verified: the typed claims plus whatever else the issuer put in the token. */
export interface VerifiedAccessTokenClaims extends AccessTokenClaims {
  readonly [claim: string]: unknown;
}

/** The result of a successful verification. Deeply frozen: it may be shared through the cache. */
export interface VerifiedAccessToken {
  readonly header: AccessTokenHeader;
  readonly claims: VerifiedAccessTokenClaims;
}
