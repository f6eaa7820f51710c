/**
 * Cross-checks with independent implementations: jose (both directions) and, outside Node,
 * PyJWT from Debian's python3-jwt run by /usr/bin/python3.
 */
import { spawnSync } from 'node:child_process';
import { createLocalJWKSet, exportJWK, importJWK, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import {
  generateSigningKey,
  importPublicJWK,
  type GeneratedSigningKey,
} from '../../src/keys/key-material.js';
import type { KeyAlgorithm } from '../../src/records.js';
import {
  createAccessTokenVerifier,
  signAccessToken,
  type AccessTokenClaims,
  type VerificationKey,
} from '../../src/token/jwt.js';
import { isCI } from '../helpers/ci.js';

const ISS = 'https://auth.example.com';
const AUD = 'https://api.example.com';
const START = Date.UTC(2026, 0, 1);
const NOW = START / 1000;
const ALL: KeyAlgorithm[] = ['EdDSA', 'ES256', 'RS256', 'HS256'];
const ASYMMETRIC: KeyAlgorithm[] = ['EdDSA', 'ES256', 'RS256'];

const keys = Object.fromEntries(
  await Promise.all(ALL.map(async (alg) => [alg, await generateSigningKey(alg)] as const)),
) as Record<KeyAlgorithm, GeneratedSigningKey>;

function key(alg: KeyAlgorithm): GeneratedSigningKey {
  return keys[alg];
}

function claimsAt(now: number, overrides: Partial<AccessTokenClaims> = {}): AccessTokenClaims {
  return {
    iss: ISS,
    aud: AUD,
    sub: 'user-1',
    sid: 'session-1',
    iat: now,
    exp: now + 900,
    jti: `jti-${now}`,
    scope: 'read',
    roles: ['admin'],
    ...overrides,
  };
}

function ourVerifier(resolve: (kid: string) => VerificationKey | undefined, clockMs = START) {
  return createAccessTokenVerifier({
    issuer: ISS,
    audience: AUD,
    algorithms: ALL,
    keys: resolve,
    clock: createManualClock(clockMs),
  });
}

describe('jose', () => {
  it.each(ALL)('verifies %s tokens signed by signAccessToken', async (alg) => {
    const k = key(alg);
    const token = signAccessToken(claimsAt(NOW), k);
    const verifyKey = k.publicJwk === null ? k.privateKey.export() : await importJWK({ ...k.publicJwk }, alg);
    const { payload, protectedHeader } = await jwtVerify(token, verifyKey, {
      issuer: ISS,
      audience: AUD,
      algorithms: [alg],
      typ: 'at+jwt',
      currentDate: new Date(START),
      requiredClaims: ['exp', 'iat', 'jti', 'sub'],
    });
    expect(protectedHeader).toEqual({ alg, kid: k.kid, typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: 'user-1', sid: 'session-1', roles: ['admin'] });
  });

  it('verifies our tokens against our published JWKS through createLocalJWKSet', async () => {
    const jwks = createLocalJWKSet({
      keys: ASYMMETRIC.map((alg) => ({ ...(key(alg).publicJwk ?? {}) })),
    });
    for (const alg of ASYMMETRIC) {
      const token = signAccessToken(claimsAt(NOW), key(alg));
      const { protectedHeader } = await jwtVerify(token, jwks, {
        issuer: ISS,
        audience: AUD,
        typ: 'at+jwt',
        currentDate: new Date(START),
      });
      expect(protectedHeader.kid).toBe(key(alg).kid);
    }
  });

  it.each(ALL)('tokens signed by jose SignJWT (%s) verify with ours', async (alg) => {
    const k = key(alg);
    const token = await new SignJWT({ sid: 'session-9', roles: ['reader'], scope: 'a b' })
      .setProtectedHeader({ alg, kid: k.kid, typ: 'at+jwt' })
      .setIssuer(ISS)
      .setAudience([AUD, 'https://other.example'])
      .setSubject('user-9')
      .setJti('jti-9')
      .setIssuedAt(NOW)
      .setExpirationTime(NOW + 300)
      .sign(k.privateKey);
    let resolved: VerificationKey;
    if (alg === 'HS256') {
      resolved = { kid: k.kid, alg, key: k.privateKey };
    } else {
      // Through jose's JWK export, to check that our JWK import reads what others publish.
      const jwk = await exportJWK(k.publicKey ?? k.privateKey);
      resolved = importPublicJWK({ ...jwk, kid: k.kid, alg, use: 'sig' });
    }
    const verifier = ourVerifier((kid) => (kid === k.kid ? resolved : undefined));
    const { claims, header } = verifier.verify(token);
    expect(header).toEqual({ alg, kid: k.kid, typ: 'at+jwt' });
    expect(claims).toMatchObject({ sub: 'user-9', sid: 'session-9', jti: 'jti-9', roles: ['reader'] });
  });

  it('jose tokens that break our rules are refused by ours', async () => {
    const k = key('EdDSA');
    const resolved: VerificationKey = { kid: k.kid, alg: 'EdDSA', key: k.publicKey ?? k.privateKey };
    const verifier = ourVerifier((kid) => (kid === k.kid ? resolved : undefined));
    const base = (): SignJWT =>
      new SignJWT({})
        .setIssuer(ISS)
        .setAudience(AUD)
        .setSubject('u')
        .setJti('j')
        .setIssuedAt(NOW)
        .setExpirationTime(NOW + 60);
    const plainJWT = await base()
      .setProtectedHeader({ alg: 'EdDSA', kid: k.kid, typ: 'JWT' })
      .sign(k.privateKey);
    expect(() => verifier.verify(plainJWT)).toThrow('typ not allowed');
    const noKid = await base().setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' }).sign(k.privateKey);
    expect(() => verifier.verify(noKid)).toThrow('kid missing or invalid');
    const withCrit = await base()
      .setProtectedHeader({ alg: 'EdDSA', kid: k.kid, typ: 'at+jwt', crit: ['exp'], exp: 1 })
      .sign(k.privateKey, { crit: { exp: true } });
    expect(() => verifier.verify(withCrit)).toThrow('crit not supported');
  });
});

// ---------------------------------------------------------------------------------------------
// PyJWT (Debian python3-jwt), outside Node.

const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import jwt, cryptography; print(jwt.__version__)'], {
  encoding: 'utf8',
});
const pyjwtVersion = probe.status === 0 ? probe.stdout.trim() : null;
const inCI = isCI();
if (pyjwtVersion === null && !inCI) {
  console.warn(
    `SKIPPED: PyJWT cross-check: ${PYTHON} cannot import jwt (apt-get install -y python3-jwt python3-cryptography)`,
  );
}

