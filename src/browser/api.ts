/**
 * The Latchkey endpoints the client calls on its own behalf (login, refresh), and the shaping
 * of their answers into the credentials the tabs share.
 */

import { errorFromResponse, networkError } from './errors.js';
import type { ClientMode, Credentials, SessionSummary, User } from './types.js';

/** `path` (starting with `/`) under the base URL, which may itself have a path. */
export function endpoint(baseUrl: string, path: string): string {
  return new URL(path.slice(1), `${baseUrl.replace(/\/+$/, '')}/`).toString();
}

/** Sends a request and answers its JSON body; a refusal is a `LatchkeyClientError`. */
export async function sendJSON(
  request: Request,
  send: (request: Request) => Promise<Response>,
): Promise<unknown> {
  let response: Response;
  try {
    response = await send(request);
  } catch (error) {
    throw networkError(error);
  }
  if (!response.ok) throw await errorFromResponse(response);
  if (response.status === 204) return undefined;
  return response.json();
}

export function jsonRequest(url: string, method: string, body?: unknown, init: RequestInit = {}): Request {
  return body === undefined
    ? new Request(url, { ...init, method })
    : new Request(url, {
        ...init,
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
}

interface SignedInAnswer {
  user?: User;
  session?: SessionSummary;
  csrf_token?: string;
  expires_in?: number;
  access_token?: string;
  refresh_token?: string;
}

/** The credentials of a login or refresh answer; `previous` keeps what a refresh does not repeat. */
export function credentialsOf(
  mode: ClientMode,
  answer: unknown,
  options: { version: number; now: number; previous?: Credentials | null },
): Credentials {
  const body = (answer ?? {}) as SignedInAnswer;
  const { previous = null, now } = options;
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : 0;
  return {
    version: options.version,
    issuedAt: now,
    // `exp` counts whole seconds from a rounded-down `iat`: up to a second less than `expires_in`.
    expiresAt: now + Math.max(expiresIn * 1000 - 1000, expiresIn * 500),
    csrf: mode === 'hybrid' ? (body.csrf_token ?? previous?.csrf ?? null) : null,
    accessToken: mode === 'token' ? (body.access_token ?? null) : null,
    refreshToken: mode === 'token' ? (body.refresh_token ?? null) : null,
    user: body.user ?? previous?.user ?? null,
    session: body.session ?? previous?.session ?? null,
  };
}

/** The refresh request of a mode: the refresh cookie plus the CSRF header, or the token in the body. */
export function refreshRequest(baseUrl: string, mode: ClientMode, credentials: Credentials): Request {
  const url = endpoint(baseUrl, '/v1/refresh');
  if (mode === 'hybrid') {
    return new Request(url, {
      method: 'POST',
      credentials: 'include',
      headers: { 'x-csrf-token': credentials.csrf ?? '' },
    });
  }
  return jsonRequest(url, 'POST', { refresh_token: credentials.refreshToken ?? '' }, { credentials: 'omit' });
}

/** `request` with the credentials of the mode: the Bearer token, or the cookies and the CSRF header. */
export function authorize(request: Request, mode: ClientMode, held: Credentials | null): Request {
  const headers = new Headers(request.headers);
  if (held?.accessToken) headers.set('authorization', `Bearer ${held.accessToken}`);
  if (held?.csrf) headers.set('x-csrf-token', held.csrf);
  return new Request(request, { headers, credentials: mode === 'hybrid' ? 'include' : request.credentials });
}
