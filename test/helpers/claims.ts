/** Access-token claims for the JWT tests: one issuer, one audience, a fixed clock. */

export const ISS = 'https://auth.example.com';
export const AUD = 'https://api.example.com';
export const START = Date.UTC(2026, 0, 1);
export const NOW = START / 1000;

/** Valid claims at `START`, with `overrides` on top. */
export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: ISS,
    aud: AUD,
    sub: 'user-1',
    sid: 'session-1',
    iat: NOW,
    exp: NOW + 900,
    jti: 'jti-1',
    scope: 'read write',
    roles: ['admin'],
    ...overrides,
  };
}
