import type { FastifyRequest } from 'fastify';
import type { Latchkey } from '../app/latchkey.js';
import type { Principal } from '../use-cases/index.js';
import { CSRF_HEADER, isUnsafeMethod, verifyCSRFToken } from '../csrf/csrf.js';
import { LatchkeyError } from '../errors.js';
import { parseCredential } from '../lib/secrets.js';
import type { CookieNames } from './auth-cookies.js';

export interface RequestPrincipal extends Principal {
  /** True when the credential came in a cookie (so CSRF rules applied). */
  cookie: boolean;
}

/** Error raised for a Bearer credential: the boundary adds the `invalid_token` challenge. */
export class BearerError extends LatchkeyError {}

function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!match?.[1]) throw new LatchkeyError('invalid_token', 'The Authorization header is not a Bearer token');
  return match[1];
}

/**
 * True when a request that carries both a session cookie and a hybrid access cookie (one browser
 * signed in both ways, as `/lab` does) names the hybrid session: its `X-CSRF-Token` is present and
 * is not the session cookie's. Either way the CSRF rule below still applies to what is chosen.
 */
function meansAccessCookie(latchkey: Latchkey, sessionCookie: string, csrf: string | undefined): boolean {
  if (csrf === undefined) return false;
  const credential = parseCredential(sessionCookie);
  return credential !== null && !verifyCSRFToken(latchkey.csrfKey, credential.id, csrf);
}

/**
 * {@link authenticateRequest} for the common request it can answer at once: a safe method, no
 * `Authorization` header, a session cookie and no access cookie, the session and its user held
 * by the near cache. The same checks and the same principal, synchronously: no promise, which
 * is a good part of a cached request's cost. Undefined for every other request and every
 * refusal: `authenticateRequest` then answers (and says why it refuses). Never throws.
 */
export function authenticateRequestFromCache(
  request: FastifyRequest,
  latchkey: Latchkey,
  names: CookieNames,
): RequestPrincipal | undefined {
  // An unsafe method needs the CSRF check, whose refusal is logged: the full path does it.
  if (request.headers.authorization !== undefined || isUnsafeMethod(request.method)) return undefined;
  const started = performance.now();
  const sessionCookie = request.cookies.get(names.session);
  if (sessionCookie === undefined || request.cookies.has(names.access)) return undefined;
  const principal = latchkey.auth.authenticateSessionTokenFromCache(sessionCookie, request.ip);
  if (principal === undefined) return undefined;
  request.authDuration = performance.now() - started;
  return {
    user: principal.user,
    session: principal.session,
    via: principal.via,
    ip: principal.ip,
    cookie: true,
  };
}

/**
 * Finds the caller of a request: a Bearer access token first (never sent by a browser on its
 * own, so no CSRF check), then the session cookie, then the hybrid access cookie. Cookie
 * credentials on unsafe methods need the session's CSRF token in `X-CSRF-Token`. The client's
 * address goes to the core, which counts the credentials we never issued (429 past the limit).
 * On success the time it took is kept in `request.authDuration` (the `Server-Timing` header).
 */
export async function authenticateRequest(
  request: FastifyRequest,
  latchkey: Latchkey,
  names: CookieNames,
): Promise<RequestPrincipal> {
  return (
    authenticateRequestFromCache(request, latchkey, names) ??
    authenticateRequestInFull(request, latchkey, names)
  );
}

/** {@link authenticateRequest} without trying the near cache's answer first. */
export async function authenticateRequestInFull(
  request: FastifyRequest,
  latchkey: Latchkey,
  names: CookieNames,
): Promise<RequestPrincipal> {
  const started = performance.now();
  const token = bearerToken(request.headers.authorization);
  if (token !== null) {
    try {
      const principal = await latchkey.auth.authenticateAccessToken(token, 'bearer', request.ip);
      request.authDuration = performance.now() - started;
      return { ...principal, cookie: false };
    } catch (error) {
      if (error instanceof LatchkeyError && error.status === 401) {
        throw new BearerError(error.code, error.message);
      }
      throw error;
    }
  }
  const header = request.headers[CSRF_HEADER];
  const csrf = typeof header === 'string' ? header : undefined;
  let sessionCookie = request.cookies.get(names.session);
  const accessCookie = request.cookies.get(names.access);
  if (sessionCookie !== undefined && accessCookie !== undefined) {
    if (meansAccessCookie(latchkey, sessionCookie, csrf)) sessionCookie = undefined;
  }
  let principal: Principal;
  if (sessionCookie !== undefined) {
    principal = await latchkey.auth.authenticateSessionToken(sessionCookie, request.ip);
  } else if (accessCookie !== undefined) {
    principal = await latchkey.auth.authenticateAccessToken(accessCookie, 'access-cookie', request.ip);
  } else {
    throw new LatchkeyError('unauthenticated');
  }
  if (isUnsafeMethod(request.method)) {
    if (!verifyCSRFToken(latchkey.csrfKey, principal.session.id, csrf)) {
      request.log.warn(
        {
          event: 'csrf.token_refused',
          userId: principal.user.id,
          sessionId: principal.session.id,
          ip: request.ip,
          missing: csrf === undefined,
        },
        'request refused: CSRF token missing or invalid',
      );
      throw new LatchkeyError(
        'csrf_failed',
        csrf === undefined ? 'X-CSRF-Token is missing' : 'X-CSRF-Token is invalid',
      );
    }
  }
  request.authDuration = performance.now() - started;
  return { ...principal, cookie: true };
}

/** The `Server-Timing` value of an authenticated response: the auth step, in milliseconds. */
export function serverTiming(durationMs: number): string {
  return `auth;dur=${durationMs.toFixed(2)}`;
}