const PYJWT_SCRIPT = String.raw`
import json, sys
import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

cases = json.load(sys.stdin)
results = []
for case in cases:
    try:
        if case["keyFormat"] == "pem":
            key = load_pem_public_key(case["key"].encode())
        else:
            key = jwt.PyJWK(case["key"]).key
        claims = jwt.decode(
            case["token"],
            key,
            algorithms=[case["alg"]],
            audience=case["aud"],
            issuer=case["iss"],
            options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
        )
        header = jwt.get_unverified_header(case["token"])
        results.append({"ok": True, "sub": claims["sub"], "kid": header.get("kid"), "typ": header.get("typ")})
    except Exception as error:
        results.append({"ok": False, "error": type(error).__name__})
print(json.dumps(results))
`;

interface PyCase {
  name: string;
  token: string;
  alg: KeyAlgorithm;
  keyFormat: 'pem' | 'jwk';
  key: unknown;
  iss: string;
  aud: string;
}

function runPyJWT(
  cases: PyCase[],
): { ok: boolean; sub?: string; kid?: string; typ?: string; error?: string }[] {
  const run = spawnSync(PYTHON, ['-c', PYJWT_SCRIPT], { input: JSON.stringify(cases), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`python failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as {
    ok: boolean;
    sub?: string;
    kid?: string;
    typ?: string;
    error?: string;
  }[];
}

describe.skipIf(pyjwtVersion === null && !inCI)(`PyJWT ${pyjwtVersion ?? '(missing)'}`, () => {
  it('verifies EdDSA, ES256 and RS256 tokens from signAccessToken (PEM and JWK, iss/aud checked)', () => {
    if (pyjwtVersion === null) throw new Error(`CI: ${PYTHON} cannot import jwt; install python3-jwt`);
    // PyJWT checks exp against the real time, so these tokens are issued now.
    const now = Math.floor(Date.now() / 1000);
    const cases: PyCase[] = [];
    for (const alg of ASYMMETRIC) {
      const k = key(alg);
      const token = signAccessToken(claimsAt(now), k);
      const pem = (k.publicKey ?? k.privateKey).export({ format: 'pem', type: 'spki' }).toString();
      const common = { token, alg, iss: ISS, aud: AUD };
      cases.push({ name: `${alg} pem`, ...common, keyFormat: 'pem', key: pem });
      cases.push({ name: `${alg} jwk`, ...common, keyFormat: 'jwk', key: k.publicJwk });
      // Negative controls: the check is not vacuous.
      cases.push({
        name: `${alg} wrong aud`,
        ...common,
        aud: 'https://nope.example',
        keyFormat: 'pem',
        key: pem,
      });
      cases.push({
        name: `${alg} wrong iss`,
        ...common,
        iss: 'https://nope.example',
        keyFormat: 'pem',
        key: pem,
      });
      const [h, p, s = ''] = token.split('.');
      const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
      cases.push({
        name: `${alg} tampered`,
        ...common,
        token: `${h}.${p}.${flipped}`,
        keyFormat: 'pem',
        key: pem,
      });
    }
    const results = runPyJWT(cases);
    const byName = Object.fromEntries(cases.map((c, i) => [c.name, results[i]]));
    for (const alg of ASYMMETRIC) {
      expect(byName[`${alg} pem`], alg).toEqual({
        ok: true,
        sub: 'user-1',
        kid: key(alg).kid,
        typ: 'at+jwt',
      });
      expect(byName[`${alg} jwk`], alg).toMatchObject({ ok: true, sub: 'user-1' });
      expect(byName[`${alg} wrong aud`]).toEqual({ ok: false, error: 'InvalidAudienceError' });
      expect(byName[`${alg} wrong iss`]).toEqual({ ok: false, error: 'InvalidIssuerError' });
      expect(byName[`${alg} tampered`]).toEqual({ ok: false, error: 'InvalidSignatureError' });
    }
  });

  it('tokens signed by PyJWT verify with ours', () => {
    if (pyjwtVersion === null) throw new Error(`CI: ${PYTHON} cannot import jwt; install python3-jwt`);
    const script = String.raw`
import json, sys
import jwt
from cryptography.hazmat.primitives.serialization import load_der_private_key
cases = json.load(sys.stdin)
out = []
for case in cases:
    key = load_der_private_key(bytes.fromhex(case["der"]), password=None)
    out.append(jwt.encode(case["claims"], key, algorithm=case["alg"], headers={"kid": case["kid"], "typ": "at+jwt"}))
print(json.dumps(out))
`;
    const cases = ASYMMETRIC.map((alg) => ({
      alg,
      kid: key(alg).kid,
      der: key(alg).privateKey.export({ format: 'der', type: 'pkcs8' }).toString('hex'),
      claims: claimsAt(NOW),
    }));
    const run = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const tokens = JSON.parse(run.stdout) as string[];
    const resolved = new Map(
      ASYMMETRIC.map((alg) => {
        const k = key(alg);
        return [k.kid, importPublicJWK(k.publicJwk)] as const;
      }),
    );
    const verifier = ourVerifier((kid) => resolved.get(kid));
    tokens.forEach((token, i) => {
      const { header, claims } = verifier.verify(token);
      expect(header.alg).toBe(ASYMMETRIC[i]);
      expect(claims.sub).toBe('user-1');
    });
  });
});
