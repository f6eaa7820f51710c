import { describe, expect, it } from 'vitest';
import { parseCookies, serializeCookie } from '../../src/cookies/cookies.js';

describe('cookies', () => {
  it('serializes a __Host- cookie with its required attributes', () => {
    expect(
      serializeCookie('__Host-a', 'v', { secure: true, httpOnly: true, sameSite: 'Lax', maxAge: 60 }),
    ).toBe('__Host-a=v; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax');
  });

  it('refuses __Host- cookies that are not Secure, have a Domain or another Path', () => {
    expect(() => serializeCookie('__Host-a', 'v', {})).toThrow(/__Host-/);
    expect(() => serializeCookie('__Host-a', 'v', { secure: true, domain: 'example.com' })).toThrow(
      /__Host-/,
    );
    expect(() => serializeCookie('__Host-a', 'v', { secure: true, path: '/v1' })).toThrow(/__Host-/);
    expect(() => serializeCookie('__Secure-a', 'v', {})).toThrow(/__Secure-/);
    expect(() => serializeCookie('a', 'v', { sameSite: 'None' })).toThrow(/SameSite=None/);
  });

  it('refuses header injection through names, values and paths', () => {
    expect(() => serializeCookie('a;b', 'v')).toThrow();
    expect(() => serializeCookie('a', 'v; Domain=evil.example')).toThrow();
    expect(() => serializeCookie('a', 'v\r\nSet-Cookie: x=y')).toThrow();
    expect(() => serializeCookie('a', 'v', { path: '/;Domain=evil' })).toThrow();
  });

  it('parses a Cookie header; the first of duplicate names wins; junk is skipped', () => {
    const cookies = parseCookies('a=1; b=2; a=3; bad name=4; c="5"; =6; d');
    expect(cookies.get('a')).toBe('1');
    expect(cookies.get('b')).toBe('2');
    expect(cookies.get('c')).toBe('5');
    expect(cookies.has('bad name')).toBe(false);
    expect(cookies.size).toBe(3);
    expect(parseCookies('x'.repeat(9000)).size).toBe(0);
  });
});
