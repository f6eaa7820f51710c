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

  it('parses pairs around ones without `=`, and keeps an `=` inside a value', () => {
    const cookies = parseCookies(`${'x; '.repeat(500)}a=b=c; ;=; d; e=1`);
    expect([...cookies]).toEqual([
      ['a', 'b=c'],
      ['e', '1'],
    ]);
    expect([...parseCookies('a; b=2')]).toEqual([['b', '2']]);
    expect([...parseCookies('a=1;' + ';'.repeat(8000))]).toEqual([['a', '1']]);
  });

  it('serializes only the attributes asked for', () => {
    expect(serializeCookie('a', 'v')).toBe('a=v; Path=/');
    expect(serializeCookie('a', 'v', { httpOnly: false, secure: false })).toBe('a=v; Path=/');
    expect(serializeCookie('a', 'v', { path: '/v1/refresh', sameSite: 'Strict' })).toBe(
      'a=v; Path=/v1/refresh; SameSite=Strict',
    );
    expect(serializeCookie('a', '', { secure: true, sameSite: 'None' })).toBe(
      'a=; Path=/; Secure; SameSite=None',
    );
  });

  it('serializes a Domain, and refuses one that would break the header', () => {
    expect(serializeCookie('a', 'v', { domain: 'example.com' })).toBe('a=v; Path=/; Domain=example.com');
    for (const domain of ['example.com; Secure', 'evil example', '', 'ex\u00e4mple.com']) {
      expect(() => serializeCookie('a', 'v', { domain }), domain).toThrow('cookie "a": invalid domain');
    }
  });

  it('deletes with Max-Age=0 and an Expires in the past; a lifetime is whole seconds, never negative', () => {
    expect(serializeCookie('a', '', { maxAge: 0 })).toBe(
      'a=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
    );
    expect(serializeCookie('a', '', { maxAge: -5 })).toBe(
      'a=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
    );
    expect(serializeCookie('a', 'v', { maxAge: 59.9 })).toBe('a=v; Path=/; Max-Age=59');
  });

  it('SameSite=None needs Secure, and only then', () => {
    expect(() => serializeCookie('a', 'v', { sameSite: 'None', secure: false })).toThrow(
      'cookie "a": SameSite=None requires Secure',
    );
    expect(() => serializeCookie('a', 'v', { sameSite: 'Lax' })).not.toThrow();
    expect(() => serializeCookie('a', 'v', { sameSite: 'Strict', secure: false })).not.toThrow();
  });

  it('names the cookie and the rule in every refusal', () => {
    expect(() => serializeCookie('a;b', 'v')).toThrow('invalid cookie name "a;b"');
    expect(() => serializeCookie('a', 'v;')).toThrow('invalid value for cookie "a"');
    expect(() => serializeCookie('a', 'v', { path: 'v1/refresh' })).toThrow('cookie "a": invalid path');
    expect(() => serializeCookie('a', 'v', { path: '/a b' })).toThrow('cookie "a": invalid path');
    expect(() => serializeCookie('a', 'v'.repeat(4096))).toThrow('cookie "a" exceeds 4096 bytes');
  });

  it('serializes a header of up to 4096 characters, none beyond', () => {
    // 'a=' and '; Path=/' take 10 characters.
    expect(serializeCookie('a', 'v'.repeat(4086))).toHaveLength(4096);
    expect(() => serializeCookie('a', 'v'.repeat(4087))).toThrow('cookie "a" exceeds 4096 bytes');
  });

  it('accepts a Cookie header up to 8192 characters, none beyond', () => {
    const header = (length: number): string => `a=1; b=${'x'.repeat(length - 7)}`;
    expect(header(8192)).toHaveLength(8192);
    expect(parseCookies(header(8192)).get('a')).toBe('1');
    expect(parseCookies(header(8193)).size).toBe(0);
    expect(parseCookies('').size).toBe(0);
    expect(parseCookies(undefined).size).toBe(0);
  });

  it('skips a pair without "=", trims around names and values, and unquotes only a whole quoted value', () => {
    const cookies = parseCookies('flag; a = 123 ; b="xy"; c=ab"; d="ab; e=""; f="');
    expect([...cookies]).toEqual([
      ['a', '123'],
      ['b', 'xy'],
      ['e', ''],
    ]);
  });
});
