/**
 * Machine clients: OAuth 2.0 confidential clients that authenticate with a `client_id` and a
 * 256-bit secret, obtain access tokens with the client credentials grant, introspect tokens and
 * read the revocation feed. No HTTP here: the routes (`src/http/routes/oauth.ts`) parse the
 * request and map the errors.
 *
 * - Only the SHA-256 of a secret is stored; a presented secret is hashed and compared in
 *   constant time. An unknown client, a wrong secret and a disabled client fail alike
 *   (`invalid_client`), and each failure counts against the client id: after
 *   `maxFailures` in `failureWindowMs` the id is refused with `too_many_requests` until the
 *   window ends (also for the right secret, so that guessing gains nothing).
 * - Machine tokens carry `sub` = `client_id` = the client's id, `scope`, the requested audience
 *   and no `sid`: they are not sessions, and the server's own endpoints refuse them.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
 * @see https://www.rfc-editor.org/rfc/rfc7662
 */

import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { LatchkeyConfig } from '../config/config.js';
import { LatchkeyError } from '../errors.js';
import type { Keyring } from '../keys/keyring.js';
import { constantTimeEqual, randomId, randomSecret, sha256 } from '../lib/secrets.js';
import type { Store } from '../store.js';
import type { ClientRecord } from '../records.js';
import { signAccessToken } from '../token/jwt.js';
import { createIntrospector } from './introspection.js';

/** A scope token: printable ASCII except space, `"` and `\`. @see https://www.rfc-editor.org/rfc/rfc6749#section-3.3 */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
/** Longest client id looked up (ids made here are 22 characters). */
const MAX_CLIENT_ID_LENGTH = 128;
/** Longest secret hashed (secrets made here are 43 characters). */
const MAX_SECRET_LENGTH = 512;

/** Credentials presented by a client (RFC 6749 §2.3.1). */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** A new client and its secret, which is shown once and never stored. */
export interface CreatedClient {
  client: ClientRecord;
  secret: string;
}

/** The successful token response of the client credentials grant. @see https://www.rfc-editor.org/rfc/rfc6749#section-5.1 */
export interface ClientTokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

/** An RFC 7662 introspection response. An inactive token is `{ active: false }` and nothing else. */
export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      sub: string;
      sid?: string;
      scope?: string;
      client_id?: string;
      exp: number;
      iat: number;
      token_type: 'session' | 'access_token';
      /** How and when the user authenticated (a user's session or token; RFC 8176, OIDC). */
      amr?: readonly string[];
      auth_time?: number;
      acr?: string;
    };

export interface ClientService {
  /** Creates a client with a fresh id and secret. Throws `bad_request` for invalid scopes or audiences. */
  create(input: {
    name: string;
    scopes: readonly string[];
    audiences: readonly string[];
  }): Promise<CreatedClient>;
  list(options: { limit: number; after?: string }): Promise<ClientRecord[]>;
  /** Disables a client; false when there is no such client. */
  disable(id: string): Promise<boolean>;
  /**
   * Authenticates a client. Throws `invalid_client` (unknown, wrong secret or disabled: one
   * message for all) or `too_many_requests` (with `retryAfter`) when the id is throttled.
   */
  authenticate(credentials: ClientCredentials): Promise<ClientRecord>;
  /**
   * The client credentials grant for an authenticated client. `scope` (space-separated) must be
   * a subset of the client's scopes (default: all of them), else `invalid_scope`; `audience`
   * must be one of its audiences (default: the first), else `invalid_request`.
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4.2
   */
  issueToken(client: ClientRecord, request: { scope?: string; audience?: string }): ClientTokenResponse;
  /**
   * Introspects a session cookie value (`id.secret`) or an access token for an authenticated
   * caller. Sessions are checked without sliding their expiry. Access tokens are verified
   * strictly for the server's audience or one of the caller's audiences, then checked against
   * their session (user tokens) or their client (machine tokens). Refresh tokens, unknown,
   * expired and revoked values are `{ active: false }`, with no reason.
   * @see https://www.rfc-editor.org/rfc/rfc7662#section-2.2
   */
  introspect(caller: ClientRecord, token: string, hint?: string): Promise<IntrospectionResponse>;
  /**
   * A client-credentials access token issued for this server's own audience (the admin API):
   * its enabled client and the scopes it grants (those the client still holds); null for
   * anything else, a user's token included.
   */
  authenticateToken(token: string): Promise<{ client: ClientRecord; scopes: string[] } | null>;
}

export interface ClientServiceOptions {
  store: Store;
  clock: Clock;
  config: Pick<LatchkeyConfig, 'issuer' | 'audience' | 'accessTokenTTL' | 'jwtAlgorithm' | 'clockTolerance'>;
  keyring: Pick<Keyring, 'signingKey' | 'resolveVerificationKey'>;
  /** Failed authentications per client id before it is throttled. Default 10. */
  maxFailures?: number;
  /** The window of `maxFailures`. Default 1 min. */
  failureWindowMs?: number;
  /** Where creations and disablings are told (`client.created`, `client.disabled`). */
  logger?: Pick<Logger, 'info'> | undefined;
}

