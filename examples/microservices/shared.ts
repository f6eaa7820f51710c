/**
 * What the services of the example share: how a resource service builds its verifier (remote
 * JWKS + SSE revocation feed with its own client credentials + the CSRF key), the scope check
 * for machine clients, and small helpers to listen on a port and to close a server.
 *
 * In your own project, import from `latchkey/verify` and `latchkey/express` (or `latchkey/hono`);
 * the example imports the sources so that it runs without a build.
 */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deriveKey } from '../../src/lib/secrets.js';
import {
  createSSERevocationFeed,
  createVerifier,
  type Principal,
  type Verifier,
} from '../../src/verify/index.js';

/** Credentials of a machine client, as `clients.create` returned them. */
export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface ServiceVerifierOptions {
  /** The auth server's issuer (the gateway's public URL). */
  issuer: string;
  /** Audiences this service accepts (the first-party audience, and its own resource URL). */
  audience: readonly string[];
  /** The auth server's own URL, for the JWKS and the revocation feed (service-to-service). */
  authURL: string;
  /** The shared master secret: the CSRF key is derived from it, like the auth server does. */
  secret: string;
  /** This service's client credentials, for the revocation feed. */
  credentials: ClientCredentials;
  /** Told about feed disconnections (default: nothing). */
  onFeedError?: (error: Error) => void;
}

/** `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1). */
export function basicAuthorization(credentials: ClientCredentials): string {
  const pair = `${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

/** The CSRF key of the auth server: HKDF of `LATCHKEY_SECRET` with the purpose `csrf`. */
export function csrfKeyFromSecret(secret: string): Uint8Array {
  return deriveKey(Buffer.from(secret, 'utf8'), 'csrf');
}

/** A verifier that checks tokens locally and hears revocations over the SSE feed. */
export function createServiceVerifier(options: ServiceVerifierOptions): Verifier {
  const authorization = basicAuthorization(options.credentials);
  return createVerifier({
    issuer: options.issuer,
    audience: options.audience,
    algorithms: ['EdDSA'],
    jwksUri: `${options.authURL}/.well-known/jwks.json`,
    revocation: createSSERevocationFeed({
      url: `${options.authURL}/v1/revocations`,
      headers: { authorization },
      retryMs: 250,
      maxRetryMs: 5_000,
      ...(options.onFeedError === undefined ? {} : { onError: options.onFeedError }),
    }),
    csrf: { key: csrfKeyFromSecret(options.secret) },
  });
}

/** The JSON a service answers for its caller. */
export interface PrincipalView {
  sub: string;
  sid: string | null;
  clientId: string | null;
  scope: readonly string[];
  via: 'bearer' | 'cookie';
}

export function principalView(principal: Principal): PrincipalView {
  return {
    sub: principal.sub,
    sid: principal.sid,
    clientId: principal.clientId,
    scope: principal.scope,
    via: principal.via,
  };
}

/**
 * Machine clients (client-credentials tokens: no session) need the route's scope; users are
 * allowed by their session. Returns null when allowed, else the 403 to answer.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1 insufficient_scope
 */
export function scopeFailure(
  principal: Principal,
  scope: string,
  realm: string,
): { status: 403; headers: Record<string, string>; body: Record<string, unknown> } | null {
  if (principal.clientId === null || principal.sid !== null) return null;
  if (principal.scope.includes(scope)) return null;
  return {
    status: 403,
    headers: {
      'content-type': 'application/problem+json',
      'cache-control': 'no-store',
      'www-authenticate': `Bearer realm="${realm}", error="insufficient_scope", scope="${scope}"`,
    },
    body: {
      type: 'urn:latchkey:error:insufficient_scope',
      title: 'The token does not carry the scope this route needs',
      status: 403,
      code: 'insufficient_scope',
      detail: `This route needs the scope "${scope}"`,
    },
  };
}

/** Listens on 127.0.0.1 (port 0: any free port) and returns the base URL. */
export async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return `http://${host}:${address.port}`;
}

/** Closes a server, dropping idle and open connections (SSE streams stay open otherwise). */
export async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
