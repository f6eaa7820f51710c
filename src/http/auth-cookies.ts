/**
 * The cookies the server sets, in one place: their names and attributes (`__Host-` and
 * `__Secure-` in secure mode, plain names for dev-only insecure mode), and the functions that
 * set and clear them on a reply.
 */

import type { FastifyReply } from 'fastify';
import { serializeCookie, type CookieOptions } from '../cookies/cookies.js';

/** Names and attributes of the cookies the server sets, for secure and (dev-only) insecure modes. */
export interface CookieNames {
  session: string;
  access: string;
  refresh: string;
  device: string;
  secure: boolean;
  refreshPath: string;
}

export function cookieNames(insecure: boolean): CookieNames {
  return insecure
    ? {
        session: 'latchkey_session',
        access: 'latchkey_access',
        refresh: 'latchkey_refresh',
        device: 'latchkey_device',
        secure: false,
        refreshPath: '/v1/refresh',
      }
    : {
        session: '__Host-latchkey_session',
        access: '__Host-latchkey_access',
        // Scoped to the refresh path, so it cannot be a __Host- cookie (those need Path=/).
        refresh: '__Secure-latchkey_refresh',
        device: '__Host-latchkey_device',
        secure: true,
        refreshPath: '/v1/refresh',
      };
}

export function baseCookie(names: CookieNames): CookieOptions {
  return { httpOnly: true, secure: names.secure, sameSite: 'Lax', path: '/' };
}

/** The device cookie (its own login budget, OWASP) lives a year. */
const DEVICE_COOKIE_MAX_AGE = 31_536_000;

/** The `Set-Cookie` value of the device cookie. */
export function deviceCookie(names: CookieNames, value: string): string {
  return serializeCookie(names.device, value, {
    ...baseCookie(names),
    sameSite: 'Strict',
    maxAge: DEVICE_COOKIE_MAX_AGE,
  });
}

/** What decides a credential cookie's lifetime: "remember me", and the session's absolute expiry. */
export interface CookieLifetime {
  persistent: boolean;
  absoluteExpiresAt: number;
}

/**
 * The `Max-Age` of a credential cookie: none (the cookie ends with the browser, OWASP's
 * default for session cookies) unless the client asked to be remembered; then `seconds`,
 * which never reaches past the session's absolute expiry.
 */
function lifetime(session: CookieLifetime, now: number, seconds?: number): { maxAge?: number } {
  if (!session.persistent) return {};
  const untilEnd = Math.floor((session.absoluteExpiresAt - now) / 1000);
  return { maxAge: seconds === undefined ? untilEnd : Math.min(seconds, untilEnd) };
}

/** The `Set-Cookie` value of a cookie-mode session credential. */
export function sessionCookie(
  names: CookieNames,
  token: string,
  session: CookieLifetime,
  now: number,
): string {
  return serializeCookie(names.session, token, { ...baseCookie(names), ...lifetime(session, now) });
}

/** Sets the hybrid access cookie and the refresh cookie (scoped to the refresh path), plus `extra`. */
export function setHybridCookies(
  reply: FastifyReply,
  names: CookieNames,
  result: {
    accessToken: { token: string; expiresIn: number };
    refreshToken: string;
    session: CookieLifetime;
  },
  now: number,
  extra: string[] = [],
): void {
  const base = baseCookie(names);
  const { session } = result;
  void reply.header('set-cookie', [
    serializeCookie(names.access, result.accessToken.token, {
      ...base,
      ...lifetime(session, now, result.accessToken.expiresIn),
    }),
    serializeCookie(names.refresh, result.refreshToken, {
      ...base,
      sameSite: 'Strict',
      path: names.refreshPath,
      ...lifetime(session, now),
    }),
    ...extra,
  ]);
}

/** Clears every credential cookie (session, access, refresh); the device cookie stays. */
export function clearAuthCookies(reply: FastifyReply, names: CookieNames): void {
  const base = baseCookie(names);
  void reply.header('set-cookie', [
    serializeCookie(names.session, '', { ...base, maxAge: 0 }),
    serializeCookie(names.access, '', { ...base, maxAge: 0 }),
    serializeCookie(names.refresh, '', { ...base, sameSite: 'Strict', path: names.refreshPath, maxAge: 0 }),
  ]);
}
