import type { CookieOptions } from '../cookies/cookies.js';

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
