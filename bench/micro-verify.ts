/**
 * In-process cost of one verification of a new token (µs/op), per algorithm: our verifier with
 * its default cache (every token new: a pool larger than the cache), without a cache, and the raw
 * node:crypto signature check; the HTTP bound of "new token each request" adds the raw figure to
 * the server's no-auth route. Usage: tsx bench/micro-verify.ts [HS256 RS256 ...]
 */
import { constants, createHmac, timingSafeEqual, verify as cryptoVerify } from 'node:crypto';
import { generateSigningKey } from '../src/keys/key-material.js';
import type { KeyAlgorithm } from '../src/records.js';
import { createAccessTokenVerifier, signAccessToken } from '../src/token/jwt.js';
import { BENCH_AUDIENCE, BENCH_ISSUER, benchClaims } from './lib/bench-tokens.js';

const POOL = 12_000;

/** Best of 5 rounds of CPU time (steadier than wall time on a shared machine), µs per call. */
function time(label: string, run: (i: number) => unknown, ops: number): void {
  for (let i = 0; i < ops / 4; i++) run(i);
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < ops; i++) run(i);
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / ops);
  }
  console.log(`${label.padEnd(28)} ${best.toFixed(2)} µs/op (CPU, best of 5)`);
}

for (const alg of (process.argv.slice(2).length > 0
  ? process.argv.slice(2)
  : ['HS256', 'RS256']) as KeyAlgorithm[]) {
  const key = await generateSigningKey(alg);
  const tokens: string[] = [];
  for (let i = 0; i < POOL; i++) tokens.push(signAccessToken(benchClaims(i), key));
  const verificationKey = alg === 'HS256' ? key.privateKey : (key.publicKey ?? key.privateKey);
  const options = {
    issuer: BENCH_ISSUER,
    audience: BENCH_AUDIENCE,
    algorithms: [alg],
    keys: () => ({ kid: key.kid, alg, key: verificationKey }),
  };
  const cached = createAccessTokenVerifier(options);
  const uncached = createAccessTokenVerifier({ ...options, cache: false });
  const ops = alg === 'HS256' ? 60_000 : 12_000;
  // Fresh strings, as a request header would give.
  const fresh = (i: number): string => (tokens[i % POOL] as string).slice(0);
  time(`${alg} verifier, new token`, (i) => cached.verify(fresh(i)), ops);
  time(`${alg} verifier, no cache`, (i) => uncached.verify(fresh(i)), ops);
  time(`${alg} verifier, same token`, () => cached.verify(tokens[0] as string), ops);
  time(
    `${alg} raw`,
    (i) => {
      const token = fresh(i);
      const dot = token.lastIndexOf('.');
      const signature = Buffer.from(token.slice(dot + 1), 'base64url');
      if (alg === 'HS256') {
        const mac = createHmac('sha256', verificationKey).update(token.slice(0, dot)).digest();
        return timingSafeEqual(mac, signature);
      }
      return cryptoVerify(
        'sha256',
        Buffer.from(token.slice(0, dot)),
        { key: verificationKey, padding: constants.RSA_PKCS1_PADDING },
        signature,
      );
    },
    ops,
  );
}
