/**
 * Verification in process, per algorithm: our verifier cold (no cache) and cached, the raw
 * `node:crypto` floor, jose, fast-jwt and jsonwebtoken, all on the same token.
 *
 *   npx tsx bench/verify-compare.ts [--rounds 5] [--ms 200] [--alg EdDSA ...]
 *
 * Our own contenders:
 * - `cold`: the strict verifier with its cache off;
 * - `new`: the strict verifier with its cache on, and a token it has not seen each call (a pool
 *   twice the size of its cache): a miss, a full verification, an insertion and an eviction;
 * - `cached`: a hit in its cache. The token is cut from an `Authorization` header each call, so
 *   it is a new string every time, as it is when read from a request (the same string object
 *   every time would measure a hash that V8 computed once and kept in the string);
 * - `sdk-cached`: `latchkey/verify`'s `authenticate({ method, headers })` on a request with the
 *   same Bearer token (cache hit, revocation list checked, principal), awaited. n/a for HS256,
 *   which the SDK does not take.
 *
 * Contenders run interleaved (the order rotates every round) and the report gives median ops/s.
 * A library that cannot verify an algorithm (jsonwebtoken has no EdDSA) is reported as n/a.
 */

import { constants, createHmac, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createVerifier as createFastVerifier } from 'fast-jwt';
import { jwtVerify } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import { generateSigningKey } from '../src/keys/key-material.js';
import type { KeyAlgorithm } from '../src/records.js';
import { createAccessTokenVerifier, KEY_ALGORITHMS, signAccessToken } from '../src/token/jwt.js';
import { createVerifier } from '../src/verify/index.js';
import { formatCount, median } from './lib/stats.js';

export const VERIFY_CONTENDERS = [
  'raw',
  'cold',
  'new',
  'cached',
  'sdk-cached',
  'jose',
  'fast-jwt',
  'jsonwebtoken',
] as const;
export type VerifyContender = (typeof VERIFY_CONTENDERS)[number];

/** Median ops/s per algorithm and contender (NaN where the contender cannot run). */
export type VerifyResults = Record<string, Record<VerifyContender, number>>;

const ISS = 'https://auth.example.com';
const AUD = 'https://api.example.com';
/** Cache size of the `new` contender; its pool holds twice as many tokens, so every call misses. */
const NEW_TOKEN_CACHE = 1000;

