/**
 * Cookie parsing and serialization (RFC 6265), with the `__Host-` and `__Secure-` prefix
 * rules enforced at serialization time.
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-4.1.3
 */

export interface CookieOptions {
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None';
  path?: string;
  domain?: string;
  /** Seconds; 0 deletes the cookie. Omit for a browser-session cookie. */
  maxAge?: number;
}

const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;
const PATH = /^\/[\x21-\x3A\x3C-\x7E]*$/;

/**
 * Serializes a Set-Cookie header value. Throws a TypeError for a name, value or attribute that
 * would break the header, and for a `__Host-` cookie that is not Secure, has a Domain or a Path
 * other than `/`.
 */
export function serializeCookie(name: string, value: string, options: CookieOptions = {}): string {
  if (!NAME.test(name)) throw new TypeError(`invalid cookie name "${name}"`);
  if (!VALUE.test(value)) throw new TypeError(`invalid value for cookie "${name}"`);
  if (name.startsWith('__Host-')) {
    if (options.secure !== true || options.domain !== undefined || (options.path ?? '/') !== '/') {
      throw new TypeError(`cookie "${name}": __Host- cookies must be Secure, have Path=/ and no Domain`);
    }
  }
  if (name.startsWith('__Secure-') && options.secure !== true) {
    throw new TypeError(`cookie "${name}": __Secure- cookies must be Secure`);
  }
  if (options.sameSite === 'None' && options.secure !== true) {
    throw new TypeError(`cookie "${name}": SameSite=None requires Secure`);
  }
  const parts = [`${name}=${value}`];
  const path = options.path ?? '/';
  if (!PATH.test(path)) throw new TypeError(`cookie "${name}": invalid path`);
  parts.push(`Path=${path}`);
  if (options.domain !== undefined) {
    if (!/^[A-Za-z0-9.-]+$/.test(options.domain)) throw new TypeError(`cookie "${name}": invalid domain`);
    parts.push(`Domain=${options.domain}`);
  }
  if (options.maxAge !== undefined) {
    const maxAge = Math.max(0, Math.floor(options.maxAge));
    parts.push(`Max-Age=${maxAge}`);
    if (maxAge === 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  }
  if (options.httpOnly === true) parts.push('HttpOnly');
  if (options.secure === true) parts.push('Secure');
  if (options.sameSite !== undefined) parts.push(`SameSite=${options.sameSite}`);
  const header = parts.join('; ');
  if (header.length > 4096) throw new TypeError(`cookie "${name}" exceeds 4096 bytes`);
  return header;
}

/**
 * Parses a Cookie request header. When a name appears more than once, the first occurrence
 * wins (browsers send the most specific path first). Values are not URI-decoded: every
 * cookie Latchkey sets is already in the safe alphabet. One pass over the header with
 * `indexOf` (no array of pairs): it runs on every authenticated request.
 */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (header === undefined || header === '' || header.length > 8192) return cookies;
  const end = header.length;
  // The next `=` at or after `start`, searched again only once passed: a header of many pairs
  // without `=` is still read in one pass.
  let eq = -1;
  for (let start = 0; start < end;) {
    let stop = header.indexOf(';', start);
    if (stop === -1) stop = end;
    if (eq < start) eq = header.indexOf('=', start);
    if (eq === -1) break;
    // A pair without `=`, or with nothing before it, is skipped.
    if (eq > start && eq < stop) {
      const name = header.slice(start, eq).trim();
      let value = header.slice(eq + 1, stop).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (NAME.test(name) && VALUE.test(value) && !cookies.has(name)) cookies.set(name, value);
    }
    start = stop + 1;
  }
  return cookies;
}