/** Splits and checks a space-separated scope string; throws `invalid_scope` when malformed. */
function parseScope(scope: string): string[] {
  const tokens = scope.split(' ').filter((token) => token !== '');
  if (tokens.length === 0 || !tokens.every((token) => SCOPE_TOKEN.test(token))) {
    throw new LatchkeyError('invalid_scope', 'The scope is malformed');
  }
  return [...new Set(tokens)];
}

function assertList(values: readonly string[], name: string, test: (value: string) => boolean): void {
  if (!Array.isArray(values) || !values.every((value) => typeof value === 'string' && test(value))) {
    throw new LatchkeyError('bad_request', `"${name}" holds an invalid value`);
  }
}

function isAudience(value: string): boolean {
  return value.length > 0 && value.length <= 512 && !/\s/.test(value) && !value.includes('\u0000');
}

/**
 * Creates the client service over a store and the keyring.
 *
 * @example
 * const clients = createClientService(latchkey);
 * const { client, secret } = await clients.create({
 *   name: 'orders', scopes: ['orders:read'], audiences: ['https://orders.example'],
 * });
 */
export function createClientService(options: ClientServiceOptions): ClientService {
  const { store, clock, config, keyring } = options;
  const maxFailures = options.maxFailures ?? 10;
  const failureWindowMs = options.failureWindowMs ?? 60_000;
  const ttl = Math.floor(config.accessTokenTTL / 1000);
  const introspector = createIntrospector({ store, clock, config, keyring });

  const throttleKey = (clientId: string): string => `client-auth:${sha256(clientId)}`;

  return {
    async create(input) {
      const name = typeof input.name === 'string' ? input.name.trim() : '';
      if (name === '' || name.length > 200)
        throw new LatchkeyError('bad_request', '"name" must be 1 to 200 characters');
      assertList(input.scopes, 'scopes', (value) => SCOPE_TOKEN.test(value));
      assertList(input.audiences, 'audiences', isAudience);
      if (input.audiences.length === 0)
        throw new LatchkeyError('bad_request', '"audiences" must not be empty');
      const secret = randomSecret();
      const client: ClientRecord = {
        id: randomId(),
        name,
        secretHash: sha256(secret),
        scopes: [...new Set(input.scopes)],
        audiences: [...new Set(input.audiences)],
        createdAt: clock(),
        disabledAt: null,
      };
      await store.createClient(client);
      options.logger?.info(
        { event: 'client.created', clientId: client.id, name: client.name },
        'machine client created',
      );
      return { client, secret };
    },

    list: (listOptions) => store.listClients(listOptions),

    async disable(id) {
      const disabled = await store.updateClient(id, { disabledAt: clock() });
      if (disabled)
        options.logger?.info({ event: 'client.disabled', clientId: id }, 'machine client disabled');
      return disabled;
    },

    async authenticate({ clientId, clientSecret }) {
      if (
        clientId.length === 0 ||
        clientId.length > MAX_CLIENT_ID_LENGTH ||
        clientSecret.length > MAX_SECRET_LENGTH
      ) {
        throw new LatchkeyError('invalid_client');
      }
      const key = throttleKey(clientId);
      const now = clock();
      const failures = await store.getCounter(key, now);
      if (failures !== null && failures.count >= maxFailures) {
        throw new LatchkeyError('too_many_requests', 'Too many failed client authentications', {
          retryAfter: Math.max(1, Math.ceil((failures.expiresAt - now) / 1000)),
        });
      }
      const client = await store.getClient(clientId);
      // Hash and compare even for an unknown client, so that timing does not tell them apart.
      const presented = sha256(clientSecret);
      const matches = constantTimeEqual(presented, client?.secretHash ?? sha256(''));
      if (client === null || !matches || client.disabledAt !== null) {
        await store.increment(key, failureWindowMs, now);
        throw new LatchkeyError('invalid_client');
      }
      return client;
    },

    issueToken(client, request) {
      const granted = request.scope === undefined ? [...client.scopes] : parseScope(request.scope);
      if (!granted.every((scope) => client.scopes.includes(scope))) {
        throw new LatchkeyError('invalid_scope', 'The scope exceeds what the client may request');
      }
      const audience = request.audience ?? client.audiences[0];
      if (audience === undefined || !client.audiences.includes(audience)) {
        throw new LatchkeyError('invalid_target', 'The audience is not one the client may request');
      }
      const iat = Math.floor(clock() / 1000);
      const scope = granted.join(' ');
      const token = signAccessToken(
        {
          iss: config.issuer,
          aud: audience,
          sub: client.id,
          client_id: client.id,
          scope,
          iat,
          exp: iat + ttl,
          jti: randomId(),
        },
        keyring.signingKey(),
      );
      return { access_token: token, token_type: 'Bearer', expires_in: ttl, scope };
    },

    introspect: (caller, token, hint) => introspector.introspect(caller, token, hint),
    authenticateToken: (token) => introspector.machineToken(token),
  };
}