function rawVerifier(alg: KeyAlgorithm, key: KeyObject, token: string): () => boolean {
  const dot = token.lastIndexOf('.');
  const data = Buffer.from(token.slice(0, dot));
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  switch (alg) {
    case 'EdDSA':
      return () => cryptoVerify(null, data, key, signature);
    case 'ES256':
      return () => cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    case 'RS256':
      return () => cryptoVerify('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    case 'HS256':
      return () => timingSafeEqual(createHmac('sha256', key).update(data).digest(), signature);
  }
}

/** Returns `fn` if one call succeeds, else null (the contender is n/a for this algorithm). */
async function usable(fn: () => unknown): Promise<(() => unknown) | null> {
  try {
    const result = fn();
    if (result instanceof Promise) await result;
    return fn;
  } catch {
    return null;
  }
}

async function makeCase(alg: KeyAlgorithm): Promise<Record<VerifyContender, (() => unknown) | null>> {
  const generated = await generateSigningKey(alg);
  const key = generated.publicKey ?? generated.privateKey;
  const now = Math.floor(Date.now() / 1000);
  const sign = (jti: string): string =>
    signAccessToken(
      {
        iss: ISS,
        aud: AUD,
        sub: 'user-123',
        sid: 'session-456',
        iat: now,
        exp: now + 3600,
        jti,
        scope: 'read write',
        roles: ['member'],
      },
      generated,
    );
  const token = sign('jti-789');
  const pool = Array.from({ length: 2 * NEW_TOKEN_CACHE }, (_, i) => sign(`jti-new-${i}`));
  // A header string made apart from `token`, so that `slice` gives a string V8 has not hashed.
  const authorization = Buffer.from(`Bearer ${token}`, 'latin1').toString('latin1');
  const common = {
    issuer: ISS,
    audience: AUD,
    algorithms: [alg],
    keys: (kid: string) => (kid === generated.kid ? { kid, alg, key } : undefined),
  };
  const cold = createAccessTokenVerifier({ ...common, cache: false });
  const cached = createAccessTokenVerifier(common);
  const fresh = createAccessTokenVerifier({ ...common, cache: { maxEntries: NEW_TOKEN_CACHE } });
  let next = 0;
  const sdk =
    alg === 'HS256'
      ? null
      : createVerifier({
          issuer: ISS,
          audience: AUD,
          algorithms: [alg],
          keys: [{ ...key.export({ format: 'jwk' }), kid: generated.kid, alg, use: 'sig' }],
          revocation: false,
        });
  const request = { method: 'GET', headers: { authorization } };
  const joseOptions = { issuer: ISS, audience: AUD, algorithms: [alg], typ: 'at+jwt' };
  const keyText = alg === 'HS256' ? key.export() : key.export({ format: 'pem', type: 'spki' });
  const fast = createFastVerifier({
    key: keyText,
    algorithms: [alg],
    allowedIss: ISS,
    allowedAud: AUD,
    cache: false,
  });
  const jsonwebtokenAlg = alg as jsonwebtoken.Algorithm;
  const raw = rawVerifier(alg, key, token);
  if (!raw()) throw new Error(`${alg}: raw verify failed`);
  return {
    raw,
    cold: await usable(() => cold.verify(token)),
    new: await usable(() => fresh.verify(pool[(next = (next + 1) % pool.length)] ?? '')),
    cached: await usable(() => cached.verify(authorization.slice(7))),
    'sdk-cached': sdk === null ? null : await usable(() => sdk.authenticate(request)),
    jose: await usable(() => jwtVerify(token, key, joseOptions)),
    'fast-jwt': await usable(() => fast(token)),
    jsonwebtoken: await usable(() =>
      jsonwebtoken.verify(token, keyText, { algorithms: [jsonwebtokenAlg], issuer: ISS, audience: AUD }),
    ),
  };
}

/** Runs `fn` in batches for about `ms` milliseconds; returns ops/s. Awaits only when it must. */
async function measure(fn: () => unknown, ms: number): Promise<number> {
  let ops = 0;
  let batch = 8;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < batch; i++) {
      const result = fn();
      if (result instanceof Promise) await result;
    }
    ops += batch;
    elapsed = performance.now() - start;
    if (elapsed < ms / 20) batch *= 2;
  }
  return (ops * 1000) / elapsed;
}

/** Runs the comparison; every loop is bounded by `rounds` x `ms` per contender. */
export async function runVerifyComparison(options: {
  algorithms: readonly KeyAlgorithm[];
  rounds: number;
  ms: number;
}): Promise<VerifyResults> {
  const cases = new Map<KeyAlgorithm, Record<VerifyContender, (() => unknown) | null>>();
  for (const alg of options.algorithms) cases.set(alg, await makeCase(alg));
  const samples = new Map<string, number[]>();
  for (const [, c] of cases)
    for (const name of VERIFY_CONTENDERS) {
      const fn = c[name];
      if (fn !== null) await measure(fn, options.ms / 5);
    }
  for (let round = 0; round < options.rounds; round++) {
    for (const [alg, c] of cases) {
      for (let i = 0; i < VERIFY_CONTENDERS.length; i++) {
        const name = VERIFY_CONTENDERS[(i + round) % VERIFY_CONTENDERS.length] ?? 'raw';
        const fn = c[name];
        if (fn === null) continue;
        const key = `${alg}:${name}`;
        samples.set(key, [...(samples.get(key) ?? []), await measure(fn, options.ms)]);
      }
    }
  }
  const results: VerifyResults = {};
  for (const alg of options.algorithms) {
    results[alg] = Object.fromEntries(
      VERIFY_CONTENDERS.map((name) => [name, median(samples.get(`${alg}:${name}`) ?? [])]),
    ) as Record<VerifyContender, number>;
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      ms: { type: 'string', default: '200' },
      alg: { type: 'string', multiple: true },
    },
  });
  const results = await runVerifyComparison({
    algorithms: (values.alg ?? KEY_ALGORITHMS) as KeyAlgorithm[],
    rounds: Number(values.rounds),
    ms: Number(values.ms),
  });
  console.table(
    Object.fromEntries(
      Object.entries(results).map(([alg, row]) => [
        alg,
        Object.fromEntries(Object.entries(row).map(([name, ops]) => [name, formatCount(ops)])),
      ]),
    ),
  );
}
