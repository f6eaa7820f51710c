/**
 * The access tokens every benchmark signs: one issuer, one audience and one claim set, so that
 * the full run (`bench/run.ts`), the A/B harness (`bench/ab.ts`) and the in-process micro
 * benchmarks verify tokens of the same size and shape.
 */

import type { signAccessToken } from '../../src/token/jwt.js';

export const BENCH_ISSUER = 'https://auth.bench.example';
export const BENCH_AUDIENCE = 'https://api.bench.example';

/** The claims of the `i`-th token of a pool: the same claims, a distinct `jti`. */
export function benchClaims(i: number): Parameters<typeof signAccessToken>[0] {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: BENCH_ISSUER,
    aud: BENCH_AUDIENCE,
    sub: 'user-123',
    sid: 'session-456',
    iat: now,
    exp: now + 3600,
    jti: `jti-${i}`,
    scope: 'read write',
    roles: ['member'],
  };
}
