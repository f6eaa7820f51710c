import type { Clock } from '../clock.js';
import type { LatchkeyConfig } from '../config/config.js';
import type { Keyring } from '../keys/keyring.js';
import { randomId } from '../lib/secrets.js';
import type { SessionRecord, UserRecord } from '../records.js';
import { createAccessTokenVerifier, signAccessToken, type AccessTokenVerifier } from './jwt.js';

/** What the core needs from the access-token layer (JWT signing and strict verification). */
export interface AccessTokenService {
  issue(input: { user: UserRecord; session: SessionRecord }): { token: string; expiresIn: number };
  /** Verifies signature and claims; throws `invalid_token`. Returns the claims the core uses. */
  verify(token: string): { sub: string; sid: string | undefined; iat: number; jti: string };
}

export interface AccessTokenServiceWithVerifier extends AccessTokenService {
  /** The strict verifier (shared with resource services) configured for this server. */
  verifier: AccessTokenVerifier;
}

/**
 * First-party access tokens (RFC 9068): signed with the keyring's active key, verified with
 * the strict verifier against every published key.
 */
export function createAccessTokenService(options: {
  config: LatchkeyConfig;
  keyring: Keyring;
  clock: Clock;
}): AccessTokenServiceWithVerifier {
  const { config, keyring, clock } = options;
  const verifier = createAccessTokenVerifier({
    issuer: config.issuer,
    audience: config.audience,
    algorithms: [config.jwtAlgorithm],
    keys: (kid) => keyring.resolveVerificationKey(kid),
    clockTolerance: Math.floor(config.clockTolerance / 1000),
    clock,
  });
  const ttl = Math.floor(config.accessTokenTTL / 1000);
  return {
    verifier,
    issue({ user, session }) {
      const iat = Math.floor(clock() / 1000);
      const token = signAccessToken(
        {
          iss: config.issuer,
          aud: config.audience,
          sub: user.id,
          sid: session.id,
          iat,
          exp: iat + ttl,
          jti: randomId(),
          roles: user.roles,
          email_verified: user.emailVerifiedAt !== null,
          // How and when the user authenticated: the session's, so a refresh keeps them.
          amr: session.amr,
          auth_time: Math.floor(session.authTime / 1000),
          acr: session.acr,
        },
        keyring.signingKey(),
      );
      return { token, expiresIn: ttl };
    },
    verify(token) {
      const { claims } = verifier.verify(token);
      return { sub: claims.sub, sid: claims.sid, iat: claims.iat, jti: claims.jti };
    },
  };
}
