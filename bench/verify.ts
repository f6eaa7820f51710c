/**
 * Micro-benchmark of access-token verification, in process: `npx tsx bench/verify.ts`.
 *
 * For each algorithm, four contenders verify the same token:
 * - raw:    `crypto.verify` (or HMAC + timingSafeEqual) on a pre-parsed KeyObject and a
 *           pre-split token: the floor, no parsing and no claim checks;
 * - cold:   our verifier with the cache disabled (full parse, header and claim rules, signature);
 * - cached: our verifier with its cache (hit: map lookup, key identity, time checks);
 * - jose:   jose's `jwtVerify` with the same KeyObject and equivalent options (async).
 *
 * Contenders run interleaved: every round runs each of them for `--ms` milliseconds, in an
 * order that rotates from round to round, so drift (thermal, GC, JIT) hits all alike. The
 * report gives the median ops/s over `--rounds` rounds, and ratios of medians.
 *
 * Options: --rounds <n> (default 7), --ms <per contender per round> (default 250),
 * --alg <EdDSA|ES256|RS256|HS256> (repeatable; default all).
 */

import { constants, createHmac, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { jwtVerify } from 'jose';
import { generateSigningKey } from '../src/keys/key-material.js';
import type { KeyAlgorithm } from '../src/stores/types.js';
import { createAccessTokenVerifier, KEY_ALGORITHMS, signAccessToken } from '../src/token/jwt.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    ms: { type: 'string', default: '250' },
    alg: { type: 'string', multiple: true },
  },
});
const ROUNDS = Number(values.rounds);
const SLICE_MS = Number(values.ms);
const ALGORITHMS = (values.alg ?? KEY_ALGORITHMS) as KeyAlgorithm[];
const ISS = 'https://auth.example.com';
const AUD = 'https://api.example.com';

type Contender = 'raw' | 'cold' | 'cached' | 'jose';
const CONTENDERS: Contender[] = ['raw', 'cold', 'cached', 'jose'];

interface Case {
  alg: KeyAlgorithm;
  run: Record<Contender, () => unknown>;
}

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

async function makeCase(alg: KeyAlgorithm): Promise<Case> {
  const generated = await generateSigningKey(alg);
  const key = generated.publicKey ?? generated.privateKey;
  const now = Math.floor(Date.now() / 1000);
  const token = signAccessToken(
    {
      iss: ISS,
      aud: AUD,
      sub: 'user-123',
      sid: 'session-456',
      iat: now,
      exp: now + 3600,
      jti: 'jti-789',
      scope: 'read write',
      roles: ['member'],
    },
    generated,
  );
  const common = {
    issuer: ISS,
    audience: AUD,
    algorithms: [alg],
    keys: (kid: string) => (kid === generated.kid ? { kid, alg, key } : undefined),
  };
  const cold = createAccessTokenVerifier({ ...common, cache: false });
  const cached = createAccessTokenVerifier(common);
  const raw = rawVerifier(alg, key, token);
  if (!raw()) throw new Error(`${alg}: raw verify failed`);
  cold.verify(token);
  cached.verify(token);
  const joseOptions = { issuer: ISS, audience: AUD, algorithms: [alg], typ: 'at+jwt' };
  await jwtVerify(token, key, joseOptions);
  return {
    alg,
    run: {
      raw,
      cold: () => cold.verify(token),
      cached: () => cached.verify(token),
      jose: () => jwtVerify(token, key, joseOptions),
    },
  };
}

/** Runs `fn` in batches for about `ms` milliseconds; returns ops/s. Awaits only when it must. */
async function measure(fn: () => unknown, ms: number): Promise<number> {
  let ops = 0;
  let batch = 16;
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

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

const cases = await Promise.all(ALGORITHMS.map(makeCase));
const samples = new Map<string, number[]>();

// Warm-up round, discarded.
for (const c of cases) for (const name of CONTENDERS) await measure(c.run[name], SLICE_MS / 5);

for (let round = 0; round < ROUNDS; round++) {
  for (const c of cases) {
    for (let i = 0; i < CONTENDERS.length; i++) {
      const name = CONTENDERS[(i + round) % CONTENDERS.length] ?? 'raw';
      const opsPerSecond = await measure(c.run[name], SLICE_MS);
      const key = `${c.alg}:${name}`;
      samples.set(key, [...(samples.get(key) ?? []), opsPerSecond]);
    }
  }
}

console.log(
  `node ${process.version}, ${ROUNDS} interleaved rounds x ${SLICE_MS} ms per contender; median ops/s\n`,
);
const rows = cases.map((c) => {
  const m = Object.fromEntries(
    CONTENDERS.map((name) => [name, median(samples.get(`${c.alg}:${name}`) ?? [])]),
  ) as Record<Contender, number>;
  return {
    alg: c.alg,
    raw: fmt(m.raw),
    cold: fmt(m.cold),
    cached: fmt(m.cached),
    jose: fmt(m.jose),
    'cold/raw': ratio(m.cold, m.raw),
    'cached/cold': ratio(m.cached, m.cold),
    'cold/jose': ratio(m.cold, m.jose),
    'cached/jose': ratio(m.cached, m.jose),
  };
});
console.table(rows);
