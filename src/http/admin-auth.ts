/**
 * Who may call `/v1/admin/...`: a machine client with the `admin` scope (HTTP Basic, or a
 * client-credentials access token issued for this server's audience with that scope), or a
 * signed-in user with the `admin` role (the session cookie, or the hybrid access cookie, with
 * `X-CSRF-Token` on unsafe methods; or a bearer access token of a session). Anyone else who
 * authenticates gets 403 `forbidden`, logged as `admin.forbidden`, before anything is read or
 * changed; no credential at all is 401.
 */

import type { FastifyRequest } from 'fastify';
import type { Latchkey } from '../app/latchkey.js';
import { LatchkeyError } from '../errors.js';
import type { AdminActor } from '../use-cases/index.js';
import type { CookieNames } from './auth-cookies.js';
import { authenticateRequest } from './authenticate.js';
import { authenticateClientBasic } from './routes/oauth.js';

/** The role a user needs. */
export const ADMIN_ROLE = 'admin';
/** The scope a machine client (or its access token) needs. */
export const ADMIN_SCOPE = 'admin';

function bearerOf(header: string | undefined): string | null {
  const match = header === undefined ? null : /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match?.[1] ?? null;
}

/**
 * The admin calling this request; throws 401 without a credential, 403 `forbidden` for a
 * caller who is not an admin.
 *
 * @example
 * const actor = await authorizeAdmin(request, latchkey, names);
 */
export async function authorizeAdmin(
  request: FastifyRequest,
  latchkey: Latchkey,
  names: CookieNames,
): Promise<AdminActor> {
  const header = request.headers.authorization;
  const ip = request.ip;
  if (header !== undefined && /^Basic /i.test(header)) {
    const client = await authenticateClientBasic(request, latchkey.clients);
    if (!client.scopes.includes(ADMIN_SCOPE)) refuse(latchkey, { clientId: client.id, ip }, 'scope');
    return { kind: 'client', clientId: client.id, ip };
  }
  const token = bearerOf(header);
  if (token !== null) {
    // A machine token for this server; a user's token (or anything else) goes the user's way.
    const machine = await latchkey.clients.authenticateToken(token);
    if (machine !== null) {
      if (!machine.scopes.includes(ADMIN_SCOPE))
        refuse(latchkey, { clientId: machine.client.id, ip }, 'scope');
      return { kind: 'client', clientId: machine.client.id, ip };
    }
  }
  const principal = await authenticateRequest(request, latchkey, names);
  const actor = { userId: principal.user.id, sessionId: principal.session.id, ip };
  if (!principal.user.roles.includes(ADMIN_ROLE)) refuse(latchkey, actor, 'role');
  return { kind: 'user', ...actor };
}

function refuse(latchkey: Latchkey, who: Record<string, string>, reason: 'scope' | 'role'): never {
  latchkey.logger.warn({ event: 'admin.forbidden', ...who, reason }, 'admin call refused');
  throw new LatchkeyError(
    'forbidden',
    reason === 'scope'
      ? `The client needs the "${ADMIN_SCOPE}" scope`
      : `The user needs the "${ADMIN_ROLE}" role`,
  );
}
