/**
 * The principal: the caller as a resource service sees it, made from a verified access token
 * (and kept per verified result, so that a cache hit returns the same frozen object) or from
 * the auth server's answer about a session cookie.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2 the claims it is made of
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2.2 introspection responses
 */

import type { VerifiedAccessToken, VerifiedAccessTokenClaims } from '../token/jwt.js';
import type { IntrospectedSession } from './introspection.js';
import type { Principal } from './verifier-types.js';

/**
 * Makes the `toPrincipal` of one verifier: the principal of a verified token for `via`,
 * made once per verified result and frozen, like the claims.
 *
 * @example
 * const toPrincipal = createPrincipalCache();
 * const principal = toPrincipal(strict.verify(token), 'bearer');
 * @see https://www.rfc-editor.org/rfc/rfc8693#section-4.2 `scope`, space-separated
 */
export function createPrincipalCache(): (
  verified: VerifiedAccessToken,
  via: 'bearer' | 'cookie',
) => Principal {
  /** Principals already made, per verified result (which the strict verifier's cache shares). */
  const principals: Record<'bearer' | 'cookie', WeakMap<VerifiedAccessToken, Principal>> = {
    bearer: new WeakMap(),
    cookie: new WeakMap(),
  };

  function toPrincipal(verified: VerifiedAccessToken, via: 'bearer' | 'cookie'): Principal {
    const made = principals[via].get(verified);
    if (made !== undefined) return made;
    const { claims } = verified;
    // Frozen, like the claims: the next request with the same token gets the same object.
    const principal: Principal = Object.freeze({
      sub: claims.sub,
      sid: claims.sid ?? null,
      scope: Object.freeze(
        claims.scope === undefined ? [] : claims.scope.split(' ').filter((s) => s.length > 0),
      ),
      roles: claims.roles ?? Object.freeze([]),
      clientId: claims.client_id ?? null,
      via,
      amr: claims.amr ?? Object.freeze([]),
      acr: claims.acr ?? null,
      authTime: claims.auth_time ?? null,
      claims,
    });
    principals[via].set(verified, principal);
    return principal;
  }

  return toPrincipal;
}

/**
 * The principal of a live session as introspection described it (session mode): the session's
 * user and id, no scope or roles, and claims that say `token_type: 'session'`.
 *
 * @example
 * const session = await introspection.lookup(cookie, { useCache: true });
 * if (session !== null) return sessionPrincipal(session, issuer, audience);
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2.2
 */
export function sessionPrincipal(
  session: IntrospectedSession,
  issuer: string,
  audience: string | readonly string[],
): Principal {
  const claims: VerifiedAccessTokenClaims = Object.freeze({
    iss: issuer,
    aud: audience,
    sub: session.sub,
    sid: session.sid,
    iat: session.iat,
    exp: session.exp,
    jti: '',
    token_type: 'session',
    ...(session.amr === undefined ? {} : { amr: session.amr }),
    ...(session.acr === undefined ? {} : { acr: session.acr }),
    ...(session.authTime === undefined ? {} : { auth_time: session.authTime }),
  });
  return {
    sub: session.sub,
    sid: session.sid,
    scope: [],
    roles: [],
    clientId: null,
    via: 'cookie',
    amr: session.amr ?? [],
    acr: session.acr ?? null,
    authTime: session.authTime ?? null,
    claims,
  };
}
