/**
 * The CSRF rules of `src/csrf/csrf.ts` as functions: which methods are unsafe, the session-bound
 * token, and the verdict (with its reason, which the 403 and the `csrf.cross_site` event carry)
 * for each combination of `Sec-Fetch-Site`, `Origin` and `Referer`. The HTTP tests attack the
 * same rules through requests (`test/http/csrf.test.ts`, `test/http/cross-site.test.ts`).
 */
import { describe, expect, it } from 'vitest';
import {
  checkRequestOrigin,
  createCSRFToken,
  isUnsafeMethod,
  verifyCSRFToken,
  type OriginPolicy,
} from '../../src/csrf/csrf.js';

const OWN = 'https://auth.example.test';
const ALLOWED = 'https://app.example.test';
const policy: OriginPolicy = { ownOrigin: OWN, allowedOrigins: [ALLOWED] };

const ALLOW = { allowed: true };
const refused = (reason: string): { allowed: false; reason: string } => ({ allowed: false, reason });

describe('isUnsafeMethod', () => {
  it('is true for every method that changes state, in any case', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'post', 'put', 'Patch', 'delete']) {
      expect(isUnsafeMethod(method), method).toBe(true);
    }
  });

  it('is false for the safe methods', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'get', '']) {
      expect(isUnsafeMethod(method), method).toBe(false);
    }
  });
});

describe('the CSRF token', () => {
  const key = new Uint8Array(32).fill(1);

  it('is deterministic per session and key, and differs across sessions and keys', () => {
    const token = createCSRFToken(key, 'session-a');
    expect(createCSRFToken(key, 'session-a')).toBe(token);
    expect(createCSRFToken(key, 'session-b')).not.toBe(token);
    expect(createCSRFToken(new Uint8Array(32).fill(2), 'session-a')).not.toBe(token);
  });

  it("verifies only the session's own token", () => {
    const token = createCSRFToken(key, 'session-a');
    expect(verifyCSRFToken(key, 'session-a', token)).toBe(true);
    expect(verifyCSRFToken(key, 'session-b', token)).toBe(false);
    expect(verifyCSRFToken(key, 'session-a', undefined)).toBe(false);
    expect(verifyCSRFToken(key, 'session-a', '')).toBe(false);
    expect(verifyCSRFToken(key, 'session-a', `${token}x`)).toBe(false);
    expect(verifyCSRFToken(key, 'session-a', token.repeat(4))).toBe(false);
  });
});

describe('checkRequestOrigin', () => {
  it('allows a request without any browser signal (a non-browser client has no cookies to ride)', () => {
    expect(checkRequestOrigin({}, policy)).toEqual(ALLOW);
  });

  it('allows same-origin requests and the allowed origins, case-insensitively', () => {
    expect(checkRequestOrigin({ origin: OWN, secFetchSite: 'same-origin' }, policy)).toEqual(ALLOW);
    expect(checkRequestOrigin({ origin: OWN.toUpperCase() }, policy)).toEqual(ALLOW);
    expect(checkRequestOrigin({ origin: ALLOWED, secFetchSite: 'cross-site' }, policy)).toEqual(ALLOW);
    expect(checkRequestOrigin({ origin: ALLOWED, secFetchSite: 'same-site' }, policy)).toEqual(ALLOW);
    expect(checkRequestOrigin({ secFetchSite: 'none' }, policy)).toEqual(ALLOW);
    expect(
      checkRequestOrigin(
        { origin: ALLOWED, referer: `${ALLOWED}/page` },
        { ownOrigin: OWN, allowedOrigins: [ALLOWED.toUpperCase()] },
      ),
    ).toEqual(ALLOW);
  });

  it('refuses Origin null, saying so', () => {
    expect(checkRequestOrigin({ origin: 'null' }, policy)).toEqual(refused('Origin null is refused'));
    expect(checkRequestOrigin({ origin: 'NULL', secFetchSite: 'same-origin' }, policy)).toEqual(
      refused('Origin null is refused'),
    );
  });

  it('refuses an Origin that is neither the own nor an allowed one', () => {
    for (const origin of ['https://evil.example', 'http://auth.example.test', `${OWN}:8443`]) {
      expect(checkRequestOrigin({ origin }, policy), origin).toEqual(refused('Origin is not allowed'));
    }
  });

  it('refuses Sec-Fetch-Site cross-site or same-site without an allowed Origin', () => {
    expect(checkRequestOrigin({ secFetchSite: 'cross-site' }, policy)).toEqual(
      refused('Sec-Fetch-Site cross-site without an allowed Origin'),
    );
    expect(checkRequestOrigin({ secFetchSite: 'Same-Site', origin: OWN }, policy)).toEqual(
      refused('Sec-Fetch-Site same-site without an allowed Origin'),
    );
  });

  it('refuses a Referer from elsewhere, or one that is not a URL, whatever the other headers say', () => {
    const reason = refused('Referer is not from an allowed origin');
    expect(checkRequestOrigin({ referer: 'https://evil.example/attack.html' }, policy)).toEqual(reason);
    expect(
      checkRequestOrigin(
        { origin: OWN, secFetchSite: 'same-origin', referer: 'https://evil.example/' },
        policy,
      ),
    ).toEqual(reason);
    expect(checkRequestOrigin({ referer: 'not a url' }, policy)).toEqual(reason);
    expect(checkRequestOrigin({ referer: `${OWN}/account` }, policy)).toEqual(ALLOW);
    expect(checkRequestOrigin({ referer: `${ALLOWED}/` }, policy)).toEqual(ALLOW);
  });

  it('refuses a Referer without an origin of its own even if an allow-list held "null"', () => {
    // The configuration refuses "null" in LATCHKEY_ALLOWED_ORIGINS; the check does not rely on it.
    const lax: OriginPolicy = { ownOrigin: OWN, allowedOrigins: ['null'] };
    for (const referer of ['data:text/html,<form>', 'about:blank']) {
      expect(checkRequestOrigin({ referer }, lax), referer).toEqual(
        refused('Referer is not from an allowed origin'),
      );
    }
  });
});
