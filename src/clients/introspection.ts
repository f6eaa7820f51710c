/**
 * Token introspection (RFC 7662) for machine clients: an access token (verified for the
 * server's audience and the caller's, then checked against its live session or its enabled
 * client) or a cookie-mode session credential. Anything else, or anything dead, is
 * `{ active: false }`, with no reason given.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7662
 */

import { constantTimeEqual, parseCredential, sha256 } from '../lib/secrets.js';
import { isSessionLive, type ClientRecord } from '../records.js';
import { createAccessTokenVerifier, type AccessTokenVerifier } from '../token/jwt.js';
import type { ClientServiceOptions, IntrospectionResponse } from './clients.js';

/** Introspection verifiers kept (one per distinct audience set of the callers). */
const MAX_VERIFIERS = 100;

export interface Introspector {
  introspect(caller: ClientRecord, token: string, hint?: string): Promise<IntrospectionResponse>;
  /**
   * A machine access token for this server's own audience: its enabled client and the scopes
   * it grants; null for anything else (a user's token, a bad or expired one, a disabled client).
   */
  machineToken(token: string): Promise<{ client: ClientRecord; scopes: string[] } | null>;
}

/**
 * @example
 * const response = await createIntrospector({ store, clock, config, keyring }).introspect(caller, token);
 */
export function createIntrospector(
  options: Pick<ClientServiceOptions, 'store' | 'clock' | 'config' | 'keyring'>,
): Introspector {
  const { store, clock, config, keyring } = options;
  const verifiers = new Map<string, AccessTokenVerifier>();

  function verifierFor(audiences: readonly string[]): AccessTokenVerifier {
    const key = JSON.stringify(audiences);
    let verifier = verifiers.get(key);
    if (verifier === undefined) {
      if (verifiers.size >= MAX_VERIFIERS) verifiers.clear();
      verifier = createAccessTokenVerifier({
        issuer: config.issuer,
        audience: audiences,
        algorithms: [config.jwtAlgorithm],
        keys: (kid) => keyring.resolveVerificationKey(kid),
        clockTolerance: Math.floor(config.clockTolerance / 1000),
        clock,
        cache: { maxEntries: 1_000 },
      });
      verifiers.set(key, verifier);
    }
    return verifier;
  }

  async function introspectSession(token: string): Promise<IntrospectionResponse> {
    const credential = parseCredential(token);
    if (credential === null) return { active: false };
    const session = await store.getSession(credential.id);
    if (session === null || !constantTimeEqual(sha256(credential.secret), session.secretHash)) {
      return { active: false };
    }
    if (session.mode !== 'cookie' || !isSessionLive(session, clock())) return { active: false };
    const user = await store.getUserById(session.userId);
    if (user?.status !== 'active') return { active: false };
    return {
      active: true,
      sub: session.userId,
      sid: session.id,
      exp: Math.floor(Math.min(session.idleExpiresAt, session.absoluteExpiresAt) / 1000),
      iat: Math.floor(session.createdAt / 1000),
      token_type: 'session',
      amr: session.amr,
      auth_time: Math.floor(session.authTime / 1000),
      acr: session.acr,
    };
  }

  async function introspectAccessToken(caller: ClientRecord, token: string): Promise<IntrospectionResponse> {
    let claims;
    try {
      claims = verifierFor([config.audience, ...caller.audiences]).verify(token).claims;
    } catch {
      return { active: false };
    }
    if (claims.sid !== undefined) {
      const session = await store.getSession(claims.sid);
      if (session === null || session.userId !== claims.sub || !isSessionLive(session, clock())) {
        return { active: false };
      }
      const user = await store.getUserById(session.userId);
      if (user?.status !== 'active') return { active: false };
    } else {
      // A machine token: its client must still exist and be enabled.
      const owner = claims.client_id === undefined ? null : await store.getClient(claims.client_id);
      if (owner === null || owner.disabledAt !== null || owner.id !== claims.sub) return { active: false };
    }
    return {
      active: true,
      sub: claims.sub,
      ...(claims.sid === undefined ? {} : { sid: claims.sid }),
      ...(claims.scope === undefined ? {} : { scope: claims.scope }),
      ...(claims.client_id === undefined ? {} : { client_id: claims.client_id }),
      exp: claims.exp,
      iat: claims.iat,
      token_type: 'access_token',
      ...(claims.amr === undefined ? {} : { amr: claims.amr }),
      ...(claims.auth_time === undefined ? {} : { auth_time: claims.auth_time }),
      ...(claims.acr === undefined ? {} : { acr: claims.acr }),
    };
  }

  return {
    async machineToken(token) {
      let claims;
      try {
        claims = verifierFor([config.audience]).verify(token).claims;
      } catch {
        return null;
      }
      if (claims.sid !== undefined || claims.client_id === undefined) return null;
      const client = await store.getClient(claims.client_id);
      if (client === null || client.disabledAt !== null || client.id !== claims.sub) return null;
      const scopes = (claims.scope ?? '').split(' ').filter((scope) => client.scopes.includes(scope));
      return { client, scopes };
    },

    async introspect(caller, token, hint) {
      if (hint === 'refresh_token') return { active: false };
      const parts = token.split('.').length;
      if (parts === 3) return introspectAccessToken(caller, token);
      if (parts === 2) return introspectSession(token);
      return { active: false };
    },
  };
}
